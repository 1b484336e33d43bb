"""The transport seam against a real SMTP server (in-process aiosmtpd) and a real folder."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import distribution.transport.smtp
from distribution.transport import (
    Envelope,
    Outcome,
    OutcomeKind,
    TransportError,
    open_transport,
)
from distribution.transport.outbox import OutboxTransport
from distribution.transport.smtp import SmtpTransport
from distribution.transport.url import SmtpSettings, parse_smtp_url
from tests.fixtures.smtpd import SmtpTestServer, parse

SENT, TEMPORARY, PERMANENT, REFUSED, SENDER_REJECTED = (
    OutcomeKind.SENT,
    OutcomeKind.TEMPORARY,
    OutcomeKind.PERMANENT,
    OutcomeKind.REFUSED,
    OutcomeKind.SENDER_REJECTED,
)


def make_envelope(recipient: str, body: bytes = b"Hello.\r\n") -> Envelope:
    head = f"From: press@pressroom.test\r\nTo: <{recipient}>\r\nSubject: Release\r\n\r\n"
    return Envelope("bounces@pressroom.test", recipient, head.encode() + body)


def envelopes(*recipients: str) -> list[Envelope]:
    return [make_envelope(recipient) for recipient in recipients]


def send(server: SmtpTestServer, batch: list[Envelope]) -> list[Outcome]:
    with SmtpTransport(server.url) as transport:
        return transport.send(batch)


def kinds(outcomes: list[Outcome]) -> list[OutcomeKind]:
    return [outcome.kind for outcome in outcomes]


@pytest.fixture(params=["pipelined", "one-by-one"])
def server(request: pytest.FixtureRequest, smtp_server: SmtpTestServer) -> SmtpTestServer:
    """The test server, with and without PIPELINING: each SMTP test runs both paths."""
    if request.param == "one-by-one":
        smtp_server.hide_extensions("PIPELINING")
    return smtp_server


# SMTP: batches and connections


def test_a_batch_goes_over_one_connection(server: SmtpTestServer) -> None:
    recipients = [f"journalist{i}@news.test" for i in range(25)]
    with SmtpTransport(server.url) as transport:
        first = transport.send(envelopes(*recipients[:20]))
        second = transport.send(envelopes(*recipients[20:]))

    assert kinds(first + second) == [SENT] * 25
    assert {(o.code, o.text) for o in first + second} == {(250, "2.0.0 OK queued")}
    assert server.connections == 1
    assert sorted(server.by_recipient()) == sorted(recipients)
    assert all(len(copies) == 1 for copies in server.by_recipient().values())


def test_pipelining_is_used_when_offered(server: SmtpTestServer) -> None:
    with SmtpTransport(server.url) as transport:
        transport.send(envelopes("a@news.test", "b@news.test", "c@news.test"))
        pipelined = transport.pipelining
        groups = server.command_groups

    if pipelined:
        # One write per message: its data travels with the next message's commands.
        assert groups == [
            ("MAIL", "RCPT", "DATA"),
            (".", "MAIL", "RCPT", "DATA"),
            (".", "MAIL", "RCPT", "DATA"),
            (".",),
        ]
    else:
        assert groups == [("MAIL",), ("RCPT",), ("DATA",), (".",)] * 3


def test_pipelining_follows_the_servers_ehlo(smtp_server: SmtpTestServer) -> None:
    with SmtpTransport(smtp_server.url) as transport:
        assert transport.pipelining
    smtp_server.hide_extensions("PIPELINING")
    with SmtpTransport(smtp_server.url) as transport:
        assert not transport.pipelining


# SMTP: classifying answers


def test_4xx_is_temporary(server: SmtpTestServer) -> None:
    server.answer("busy@news.test", "450 4.2.0 Mailbox busy")

    outcomes = send(server, envelopes("a@news.test", "busy@news.test", "b@news.test"))

    assert outcomes[1] == Outcome(TEMPORARY, 450, "4.2.0 Mailbox busy")
    assert kinds(outcomes) == [SENT, TEMPORARY, SENT]
    assert sorted(server.by_recipient()) == ["a@news.test", "b@news.test"]


def test_5xx_on_rcpt_is_permanent(server: SmtpTestServer) -> None:
    server.answer("gone@news.test", "550 5.1.1 No such user")

    outcomes = send(server, envelopes("gone@news.test", "a@news.test"))

    assert outcomes == [
        Outcome(PERMANENT, 550, "5.1.1 No such user"),
        Outcome(SENT, 250, "2.0.0 OK queued"),
    ]


def test_a_rejection_after_the_data_is_pinned_on_its_own_message(
    server: SmtpTestServer,
) -> None:
    # Pipelined, the reply to a message's data arrives with the next message's replies.
    server.answer("filtered@news.test", "554 5.7.1 Message refused", at="data")
    server.answer("later@news.test", "452 4.3.1 Out of storage", at="data")

    outcomes = send(
        server,
        envelopes("a@news.test", "filtered@news.test", "b@news.test", "later@news.test"),
    )

    assert outcomes == [
        Outcome(SENT, 250, "2.0.0 OK queued"),
        Outcome(REFUSED, 554, "5.7.1 Message refused"),
        Outcome(SENT, 250, "2.0.0 OK queued"),
        Outcome(TEMPORARY, 452, "4.3.1 Out of storage"),
    ]
    assert sorted(server.by_recipient()) == ["a@news.test", "b@news.test"]


def test_a_rejected_sender_is_reported_for_every_envelope(server: SmtpTestServer) -> None:
    server.reject_sender("550 5.7.1 Sender not authorised")

    outcomes = send(server, envelopes("a@news.test", "b@news.test", "c@news.test"))

    assert outcomes == [Outcome(SENDER_REJECTED, 550, "5.7.1 Sender not authorised")] * 3
    assert server.messages == []


def test_the_transaction_after_an_error_succeeds(server: SmtpTestServer) -> None:
    server.answer("gone@news.test", "550 5.1.1 No such user")
    server.answer("busy@news.test", "451 4.3.0 Try later")

    outcomes = send(
        server,
        envelopes("gone@news.test", "a@news.test", "busy@news.test", "b@news.test"),
    )

    assert kinds(outcomes) == [PERMANENT, SENT, TEMPORARY, SENT]
    assert sorted(server.by_recipient()) == ["a@news.test", "b@news.test"]
    assert sum(group.count("RSET") for group in server.command_groups) == 2


def test_a_scripted_failure_can_clear_after_some_tries(smtp_server: SmtpTestServer) -> None:
    smtp_server.answer("busy@news.test", "450 4.2.0 Mailbox busy", times=2)

    tries = [send(smtp_server, envelopes("busy@news.test"))[0].kind for _ in range(3)]

    assert tries == [TEMPORARY, TEMPORARY, SENT]


# SMTP: broken connections and servers that are down


def test_421_closes_the_connection_and_the_rest_go_over_a_new_one(
    server: SmtpTestServer,
) -> None:
    server.answer("b@news.test", "421 4.3.2 Shutting down", times=1)

    outcomes = send(server, envelopes("a@news.test", "b@news.test", "c@news.test", "d@news.test"))

    assert outcomes[1] == Outcome(TEMPORARY, 421, "4.3.2 Shutting down")
    assert kinds(outcomes) == [SENT, TEMPORARY, SENT, SENT]
    assert server.connections == 2


def test_a_server_that_goes_down_mid_batch_leaves_the_rest_temporary(
    server: SmtpTestServer,
) -> None:
    server.stop_at("c@news.test")
    batch = envelopes("a@news.test", "b@news.test", "c@news.test", "d@news.test", "e@news.test")

    outcomes = send(server, batch)

    assert kinds(outcomes) == [SENT, SENT, TEMPORARY, TEMPORARY, TEMPORARY]
    assert outcomes[2].code is None and "connection lost" in outcomes[2].text
    assert outcomes[3].text.startswith(f"cannot connect to SMTP server 127.0.0.1:{server.port}")
    assert sorted(server.by_recipient()) == ["a@news.test", "b@news.test"]


def test_a_server_that_is_down_at_open_raises_transport_error(
    smtp_server: SmtpTestServer,
) -> None:
    smtp_server.stop()

    with pytest.raises(TransportError) as error:
        SmtpTransport(smtp_server.url).__enter__()

    message = str(error.value)
    assert message.startswith(f"cannot connect to SMTP server 127.0.0.1:{smtp_server.port}: ")
    assert "\n" not in message


def test_the_server_restarts_on_the_same_port(smtp_server: SmtpTestServer) -> None:
    with SmtpTransport(smtp_server.url) as transport:
        assert kinds(transport.send(envelopes("a@news.test"))) == [SENT]
        smtp_server.stop()
        assert kinds(transport.send(envelopes("b@news.test", "c@news.test"))) == [TEMPORARY] * 2
        smtp_server.start()
        # A later send on the same transport connects again.
        assert kinds(transport.send(envelopes("d@news.test"))) == [SENT]

    assert sorted(smtp_server.by_recipient()) == ["a@news.test", "d@news.test"]
    assert smtp_server.connections == 2


def test_an_idle_connection_the_server_dropped_is_replaced_quietly(
    smtp_server: SmtpTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distribution.transport.smtp, "_IDLE_CHECK_SECONDS", 0.0)
    with SmtpTransport(smtp_server.url) as transport:
        transport.send(envelopes("a@news.test"))
        smtp_server.stop()
        smtp_server.start()

        assert kinds(transport.send(envelopes("b@news.test"))) == [SENT]

    assert smtp_server.connections == 2


def test_credentials_are_not_sent_without_tls(smtp_server: SmtpTestServer) -> None:
    url = f"smtp://user:secret@127.0.0.1:{smtp_server.port}"

    with pytest.raises(TransportError, match="does not offer STARTTLS"):
        SmtpTransport(url).__enter__()

    assert smtp_server.connections == 1  # it greeted, then left without AUTH


def test_send_outside_with_is_a_programming_error(smtp_server: SmtpTestServer) -> None:
    with pytest.raises(RuntimeError, match="with"):
        SmtpTransport(smtp_server.url).send(envelopes("a@news.test"))


# SMTP: TLS and login


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpTestServer]:
    users = {"press@pressroom.test": "s3cret:/@"}
    with SmtpTestServer(tls_context=server_context(certificate), users=users) as server:
        yield server


def test_starttls_then_login(tls_server: SmtpTestServer, certificate: tuple[Path, Path]) -> None:
    url = f"smtp://press%40pressroom.test:s3cret%3A%2F%40@127.0.0.1:{tls_server.port}"

    with SmtpTransport(url, tls_context=trusting(certificate)) as transport:
        outcomes = transport.send(envelopes("a@news.test", "b@news.test"))

    assert kinds(outcomes) == [SENT, SENT]
    assert tls_server.connections == 1


def test_a_refused_login_raises_transport_error(
    tls_server: SmtpTestServer, certificate: tuple[Path, Path]
) -> None:
    url = f"smtp://press%40pressroom.test:wrong@127.0.0.1:{tls_server.port}"

    with pytest.raises(TransportError, match="refused the login: 535"):
        SmtpTransport(url, tls_context=trusting(certificate)).__enter__()


def test_an_untrusted_certificate_raises_transport_error(tls_server: SmtpTestServer) -> None:
    with pytest.raises(TransportError, match="TLS with SMTP server .* failed: .*certificate"):
        SmtpTransport(tls_server.url).__enter__()


def test_without_starttls_there_is_no_login(tls_server: SmtpTestServer) -> None:
    url = f"smtp://press%40pressroom.test:s3cret@127.0.0.1:{tls_server.port}?starttls=no"

    with pytest.raises(TransportError, match="does not offer AUTH"):
        SmtpTransport(url).__enter__()


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    context = server_context(certificate)
    with SmtpTestServer(tls_context=context, implicit_tls=True) as server:
        assert server.url.startswith("smtps://")
        with SmtpTransport(server.url, tls_context=trusting(certificate)) as transport:
            outcomes = transport.send(envelopes("a@news.test"))

        assert kinds(outcomes) == [SENT]
        assert [m.rcpt_tos for m in server.messages] == [("a@news.test",)]


# SMTP: what arrives


def test_lines_starting_with_a_dot_arrive_intact(server: SmtpTestServer) -> None:
    body = b".leading dot\r\n.\r\n..two dots\r\nlast line without a line end."
    message = make_envelope("a@news.test", body)

    assert kinds(send(server, [message])) == [SENT]

    [received] = server.messages
    assert received.data == message.message + b"\r\n"
    assert parse(received).get_content().startswith(".leading dot\r\n.\r\n..two dots")


def test_bare_line_ends_are_sent_as_crlf(server: SmtpTestServer) -> None:
    message = make_envelope("a@news.test", b"one\ntwo\rthree\r\n")

    send(server, [message])

    assert server.messages[0].data.endswith(b"\r\n\r\none\r\ntwo\r\nthree\r\n")


def test_an_8bit_body_arrives_byte_exact(server: SmtpTestServer) -> None:
    body = "Genève, 16 avril – «Communiqué» 日本語\r\n".encode()
    message = make_envelope("a@news.test", body)

    send(server, [message, make_envelope("b@news.test")])

    eight_bit, seven_bit = server.messages
    assert eight_bit.data == message.message
    assert eight_bit.mail_options == ("BODY=8BITMIME",)
    assert seven_bit.mail_options == ()


def test_a_non_ascii_recipient_goes_with_smtputf8(server: SmtpTestServer) -> None:
    outcomes = send(server, envelopes("jürgen@zeitung.test"))

    assert kinds(outcomes) == [SENT]
    [received] = server.messages
    assert received.rcpt_tos == ("jürgen@zeitung.test",)
    assert "SMTPUTF8" in received.mail_options


def test_a_non_ascii_recipient_without_smtputf8_is_permanent(server: SmtpTestServer) -> None:
    server.hide_extensions("SMTPUTF8")

    outcomes = send(server, envelopes("jürgen@zeitung.test", "a@news.test"))

    assert outcomes[0].kind is PERMANENT and outcomes[0].code is None
    assert "SMTPUTF8" in outcomes[0].text
    assert kinds(outcomes[1:]) == [SENT]


def test_an_address_that_would_inject_commands_is_refused(server: SmtpTestServer) -> None:
    evil = "a@news.test>\r\nRCPT TO:<b@news.test"

    outcomes = send(server, envelopes(evil, "c@news.test"))

    assert kinds(outcomes) == [PERMANENT, SENT]
    assert sorted(server.by_recipient()) == ["c@news.test"]


# The test server itself


def test_other_processes_can_send_to_the_test_server(smtp_server: SmtpTestServer) -> None:
    script = textwrap.dedent(
        """
        import sys
        from distribution.transport.smtp import SmtpTransport
        from distribution.transport import Envelope

        message = b"Subject: x\\r\\n\\r\\nhi\\r\\n"
        with SmtpTransport(sys.argv[1]) as transport:
            transport.send([Envelope("b@pressroom.test", "a@news.test", message)])
        """
    )
    subprocess.run([sys.executable, "-c", script, smtp_server.url], check=True, timeout=60)

    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("a@news.test",)
    assert parse(received)["Subject"] == "x"


def test_waiting_for_messages_that_never_come_fails(smtp_server: SmtpTestServer) -> None:
    with pytest.raises(AssertionError, match="expected 1 messages within 0.01s, got 0"):
        smtp_server.wait_for(1, timeout=0.01)


# SMTP URLs


def test_url_defaults() -> None:
    assert parse_smtp_url("smtp://mail.example.org") == SmtpSettings(
        "mail.example.org", 25, "opportunistic"
    )
    assert parse_smtp_url("smtps://mail.example.org") == SmtpSettings(
        "mail.example.org", 465, "implicit"
    )
    assert parse_smtp_url("SMTP://[::1]:2525").address == "[::1]:2525"


def test_url_credentials_are_percent_decoded() -> None:
    settings = parse_smtp_url("smtp://press%40example.org:p%40ss%3Aw%2Frd@relay.example.org:587")

    assert (settings.user, settings.password) == ("press@example.org", "p@ss:w/rd")
    assert settings.port == 587
    assert settings.tls == "required"  # a password never crosses in clear
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize(
    ("url", "tls"),
    [
        ("smtp://relay.test?starttls=no", "none"),
        ("smtp://user:pw@relay.test?starttls=no", "none"),
        ("smtp://relay.test?starttls=always", "required"),
        ("smtp://relay.test?starttls=auto", "opportunistic"),
    ],
)
def test_url_starttls_option(url: str, tls: str) -> None:
    assert parse_smtp_url(url).tls == tls


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2@relay.test",
        "relay.test:25",
        "smtp://",
        "smtp://user:hunter2@:25",
        "smtp://relay.test:99999",
        "smtp://relay.test:twenty-five",
        "smtp://relay.test/path",
        "smtp://relay.test?tls=yes",
        "smtp://relay.test?starttls=maybe",
        "smtps://relay.test?starttls=no",
    ],
)
def test_bad_urls_raise_one_line_value_errors(url: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_smtp_url(url)

    message = str(error.value)
    assert "\n" not in message
    assert "hunter2" not in message


def test_open_transport_picks_smtp_or_the_outbox(tmp_path: Path) -> None:
    assert isinstance(open_transport("smtp://relay.test", tmp_path), SmtpTransport)
    assert isinstance(open_transport(None, tmp_path), OutboxTransport)
    assert isinstance(open_transport("", tmp_path), OutboxTransport)
    with pytest.raises(ValueError):
        open_transport("smtq://relay.test", tmp_path)


# Outbox


def test_the_outbox_writes_one_parseable_eml_per_message(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet" / "there"
    batch = envelopes("a@news.test", "b@news.test", "a@news.test")

    with open_transport(None, folder) as transport:
        outcomes = transport.send(batch)

    files = sorted(folder.iterdir())
    assert [o.kind for o in outcomes] == [SENT] * 3
    assert all(o.code is None for o in outcomes)
    assert [Path(o.text) for o in outcomes] == files  # names sort in sending order
    assert [f.read_bytes() for f in files] == [e.message for e in batch]
    assert [parse(f.read_bytes())["To"].addresses[0].addr_spec for f in files] == [
        "a@news.test",
        "b@news.test",
        "a@news.test",
    ]


def test_outbox_names_are_sortable_and_safe(tmp_path: Path) -> None:
    moment = datetime(2025, 4, 16, 7, 0, 1, tzinfo=UTC)
    outbox = OutboxTransport(tmp_path, clock=lambda: moment)

    with outbox:
        outcomes = outbox.send(envelopes("../../etc/passwd", "a/b\\c d@news.test", "ü@x.test"))

    names = [Path(o.text).name for o in outcomes]
    assert all(Path(o.text).parent == tmp_path for o in outcomes)
    assert all(name.startswith("20250416T070001Z-") for name in names)
    assert names == sorted(names)
    assert names[0].endswith(f"-{os.getpid()}-.._.._etc_passwd.eml")
    assert names[1].endswith("-a_b_c_d@news.test.eml")
    assert names[2].endswith("-_@x.test.eml")


def test_an_outbox_write_that_fails_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with OutboxTransport(tmp_path) as outbox:
        [outcome] = outbox.send(envelopes("a@news.test"))

    assert outcome.kind is TEMPORARY and "No space left" in outcome.text
    assert list(tmp_path.iterdir()) == []


def test_an_outbox_that_cannot_be_created_raises_transport_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    with pytest.raises(TransportError, match="cannot create outbox folder"):
        OutboxTransport(blocker / "outbox").__enter__()
