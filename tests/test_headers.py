"""Hostile text never becomes a header or a recipient: headers are encoded and folded by
Pressroom, pinned to the email package's reading of them by property tests."""

from __future__ import annotations

import email
import email.policy
from email.header import decode_header, make_header
from email.message import EmailMessage

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from distribution.mail.folding import HeaderError, check_header_block
from distribution.mail.headers import clean_header_value, mailbox, parse_mailbox, text
from distribution.mail.render import load_templates, prepare
from tests.fixtures.settings import make_settings
from tests.test_render import NOW, embargoed, make, parse, recipient, sample_release

ENCODED_INJECTION = "=?utf-8?q?Budget=0D=0ABcc:_leak@evil.example=0D=0AX-Injected:_yes?="
ENCODED_NO_SPECIALS = "=?utf-8?q?Budget=0D=0ABcc=3A_leak=40evil.example?="
NAME_INJECTION = "Zoë <attacker@evil.example>, " + "Desk " * 12
EXPECTED_HEADERS = ["From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version",
                    "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Precedence",
                    "Content-Type", "Content-Language"]


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path, "sqlite://")


@pytest.fixture
def templates(settings):
    return load_templates(settings)


def header_names(data: bytes) -> list[str]:
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if line[:1] not in " \t"]


def strictly(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.strict)  # type: ignore[return-value]


@pytest.mark.parametrize("kind", ["release", "test", "notice_moved", "notice_lifted",
                                  "notice_withdrawn", "correction"])
@pytest.mark.parametrize("headline", [ENCODED_INJECTION, ENCODED_NO_SPECIALS])
def test_an_encoded_word_in_a_headline_never_becomes_a_header(settings, templates, kind,
                                                              headline):
    data = make(settings, templates, embargoed(headline=headline), kind=kind, marked=True)
    assert header_names(data) == EXPECTED_HEADERS
    message = parse(data)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert headline in message["Subject"]  # read back as the very text of the headline
    assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


def test_a_display_name_never_adds_an_address_to_to(settings, templates):
    data = make(settings, templates, who=recipient(name=NAME_INJECTION))
    for reading in (parse(data), strictly(data)):
        addresses = reading["To"].addresses
        assert [a.addr_spec for a in addresses] == ["journalist1@news.example.com"]
        assert "attacker@evil.example" in addresses[0].display_name


def test_a_media_contacts_name_never_adds_an_address_to_reply_to(settings, templates):
    release = sample_release(media_contacts=[
        {"name": NAME_INJECTION, "email": "ruiz@iiim.example.org", "phone": None}])
    data = make(settings, templates, release)
    assert [a.addr_spec for a in parse(data)["Reply-To"].addresses] == ["ruiz@iiim.example.org"]


def test_an_encoded_word_as_a_name_is_shown_as_typed(settings, templates):
    data = make(settings, templates, who=recipient(name=ENCODED_NO_SPECIALS))
    shown = parse(data)["To"].addresses[0].display_name
    assert shown.replace(" ", "") == ENCODED_NO_SPECIALS  # see the property test below
    assert header_names(data) == EXPECTED_HEADERS


def test_a_hostile_from_name_is_encoded_too(tmp_path):
    settings = make_settings(tmp_path, "sqlite://",
                             **{"from": f'"{ENCODED_INJECTION}" <press@iiim.example.org>'})
    data = make(settings, load_templates(settings))
    assert header_names(data) == EXPECTED_HEADERS
    assert [a.addr_spec for a in parse(data)["From"].addresses] == ["press@iiim.example.org"]


def test_a_test_copy_of_a_prepared_release_carries_only_the_headers_written(settings,
                                                                            templates):
    prepared = prepare(sample_release(headline=ENCODED_INJECTION), settings, templates,
                       marked=False, kind="test")
    data = prepared.personalise(recipient(name=NAME_INJECTION), date=NOW)
    assert header_names(data) == [n for n in EXPECTED_HEADERS if n != "List-Id"]


# --- the hand-written encoder, pinned to the email package's reading ---------------------

HOSTILE_TEXT = st.text(max_size=200) | st.sampled_from([
    ENCODED_INJECTION, ENCODED_NO_SPECIALS, NAME_INJECTION, "a=?b", "=?", "?=", " x ",
    "Zoë Ämmänen-Łukasiewicz", "日本語のニュースリリース" * 8, "x" * 1200, "é" * 400])


@given(HOSTILE_TEXT)
@example("\r\nBcc: leak@evil.example")
def test_a_text_header_reads_back_as_the_clean_value_and_nothing_else(value):
    line = text("Subject", value).line.encode("ascii")
    for policy in (email.policy.default, email.policy.strict):
        message = email.message_from_bytes(line + b"\r\nbody", policy=policy)
        assert list(message.keys()) == ["Subject"]
        assert str(message["Subject"]) == clean_header_value(value)
    assert all(len(piece) <= 998 for piece in line.split(b"\r\n"))


@given(HOSTILE_TEXT, st.sampled_from(["jane@news.example.com", "a.b+c@x.example"]))
@example(NAME_INJECTION, "jane@news.example.com")
@example('Say "hi" \\ back', "jane@news.example.com")
def test_an_address_header_reads_back_as_one_mailbox_with_the_name_given(name, addr):
    line = mailbox("To", name, addr).line
    expected = clean_header_value(name)
    for policy in (email.policy.default, email.policy.strict):
        message = email.message_from_bytes(line.encode("ascii") + b"\r\nbody", policy=policy)
        assert list(message.keys()) == ["To"]
        (parsed,) = message["To"].addresses
        assert parsed.addr_spec == addr
        # Python 3.11 keeps the space between two encoded-words in a name (RFC 2047 says
        # to drop it): equal but for spaces, and exact as an RFC 2047 reader sees it.
        assert parsed.display_name.replace(" ", "") == expected.replace(" ", "")
    unfolded = line[len("To: "):].replace("\r\n", "")
    phrase = unfolded.rsplit(" ", 1)[0] if expected else ""
    if "=?" in phrase:
        assert str(make_header(decode_header(phrase))) == expected
    elif expected:
        assert parsed.display_name == expected


@pytest.mark.parametrize("value, expected", [
    ("IIIM Press Office <press@iiim.example.org>", ("IIIM Press Office",
                                                    "press@iiim.example.org")),
    ('"Doe, Jane \\"JD\\"" <jd@x.example>', ('Doe, Jane "JD"', "jd@x.example")),
    ("press@iiim.example.org", ("", "press@iiim.example.org")),
])
def test_a_mailbox_setting_is_read_as_name_and_address(value, expected):
    assert parse_mailbox(value) == expected


@pytest.mark.parametrize("value", [
    "Press <press@x.example>\r\nBcc: leak@evil.example", "Press <a@x.example>, <b@y.example>",
    "Press <not an address>", "Press\x00 <press@x.example>", "", "<>"])
def test_a_mailbox_setting_with_a_control_character_or_two_addresses_is_refused(value):
    with pytest.raises(ValueError):
        parse_mailbox(value)


@pytest.mark.parametrize("block", [
    b"Subject: x\r\nBcc: leak@evil.example\r\n\r\nbody",
    b"Subject: x\r\n\r\n",  # fine as such: the check is on the names
    b"Subject: x\nBcc: y\r\n\r\nbody",
    b"Subject: x\r\n \r\n\r\nbody",
    b"Subject: x\r\nnot a header\r\n\r\nbody",
])
def test_a_header_block_holding_more_than_the_headers_written_is_refused(block):
    if block == b"Subject: x\r\n\r\n":
        check_header_block(block, ["Subject"])
        return
    with pytest.raises(HeaderError):
        check_header_block(block, ["Subject"])


def test_a_confirmation_mail_carries_only_the_headers_written(settings):
    from distribution.web.pages import Pages
    from distribution.web.subscribers.confirm_mail import confirmation_email

    data = confirmation_email(settings, Pages(settings), "jane@news.example.com",
                              f"media {ENCODED_INJECTION}", "https://x.example/c/t", NOW, 7)
    assert header_names(data) == ["From", "To", "Subject", "Date", "Message-ID",
                                  "Auto-Submitted", "MIME-Version", "Content-Type"]
    message = parse(data)
    assert ENCODED_INJECTION in message["Subject"] and message["Bcc"] is None
