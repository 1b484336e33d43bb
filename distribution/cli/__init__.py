"""The `pressroom` command line."""

import logging
import os
import sys

import click

from distribution.cli.lazy import Lazy, LazyGroup

# Each command's module is imported when the command runs, so that `pressroom send` loads
# only what sending needs. The summaries are what `--help` lists: keep them the same as the
# first line of each command's docstring.
COMMANDS = {
    "beat": Lazy("distribution.cli.service.worker:beat",
                 "Run the periodic sweep alone (Celery beat)."),
    "bounces": Lazy("distribution.cli.sending.bounces:bounces",
                    "Apply bounces and complaints mailed back to the bounce address."),
    "cancel": Lazy("distribution.cli.sending.operate:cancel",
                   "Cancel a distribution; nothing more is sent."),
    "config": Lazy("distribution.cli.service.admin:show_config",
                   "Print the effective settings, secrets masked."),
    "contacts": Lazy("distribution.cli.audience.contacts:contacts_group",
                     "Journalists and subscribers: import them from CSV, list them."),
    "demo": Lazy("distribution.cli.service.demo:demo",
                 "Load a sample release and lists into a demo database of their own, and send it."),
    "distributions": Lazy("distribution.cli.sending.operate:list_distributions",
                          "The latest distributions, newest first."),
    "doctor": Lazy("distribution.cli.service.doctor:doctor",
                   "Check DNS (SPF, DKIM, DMARC), the relay and the links before sending."),
    "init": Lazy("distribution.cli.service.admin:init",
                 "Create the database, or upgrade it to the current schema."),
    "lists": Lazy("distribution.cli.audience.lists:lists_group",
                  "Mailing lists: trusted media lists and public lists."),
    "log": Lazy("distribution.cli.accountability.log:show_log",
                "The audit log: who changed what, when and from where."),
    "operators": Lazy("distribution.cli.accountability.operators:operators_group",
                      "Operators and their roles: add, list, remove, set-role."),
    "pause": Lazy("distribution.cli.sending.operate:pause",
                  "Pause a distribution; batches stop within one group of messages."),
    "release": Lazy("distribution.cli.releases.release:release",
                    "Add, edit, delete, inspect, preview, re-embargo and correct press releases."),
    "report": Lazy("distribution.cli.sending.report:report",
                   "Each recipient of a distribution: list, status, time, the server's reply, "
                   "bounces."),
    "resume": Lazy("distribution.cli.sending.operate:resume",
                   "Resume a paused (or late) distribution."),
    "retry": Lazy("distribution.cli.sending.operate:retry",
                  "Send again to the recipients that failed."),
    "segments": Lazy("distribution.cli.audience.segments:segments_group",
                     "Saved audiences: lists narrowed by beat, country, language… sent to by "
                     "name."),
    "send": Lazy("distribution.cli.sending.send:send",
                 "Send release RELEASE_ID to the subscribed members of the lists."),
    "status": Lazy("distribution.cli.sending.operate:show_status",
                   "Progress of a distribution (the latest one when no id is given)."),
    "unsubscribe-mail": Lazy("distribution.cli.audience.mailed:unsubscribe_mail",
                             "Apply unsubscribe requests mailed to the List-Unsubscribe "
                             "address."),
    "web": Lazy("distribution.cli.service.web:web",
                "Serve unsubscribe, sign-up and preference pages, and the newsroom (uvicorn)."),
    "worker": Lazy("distribution.cli.service.worker:worker",
                   "Deliver distributions as they fall due (Celery with a broker, else "
                   "in-process)."),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              envvar="PRESSROOM_CONFIG", help="TOML settings file (see `pressroom config`).")
@click.option("--as", "operator", metavar="NAME", envvar="PRESSROOM_OPERATOR",
              help="The operator you act as (see `pressroom operators`).")
@click.version_option(package_name="pressroom")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, operator: str | None) -> None:
    """Pressroom: send press releases to media lists and subscribers."""
    from distribution.cli.app import App  # not above: `--help` needs none of what it imports

    ctx.obj = app = App(config_file=config_file, operator=operator or None)
    ctx.call_on_close(app.close)


def run() -> None:
    """The console script: the command, then an exit that skips tearing the interpreter
    down. Freeing every module's objects one by one took 0.3 s of CPU after `pressroom
    send` had handed the distribution to the workers, CPU the first batches were waiting
    for. Whatever holds a connection or a file is closed by then (the App on click's
    close, the rest by `with` blocks); the streams and logging are flushed here."""
    try:
        main()
        code = 0
    except SystemExit as done:  # click ends every command with one
        code = _exit_code(done.code)
    # The streams as the command left them, and the originals a worker may have swapped.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    logging.shutdown()
    os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") means: say it, exit 1
    return 1
