"""Accountability: who may do what (operators and roles), four-eyes approval of releases,
and the append-only audit log.

How a command takes part. A command that changes anything names its actor and writes one
audit entry in the transaction that makes the change, so that neither can exist without
the other:

    from distribution.accountability import Role, record

    with app.transaction() as session:                      # the CLI's App
        actor = app.acting(session, Role.EDITOR, "list.rename", f"list {old}")
        ...the change...
        record(session, actor, "list.rename", f"list {new}", f"renamed {old} -> {new}")

`app.acting` (distribution/cli/app.py) calls `acting` below with the operator named by
`--as NAME` or PRESSROOM_OPERATOR and this process's host and pid: with no operators at
all it lets anyone through (recorded under the name given, else the system user's);
otherwise it raises `Refused` for a missing or unknown operator or a role below `need`.
`App.transaction` rolls the change back and records the refusal in a transaction of its
own. Roles: EDITOR (draft, import, send approved releases, steer sends), APPROVER (also
approve), ADMIN (also operators, lists and settings).

A command that changes a release's content or embargo calls, instead of `record`,
`release_changed(session, actor, release, "release.edit", "summary")`: the release's
revision goes up, which voids an approval, and the entry is written. Sending checks
`check_approved(release, actor, settings.require_approval)`.

Others: the web and mailed unsubscriptions act as `subscriber_actor(contact_id, origin)`;
the sweep and workers as `system_actor()`. Actions are "<noun>.<verb>" (release.add,
send.paused, list.create, contacts.import, subscription.confirm); a refusal is logged as
the action followed by ".refused". `pressroom log` reads the log; nothing edits it (a
trigger refuses UPDATE and DELETE on both databases).
"""

from distribution.accountability import approval
from distribution.accountability.actors import (
    Actor,
    Refused,
    Role,
    acting,
    process_origin,
    require,
    subscriber_actor,
    system_actor,
)
from distribution.accountability.approval import check_approved, release_added, release_changed
from distribution.accountability.log import record, record_refusal

__all__ = [
    "Actor", "Refused", "approval", "Role", "acting", "check_approved", "process_origin", "record",
    "record_refusal", "release_added", "release_changed", "require", "subscriber_actor",
    "system_actor",
]
