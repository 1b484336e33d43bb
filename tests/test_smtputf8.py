"""Addresses with non-ASCII letters before the @ (SMTPUTF8, RFC 6531 and 6532): taken only
when the configured transport can carry them, and then sent as the standards say."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from distribution.mail import headers as h
from distribution.store.models import Contact
from distribution.web import create_app
from distribution.web.security import RequestLimiter
from tests.fixtures.cli import Cli
from tests.fixtures.settings import make_settings
from tests.fixtures.smtpd import Received
from tests.fixtures.webpages import add_list, csrf_token, outbox_messages

DAMASCUS = Path(__file__).parent / "data" / "releases" / "01-iiim-head-concludes-damascus-visit.txt"
PEOPLE = "email,name\nJürgen@Zeitung.example,Jürgen Groß\nana@example.org,Ana\n"


def _head(data: bytes) -> list[bytes]:
    return data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.fixture
def relay(cli: Cli, smtp_server):
    cli.env["PRESSROOM_SMTP_URL"] = smtp_server.url
    return smtp_server


def _import(cli: Cli, tmp_path, text: str = PEOPLE, *args: str):
    people = tmp_path / "people.csv"
    people.write_text(text, encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    return cli("contacts", "import", str(people), "--list", "media", *args)


def test_a_relay_offering_smtputf8_is_asked_once_and_the_copy_goes_out_as_rfc_6532_says(
        cli: Cli, tmp_path, relay):
    before = relay.connections
    imported = _import(cli, tmp_path, PEOPLE + "zoë@example.org,Zoë\n")
    assert imported.exit_code == 0, imported.output
    assert relay.connections == before + 1  # one question for the whole file
    listed = [c["email"] for c in cli.json("contacts", "list")]
    assert listed == ["ana@example.org", "jürgen@zeitung.example", "zoë@example.org"]

    release_id = cli.json("release", "add", str(DAMASCUS))["id"]
    sent = cli("send", str(release_id), "--list", "media", "--yes")
    assert sent.exit_code == 0, sent.output

    by: dict[str, Received] = {r.rcpt_tos[0]: r for r in relay.messages}
    juergen, ana = by["jürgen@zeitung.example"], by["ana@example.org"]
    assert "SMTPUTF8" in juergen.mail_options and "SMTPUTF8" not in ana.mail_options
    head = _head(juergen.data)
    [to] = [line for line in head if line.startswith(b"To:")]
    # The name as our encoded-words, the address raw: an encoded-word cannot hold it.
    assert to == "To: =?utf-8?q?J=C3=BCrgen_Gro=C3=9F?= <jürgen@zeitung.example>".encode()
    assert all(line.isascii() for line in head if line is not to)
    # The email package of Python 3.11 reads UTF-8 headers from text, not from bytes.
    parsed = email.message_from_string(juergen.data.decode("utf-8"),
                                       policy=email.policy.SMTPUTF8)
    [address] = parsed["To"].addresses
    assert (address.display_name, address.addr_spec) == ("Jürgen Groß",
                                                         "jürgen@zeitung.example")


def test_a_relay_without_smtputf8_has_those_rows_refused_at_import_with_the_reason(
        cli: Cli, tmp_path, relay):
    relay.hide_extensions("SMTPUTF8")
    imported = _import(cli, tmp_path)
    assert imported.exit_code == 1
    assert imported.stderr.splitlines()[0] == (
        f"line 2: cannot send to 'Jürgen@Zeitung.example': the SMTP server "
        f"127.0.0.1:{relay.port} does not offer SMTPUTF8, which an address with non-ASCII "
        "letters before the @ needs")
    assert [c["email"] for c in cli.json("contacts", "list")] == ["ana@example.org"]


def test_a_relay_that_cannot_be_reached_has_those_rows_refused_saying_so(
        cli: Cli, tmp_path, relay):
    relay.stop()
    imported = _import(cli, tmp_path)
    assert imported.exit_code == 1 and "Traceback" not in imported.output
    [line] = [x for x in imported.stderr.splitlines() if x.startswith("line 2:")]
    assert line.startswith("line 2: cannot send to 'Jürgen@Zeitung.example': could not ask "
                           "the SMTP server whether it takes such addresses: cannot connect")
    assert json.loads(cli("contacts", "list", "--json").stdout)[0]["email"] == \
        "ana@example.org"


def test_the_outbox_carries_them_and_a_test_copy_goes_too(cli: Cli, tmp_path):
    assert _import(cli, tmp_path).exit_code == 0
    release_id = cli.json("release", "add", str(DAMASCUS))["id"]
    assert cli("send", str(release_id), "--list", "media", "--yes").exit_code == 0
    test = cli("send", str(release_id), "--test-to", "Chloé@Example.org")
    assert test.exit_code == 0, test.output
    tos = sorted(line for f in (tmp_path / "outbox").glob("*.eml")
                 for line in _head(f.read_bytes()) if line.startswith(b"To:"))
    assert tos == sorted([
        b"To: Ana <ana@example.org>", "To: chloé@example.org".encode(),
        "To: =?utf-8?q?J=C3=BCrgen_Gro=C3=9F?= <jürgen@zeitung.example>".encode()])


def test_a_test_copy_to_such_an_address_is_refused_in_one_line_without_smtputf8(
        cli: Cli, tmp_path, relay):
    release_id = cli.json("release", "add", str(DAMASCUS))["id"]
    relay.hide_extensions("SMTPUTF8")
    refused = cli("send", str(release_id), "--test-to", "chloé@example.org")
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "does not offer SMTPUTF8" in refused.stderr
    assert relay.messages == []


# --- the sign-up form ------------------------------------------------------------------------

@pytest.fixture
def signups(tmp_path, sqlite_store, smtp_server):
    settings = make_settings(tmp_path, sqlite_store.url, smtp_url=smtp_server.url)
    with sqlite_store.Session.begin() as session:
        add_list(session, "Newsroom", open_signup=True)
    app = create_app(settings, sqlite_store.Session, signup_limiter=RequestLimiter(50, 60))
    with TestClient(app) as client:
        yield client


def _sign_up(client, address: str):
    token = csrf_token(client.get("/subscribe/Newsroom").text)
    return client.post("/subscribe/Newsroom", data={"csrf_token": token, "email": address,
                                                    "consent": "yes"})


def test_a_sign_up_with_such_an_address_gets_its_confirmation_by_smtputf8(
        signups, sqlite_store, smtp_server):
    before = smtp_server.connections
    assert _sign_up(signups, "Chloé@Example.org").status_code == 200
    assert _sign_up(signups, "zoë@example.org").status_code == 200
    received = smtp_server.wait_for(2)
    assert [r.rcpt_tos for r in received] == [("chloé@example.org",), ("zoë@example.org",)]
    assert all("SMTPUTF8" in r.mail_options for r in received)
    assert "To: chloé@example.org".encode() in _head(received[0].data)
    # One question, then the two confirmations: the answer is kept.
    assert smtp_server.connections == before + 3
    with sqlite_store.Session() as session:
        assert sorted(session.scalars(select(Contact.email))) == ["chloé@example.org",
                                                                  "zoë@example.org"]


@pytest.mark.parametrize("relay_trouble", ["no SMTPUTF8", "down"])
def test_a_sign_up_with_such_an_address_is_refused_in_the_form_without_smtputf8(
        signups, sqlite_store, smtp_server, settings, relay_trouble):
    if relay_trouble == "down":
        smtp_server.stop()
    else:
        smtp_server.hide_extensions("SMTPUTF8")
    page = _sign_up(signups, "chloé@example.org")
    assert page.status_code == 400
    assert "We cannot send email to an address with these letters before the @ yet." \
        in page.text
    assert "SMTP" not in page.text and "127.0.0.1" not in page.text
    assert smtp_server.messages == [] and outbox_messages(settings) == []
    with sqlite_store.Session() as session:
        assert session.scalars(select(Contact)).all() == []


# --- the headers -----------------------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "jürgen@zeitung.example>\r\nBcc: victim@example.org",
    "jürgen@zeitung.example\nBcc: victim@example.org",
    "jür,gen@zeitung.example", "jür<gen@zeitung.example", "jürgen@zeitung.example, b@x.org",
    "jür gen@zeitung.example", "jür\u2028gen@zeitung.example", "jür\u202egen@zeitung.example",
    "jürgen\u0085@zeitung.example", "jürgen@bücher.example", '"jür"@zeitung.example',
])
def test_a_utf8_address_that_would_add_a_line_or_an_address_is_refused(address):
    with pytest.raises(ValueError, match="not a usable email address"):
        h.mailbox_line("To", "Jürgen", address, utf8=True)


def test_other_headers_take_no_raw_utf8_address():
    with pytest.raises(ValueError):
        h.mailbox_line("Reply-To", None, "jürgen@zeitung.example")
    line = h.mailbox_line("To", 'Groß, "J" <evil@x.example>\r\nBcc: a@b.example',
                          "jürgen@zeitung.example", utf8=True)
    assert line.count("\r\n") == line.count("\r\n ") + 1  # one header, folded or not
    assert line.endswith(" <jürgen@zeitung.example>\r\n") and "Bcc: a@b" not in line
    parsed = email.message_from_string(line + "\r\n", policy=email.policy.SMTPUTF8)
    assert [a.addr_spec for a in parsed["To"].addresses] == ["jürgen@zeitung.example"]
