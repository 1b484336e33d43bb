"""The benchmark's material: settings, a release, a list of N contacts, reference messages.

The release is a real one from the shared samples; every measured sender sends a message of
the size Pressroom renders for it, so the rows of a run compare like with like.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.import_contacts import write_csv
from config import Settings, load_settings
from distribution.audience.contacts import import_contacts
from distribution.audience.lists import create_list
from distribution.mail import tokens
from distribution.mail.draft import draft_for
from distribution.mail.render import Recipient, load_templates, prepare
from distribution.releases import catalogue
from distribution.releases.parse import read_release_file
from distribution.store.db import make_engine, session_factory, transaction, upgrade
from distribution.store.models import Base, Release

# The project's copies of the sample releases (tests/data/releases).
SAMPLES = Path(os.environ.get("PRESSROOM_SAMPLES",
                              Path(__file__).resolve().parent.parent / "tests/data/releases"))
# The sample whose rendered message is closest to the 6 KB of issue 5's measurements.
DEFAULT_RELEASE = SAMPLES / "08-ministerial-briefing.txt"
DOMAINS = 2_000  # a press list has many addresses per outlet


def environment(workdir: Path, database_url: str, smtp_url: str,
                broker_url: str = "") -> dict[str, str]:
    """PRESSROOM_* for every process of a scenario; nothing from the user's own setup."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSROOM_")}
    env.update({
        "PRESSROOM_HOME": str(workdir / "home"),
        "PRESSROOM_DATABASE_URL": database_url,
        "PRESSROOM_BROKER_URL": broker_url,
        "PRESSROOM_SMTP_URL": smtp_url,
        "PRESSROOM_FROM": "IIIM Press Office <press@iiim.example.org>",
        "PRESSROOM_BASE_URL": "https://press.iiim.example.org",
        "PRESSROOM_SECRET_KEY": "bench-secret-key",
        "PRESSROOM_ORG_NAME": "International, Impartial and Independent Mechanism",
        "PRESSROOM_ORG_ADDRESS": "Palais des Nations, 1211 Geneva 10, Switzerland",
        "PRESSROOM_ORG_CONTACT": "IIIM Media Office <media@iiim.example.org>",
        "PRESSROOM_TIMEZONE": "Europe/Zurich",
    })
    return env


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(environ=env)


def pressroom_argv(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("pressroom")
    return [str(script), *args] if script.exists() else [
        sys.executable, "-c", "from distribution.cli import main; main()", *args]


def add_release(factory, release_file: Path) -> int:  # type: ignore[no-untyped-def]
    parsed = read_release_file(release_file)
    with transaction(factory) as session:
        release = catalogue.add_release(session, parsed, embargo=None, language=None,
                                        contacts=[], source_name=release_file.name,
                                        now=datetime.now(UTC))
        return release.id


def add_audience(factory, workdir: Path, list_name: str, n: int) -> None:  # type: ignore[no-untyped-def]
    """A public list of N new contacts, imported as an operator would (CSV)."""
    path = workdir / f"{list_name}.csv"
    write_csv(path, n, min(DOMAINS, n))
    with transaction(factory) as session:
        create_list(session, list_name)
    with transaction(factory) as session:
        report = import_contacts(session, path, list_name=list_name)
    if report.subscribed != n:
        raise RuntimeError(f"{list_name}: {report.subscribed} of {n} contacts subscribed")
    path.unlink()


def open_store(url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(url)
    upgrade(engine)
    return engine, session_factory(engine)


def sample_release(release_file: Path) -> Release:
    """A transient Release, stored and read back the way `release add` does it."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        release = catalogue.add_release(session, read_release_file(release_file), embargo=None,
                                        language=None, contacts=[], source_name=None,
                                        now=datetime.now(UTC))
        session.flush()
        session.expunge(release)
    engine.dispose()
    return release


def recipient(settings: Settings, i: int) -> Recipient:
    email = f"reporter{i}@outlet{i % DOMAINS}.example.com"
    unsubscribe_url, preferences_url, mailto = tokens.RecipientLinks(settings).links(i, 1)
    return Recipient(
        email=email, name=f"Reporter {i}", timezone=None,
        message_id=f"<pressroom.1.{i}@{settings.sender_domain}>",
        unsubscribe_url=unsubscribe_url, preferences_url=preferences_url,
        unsubscribe_mailto=mailto,
    )


@dataclass(frozen=True)
class References:
    size: int            # bytes of Pressroom's rendered message
    eml: Path            # one rendered message (smtp-source -F)
    template: Path       # the same with @@TO@@, @@MID@@, @@TOKEN@@ (bare loop)
    content: Path        # subject, text, html as JSON (naive sender)


def write_references(settings: Settings, release_file: Path, folder: Path) -> References:
    """Pressroom's own rendering of the release, in the forms the reference senders read."""
    release = sample_release(release_file)
    templates = load_templates(settings)
    who = recipient(settings, 7)
    data = prepare(release, settings, templates, marked=False,
                   list_name="media").personalise(who)
    token = who.unsubscribe_url.rsplit("/", 1)[1]
    eml, template = folder / "message.eml", folder / "template.eml"
    content = folder / "content.json"
    eml.write_bytes(data.replace(b"\r\n", b"\n"))  # smtp-source appends CRLF to each line
    template.write_bytes(data.replace(who.email.encode(), b"@@TO@@")
                         .replace(who.message_id.encode(), b"@@MID@@")
                         .replace(token.encode(), b"@@TOKEN@@"))
    draft = draft_for(release, settings, templates, marked=False, list_name="media",
                      kind="release", note=None)
    subject, text, html = draft.render(None, {"unsubscribe_url": who.unsubscribe_url,
                                              "preferences_url": who.preferences_url})
    content.write_text(json.dumps({"from": settings.from_addr, "subject": subject,
                                   "text": text, "html": html}), "utf-8")
    return References(len(data), eml, template, content)
