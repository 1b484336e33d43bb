"""`pressroom bounces --imap`: a real Dovecot folder of bounces, read and marked seen."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from distribution.cli import main
from distribution.deliverability.mailed_back import MAX_BYTES
from tests.fixtures.bounces import arf, auto_reply, dsn
from tests.fixtures.imapserver import ImapServer
from tests.fixtures.services import free_port, wait_until
from tests.test_bounces import Sent

HELLO = b"From: someone@example.net\r\nSubject: hello\r\n\r\nJust saying hi.\r\n"


@pytest.fixture
def sent(tmp_path, sqlite_store, smtp_server):
    return Sent(tmp_path, sqlite_store, smtp_server)


def bounces(sent: Sent, url: str, **env: str) -> Result:
    return CliRunner().invoke(main, ["bounces", "--imap", url], env={**sent.env, **env},
                              catch_exceptions=False)


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_bounces_and_complaints_are_applied_and_every_message_read_is_marked_seen(
        sent, imap_server):
    imap_server.deliver(dsn(sent.sender("a@example.org"), "a@example.org"),
                        arf(sent.sender("c@example.org"), "c@example.org",
                            sent.original("c@example.org")),
                        HELLO, auto_reply(sent.sender("b@example.org")))
    result = bounces(sent, imap_server.url())
    assert result.exit_code == 0, result.output
    assert (sent.row("a@example.org").status, sent.row("c@example.org").status,
            sent.row("b@example.org").status) == ("bounced", "complained", "sent")
    assert set(sent.suppressed()) == {"a@example.org", "c@example.org"}
    # What is left alone is reported, and marked seen too: else every run reads it again.
    assert "INBOX 3: unrecognised: neither a bounce nor a complaint" in result.stdout
    assert "INBOX 4: autoreply" in result.stdout
    assert "IMAP folder INBOX: 4 message(s) handled, each marked seen" in result.stdout
    assert imap_server.unseen() == []


def test_a_second_run_reads_nothing_and_changes_nothing(sent, imap_server):
    imap_server.deliver(dsn(sent.sender("a@example.org"), "a@example.org"), HELLO)
    assert bounces(sent, imap_server.url()).exit_code == 0
    before = (sent.suppressed(), sent.bounce_rows(), imap_server.flags())
    again = bounces(sent, imap_server.url())
    assert again.exit_code == 0 and again.stdout == "IMAP folder INBOX: no unseen messages\n"
    assert (sent.suppressed(), sent.bounce_rows(), imap_server.flags()) == before


def test_a_message_over_the_size_cap_is_reported_skipped_and_the_rest_read(sent, imap_server):
    huge = dsn(sent.sender("a@example.org"), "a@example.org") + b"x" * (3 * MAX_BYTES)
    imap_server.deliver(huge, dsn(sent.sender("b@example.org"), "b@example.org"))
    result = bounces(sent, imap_server.url())
    assert result.exit_code == 0, result.output
    assert "INBOX 1: skipped: larger than 5 MB; left alone" in result.stdout
    assert set(sent.suppressed()) == {"b@example.org"}
    assert imap_server.unseen() == []
    # Fetched no further than the cap: 15 MB never crossed the wire.
    wait_until(lambda: len(imap_server.bytes_sent()) >= 3, timeout=10,
               what="dovecot logging the end of each session", explain=imap_server.tail)
    assert MAX_BYTES < max(imap_server.bytes_sent()) < 2 * MAX_BYTES


@pytest.mark.parametrize(("case", "said"), [
    ("wrong password", "refused the login of 'bounces': [AUTHENTICATIONFAILED]"),
    ("unknown folder", "cannot open the folder 'Bounces/2025'"),
    ("nobody listening", "cannot use the IMAP server 127.0.0.1:"),
])
def test_a_folder_that_cannot_be_read_is_one_line_and_changes_nothing(
        sent, imap_server, case, said):
    imap_server.deliver(dsn(sent.sender("a@example.org"), "a@example.org"))
    url = {"wrong password": imap_server.url(password="guess"),
           "unknown folder": imap_server.url("Bounces/2025"),
           "nobody listening": imap_server.url(port=free_port())}[case]
    assert said in _one_line_error(bounces(sent, url))
    assert sent.suppressed() == {} and imap_server.unseen() == [1]


@pytest.mark.parametrize(("url", "said"), [
    ("imap://u:p@[::1/INBOX", "--imap must be imap://"),  # a bracket left open
    (f"imap://u:p@{'a' * 64}.example/INBOX", "not a valid domain name"),
    ("imap://u:p@127.0.0.1:0/INBOX", "the port is not a number from 1 to 65535"),
])
def test_an_address_that_cannot_be_used_is_one_line(sent, url, said):
    assert said in _one_line_error(bounces(sent, url))
    assert sent.suppressed() == {}


def test_files_and_a_folder_together_are_refused(sent, imap_server, tmp_path):
    path = tmp_path / "one.eml"
    path.write_bytes(HELLO)
    result = CliRunner().invoke(main, ["bounces", "--imap", imap_server.url(), str(path)],
                                env=sent.env)
    assert result.exit_code == 2 and "not both" in result.stderr


def test_a_database_that_refuses_midway_leaves_the_messages_not_handled_unseen(
        tmp_path, pg_store, smtp_server, imap_server):
    sent = Sent(tmp_path, pg_store, smtp_server)
    imap_server.deliver(*(dsn(sent.sender(a), a) for a in
                          ("a@example.org", "b@example.org", "c@example.org")))
    # The disk fills as b's bounce is written: the database refuses that transaction.
    with pg_store.engine.begin() as conn:
        conn.execute(text("""
            CREATE FUNCTION disk_full() RETURNS trigger AS $$ BEGIN
              IF NEW.email = 'b@example.org' THEN RAISE EXCEPTION
                'could not extend file: No space left on device' USING ERRCODE = 'disk_full';
              END IF; RETURN NEW; END $$ LANGUAGE plpgsql"""))
        conn.execute(text("CREATE TRIGGER disk_full BEFORE INSERT ON bounces "
                          "FOR EACH ROW EXECUTE FUNCTION disk_full()"))
    try:
        result = bounces(sent, imap_server.url())
    finally:
        with pg_store.engine.begin() as conn:
            conn.execute(text("DROP TRIGGER disk_full ON bounces"))
            conn.execute(text("DROP FUNCTION disk_full()"))
    assert "database error: could not extend file" in _one_line_error(result)
    assert "INBOX 1: a@example.org" in result.stdout
    assert set(sent.suppressed()) == {"a@example.org"}
    assert imap_server.unseen() == [2, 3]
    # Once the database takes writes again, the next run reads what is left, and only that.
    again = bounces(sent, imap_server.url())
    assert again.exit_code == 0, again.output
    assert "2 message(s) handled" in again.stdout and "INBOX 1:" not in again.stdout
    assert set(sent.suppressed()) == set(sent.received)
    assert imap_server.unseen() == []


# imaps:// and STARTTLS: the server's certificate is verified.


@pytest.mark.parametrize("scheme", ["imaps", "imap"])
def test_the_servers_certificate_is_verified(sent, imaps_server: ImapServer, scheme):
    imaps_server.deliver(dsn(sent.sender("a@example.org"), "a@example.org"))
    url = imaps_server.url(scheme=scheme)
    refused = _one_line_error(bounces(sent, url))
    assert "certificate is not trusted" in refused and "self-signed" in refused
    assert sent.suppressed() == {} and imaps_server.unseen() == [1]
    # An office with its own certificate authority names it as OpenSSL reads it.
    trusted = bounces(sent, url, SSL_CERT_FILE=str(imaps_server.folder / "cert.pem"))
    assert trusted.exit_code == 0, trusted.output
    assert set(sent.suppressed()) == {"a@example.org"} and imaps_server.unseen() == []
