"""Private data stays private: the data directory, the SQLite database and its -wal/-shm
files, the outbox messages and the signing key are made 0700/0600 whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.cli import Cli

RELEASE = "Headline for the private test\n\nBody of the release.\n\n-ENDS-\n"


@pytest.fixture
def open_umask() -> Iterator[None]:
    previous = os.umask(0)  # the worst case: every file world-writable unless made private
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_database_outbox_and_key_are_private(tmp_path, open_umask):
    home = tmp_path / "home"
    cli = Cli({"PRESSROOM_HOME": str(home), "PRESSROOM_DATABASE_URL": "",
               "PRESSROOM_OUTBOX": "", "PRESSROOM_SECRET_KEY": "",
               "PRESSROOM_FROM": "Press <press@iiim.example.org>",
               "PRESSROOM_TIMEZONE": "Europe/Zurich", "PRESSROOM_SMTP_URL": "",
               "PRESSROOM_BROKER_URL": "", "PRESSROOM_CONFIG": ""})
    assert cli("init").exit_code == 0
    release = tmp_path / "r.txt"
    release.write_text(RELEASE, "utf-8")
    assert cli("release", "add", str(release)).exit_code == 0
    sent = cli("send", "1", "--test-to", "desk@news.example.com")
    assert sent.exit_code == 0, sent.output
    assert mode(home) == 0o700
    private = [home / "pressroom.db", home / "secret_key", *(home / "outbox").glob("*.eml")]
    assert len(private) == 3
    for path in private:
        assert mode(path) == 0o600, path
    assert mode(home / "outbox") == 0o700
    for suffix in ("-wal", "-shm"):
        companion = home / f"pressroom.db{suffix}"
        if companion.exists():
            assert mode(companion) == 0o600, companion


def test_an_unusable_sqlite_path_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cli = Cli({"PRESSROOM_HOME": str(tmp_path / "home"),
               "PRESSROOM_DATABASE_URL": f"sqlite:///{blocker}/sub/pressroom.db",
               "PRESSROOM_SECRET_KEY": "k", "PRESSROOM_CONFIG": ""})
    result = cli.runner.invoke(__import__("distribution.cli", fromlist=["main"]).main,
                               ["init"], env=cli.env)
    assert result.exit_code == 1
    assert "cannot use the SQLite database" in result.output
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
