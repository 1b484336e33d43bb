"""The bytes of an SMTP transaction: data blocks, and replies read off a real socket."""

from __future__ import annotations

import smtplib
import socket
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from distribution.smtpdata import data_block, message_of
from distribution.transport import Envelope
from distribution.transport.wire import MAX_LINE, MAX_REPLY_LINES, ReplyReader


@pytest.mark.parametrize(("message", "block"), [
    (b"Subject: x\r\n\r\nbody\r\n", b"Subject: x\r\n\r\nbody\r\n.\r\n"),
    (b"Subject: x\n\nbare LF\n", b"Subject: x\r\n\r\nbare LF\r\n.\r\n"),
    (b"Subject: x\r\rbare CR", b"Subject: x\r\n\r\nbare CR\r\n.\r\n"),
    (b"a\r\n.hidden\r\n..two\r\n", b"a\r\n..hidden\r\n...two\r\n.\r\n"),
    (b".first line\r\n", b"..first line\r\n.\r\n"),
    (b"no line end", b"no line end\r\n.\r\n"),
    (b"mixed\r\nends\nhere\r\n.x", b"mixed\r\nends\r\nhere\r\n..x\r\n.\r\n"),
])
def test_data_block_ends_lines_with_crlf_and_stuffs_dots(message, block):
    assert data_block(message) == block


def test_a_data_block_never_ends_the_data_early():
    # Whatever the message holds, the only CRLF.CRLF is the terminator.
    for message in (b"x\r\n.\r\ny", b"x\n.\ny", b".\r\n", b"\r\n.\r\n\r\n.\r\n"):
        block = data_block(message)
        assert block.endswith(b"\r\n.\r\n")
        assert block.count(b"\r\n.\r\n") == 1, block


# Messages as Pressroom makes them: CRLF line ends, the last line ended too.
crlf_messages = st.lists(st.text(alphabet=st.sampled_from(".. aZ\t=é"), max_size=12),
                         min_size=1).map(lambda lines: "".join(
                             line + "\r\n" for line in lines).encode())


@given(crlf_messages)
def test_the_message_is_read_back_from_its_data_block(message):
    assert message_of(data_block(message)) == message


@given(crlf_messages)
def test_an_envelope_made_from_a_block_gives_the_same_message_and_block(message):
    """The batch hands the transport blocks; the outbox still writes the message."""
    made = Envelope("b@pressroom.test", "a@news.test", data_block(message), as_block=True)
    plain = Envelope("b@pressroom.test", "a@news.test", message)
    assert (made.message, made.data_block) == (plain.message, plain.data_block)


@pytest.fixture
def wire():
    """A connected socket pair: the server's end to write to, a reader on the client's."""
    server, client = socket.socketpair()
    client.settimeout(5)
    yield server, ReplyReader(client)
    server.close()
    client.close()


def test_replies_are_read_in_order_from_one_write(wire):
    server, replies = wire
    server.sendall(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
                   b"250 2.0.0 Ok: queued as 4XyZ\r\n")
    got = [replies.next() for _ in range(4)]
    assert [r.code for r in got] == [250, 250, 354, 250]
    assert got[3].text == "2.0.0 Ok: queued as 4XyZ"


def test_a_multiline_reply_split_across_packets_is_one_reply(wire):
    server, replies = wire
    pieces = [b"550-5.1.1 The email account that you tried to reach does", b" not exist.\r\n550",
              b"-5.1.1 Please try\r\n", b"550 5.1.1 double-checking.\r\n250 Ok\r\n"]

    def trickle() -> None:
        for piece in pieces:
            server.sendall(piece)

    writer = threading.Thread(target=trickle)
    writer.start()
    first, second = replies.next(), replies.next()
    writer.join()
    assert first.code == 550
    assert first.text == ("5.1.1 The email account that you tried to reach does not exist. "
                          "5.1.1 Please try 5.1.1 double-checking.")
    assert (second.code, second.text) == (250, "Ok")


def test_a_line_without_a_code_is_reported_as_such(wire):
    server, replies = wire
    server.sendall(b"hello there\r\n")
    assert replies.next().code == -1


def test_a_closed_connection_is_a_disconnect(wire):
    server, replies = wire
    server.sendall(b"250-first line of a reply that never ends\r\n")
    server.shutdown(socket.SHUT_WR)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        replies.next()


@pytest.mark.parametrize("sent", [
    b"250 " + b"x" * (MAX_LINE + 10),              # no line end yet
    b"250 " + b"x" * (MAX_LINE + 10) + b"\r\n",   # a whole line, too long
    b"250-more\r\n" * (MAX_REPLY_LINES + 1) + b"250 end\r\n",
])
def test_a_reply_out_of_bounds_is_refused(wire, sent):
    server, replies = wire
    server.sendall(sent)
    with pytest.raises(smtplib.SMTPResponseException):
        replies.next()


def test_a_silent_server_times_out():
    server, client = socket.socketpair()
    client.settimeout(0.2)
    with server, client, pytest.raises(OSError):
        ReplyReader(client).next()
