"""4.x Messages: send, ack, receive, receipts.

protocol.html 1.6 and 1.7; docs/protocol.md#packets and docs/protocol.md#message-flow.
"""
from __future__ import annotations

import struct

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import MessageTooLong
from gadu.server.config import ECHO_UIN

from .helpers import logged_in_on_peer, logged_in_on_server, recv_msg
from .results import case


@case("4.1", "Echo round trip", "A message to the echo contact comes back with the same text, from the "
      "echo contact's uin.")
def test_echo(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    session.send_message(ECHO_UIN, "cześć, echo")
    echoed = session.wait(ev.MessageReceived)
    assert (echoed.sender, echoed.text) == (ECHO_UIN, "cześć, echo")


@case("4.2", "Seq on the wire", "send returns the seq it put in GG_SEND_MSG80, addressed to the recipient.")
def test_seq_on_wire(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    seq = session.send_message(1002, "hello")
    sent = wire.expect(pk.SendMsg80)
    assert (sent.recipient, sent.seq) == (1002, seq)


@case("4.3", "Ack matched by seq", "A GG_SEND_MSG_ACK reaches the application with its status, recipient "
      "and the seq of the message it answers.")
def test_ack_fields(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    seq = session.send_message(1002, "hello")
    wire.expect(pk.SendMsg80)
    wire.send_packets(pk.SendMsgAck(pk.GG_ACK_DELIVERED, 1002, seq))
    ack = session.wait(ev.MessageAck)
    assert (ack.status, ack.recipient, ack.seq) == (pk.GG_ACK_DELIVERED, 1002, seq)


@case("4.4", "Delivered end to end", "A message to a logged-in user is delivered to them and acked 2 "
      "(delivered) to the sender.")
def test_delivered(driver, server_address):
    alice = logged_in_on_server(driver, server_address, 1001, "alice")
    bob = logged_in_on_server(driver, server_address, 1002, "bob")
    seq = alice.send_message(1002, "do Boba")
    ack = alice.wait(ev.MessageAck)
    assert (ack.seq, ack.status) == (seq, pk.GG_ACK_DELIVERED)
    got = bob.wait(ev.MessageReceived)
    assert (got.sender, got.seq, got.text) == (1001, seq, "do Boba")


@case("4.5", "Queued for an offline user", "A message to a user who is not logged in is acked 3 (queued).")
def test_queued_ack(driver, server_address):
    alice = logged_in_on_server(driver, server_address, 1001, "alice")
    seq = alice.send_message(1003, "na później")
    ack = alice.wait(ev.MessageAck)
    assert (ack.seq, ack.status) == (seq, pk.GG_ACK_QUEUED)


@case("4.6", "Queued delivered at login", "A queued message is delivered when its recipient logs in, with "
      "GG_CLASS_QUEUED in its class (docs/protocol.md#message-flow).")
def test_queued_delivery(driver, server_address):
    alice = logged_in_on_server(driver, server_address, 1001, "alice")
    alice.send_message(1003, "czekałam")
    alice.wait(ev.MessageAck)
    carol = logged_in_on_server(driver, server_address, 1003, "carol")
    got = carol.wait(ev.MessageReceived)
    assert got.text == "czekałam" and got.msgclass & pk.GG_CLASS_QUEUED


@case("4.7", "Polish letters both ways", "Text with Polish letters survives a trip between two clients "
      "through the server, in both directions.")
def test_polish_both_ways(driver, server_address):
    alice = logged_in_on_server(driver, server_address, 1001, "alice")
    bob = logged_in_on_server(driver, server_address, 1002, "bob")
    alice.send_message(1002, "Zażółć gęślą jaźń")
    assert bob.wait(ev.MessageReceived).text == "Zażółć gęślą jaźń"
    bob.send_message(1001, "ŹDŹBŁO, ćma")
    assert alice.wait(ev.MessageReceived).text == "ŹDŹBŁO, ćma"


@case("4.8", "Receipt for every message", "Every GG_RECV_MSG80 is answered with GG_RECV_MSG_ACK carrying "
      "its seq (features include 0x400, as libgadu's do).")
def test_receipt(driver, peer):
    _session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(recv_msg("a", seq=41), recv_msg("b", seq=42))
    assert wire.expect(pk.RecvMsgAck).seq == 41
    assert wire.expect(pk.RecvMsgAck).seq == 42


@case("4.9", "Offsets as libgadu", "GG_SEND_MSG80 carries the HTML part, the CP1250 plain part and the "
      "attributes at the offsets libgadu computes (offset_plain = 20 + len(html) + 1).")
def test_offsets(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.send_message(1002, "hello zażółć")
    sent = wire.expect(pk.SendMsg80)
    body = sent.body()
    offset_plain, offset_attr = struct.unpack_from("<II", body, 12)
    html = sent.html.encode("utf-8")
    assert offset_plain == 20 + len(html) + 1
    assert body[offset_plain:offset_attr] == "hello zażółć".encode("cp1250") + b"\0"
    assert body[offset_attr:] == pk.DEFAULT_ATTRIBUTES
    assert sent.text == "hello zażółć"


@case("4.10", "Seq increases", "Consecutive messages from one session carry strictly increasing seq "
      "numbers even within one second (libgadu adds 1).")
def test_seq_increases(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    seqs = [session.send_message(1002, str(n)) for n in range(5)]
    assert seqs == sorted(set(seqs))
    assert [wire.expect(pk.SendMsg80).seq for _ in range(5)] == seqs


@case("4.11", "Offsets out of range", "A GG_RECV_MSG80 whose offsets point outside the packet is a protocol "
      "error: it is not delivered and the connection ends.")
def test_offsets_out_of_range(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    body = struct.pack("<IIIIII", 1002, 9, 0, pk.GG_CLASS_CHAT, 5000, 6000) + b"hi\0hi\0"
    wire.send(struct.pack("<II", pk.GG_RECV_MSG80, len(body)) + body)
    assert not session.wait(ev.Closed).clean
    assert not [e for e in session.seen if isinstance(e, ev.MessageReceived)]


@case("4.12", "Plain-only message", "A message with no HTML part (offset_plain == 24) is read from its "
      "CP1250 plain part (docs/protocol.md#message-flow).")
def test_plain_only(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.RecvMsg80(1002, 5, 0, pk.GG_CLASS_CHAT, "", "tylko tekst ąę"))
    got = session.wait(ev.MessageReceived)
    assert got.text == "tylko tekst ąę" and got.html == ""


@case("4.13", "HTML unescaped", "The text read from an HTML part has its tags removed and entities "
      "decoded (libgadu escapes text into HTML).")
def test_html_unescaped(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(recv_msg("a < b & c > d"))
    got = session.wait(ev.MessageReceived)
    assert got.text == "a < b & c > d"
    assert "&lt;" in got.html


@case("4.14", "Typing sent", "A typing notification sends GG_TYPING_NOTIFY with the length and the "
      "recipient's uin.")
def test_typing_sent(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    session.typing(1002, 5)
    typing = wire.expect(pk.TypingNotify)
    assert (typing.length, typing.uin) == (5, 1002)


@case("4.15", "Typing received", "A GG_TYPING_NOTIFY from the server reaches the application with the "
      "sender's uin and the length.")
def test_typing_received(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.TypingNotify(3, 1002))
    typing = session.wait(ev.Typing)
    assert (typing.uin, typing.length) == (1002, 3)


@case("4.16", "100 messages pipelined", "100 messages sent without waiting all come back acked and echoed, "
      "each ack matching a seq that was sent.")
def test_pipelined(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    seqs = [session.send_message(ECHO_UIN, f"m{n}") for n in range(100)]
    acks = [session.wait(ev.MessageAck).seq for _ in range(100)]
    echoes = [session.wait(ev.MessageReceived).text for _ in range(100)]
    assert sorted(acks) == sorted(seqs)
    assert echoes == [f"m{n}" for n in range(100)]


@case("4.17", "Message limit", "A message over the protocol's length limit is refused on our side with a "
      "typed error; nothing is sent.")
def test_message_too_long(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    with pytest.raises(MessageTooLong):
        session.send_message(1002, "x" * 2000)
    assert not [p for p in wire.quiet_for(0.05) if isinstance(p, pk.SendMsg80)]


@case("4.18", "Queued class kept", "A message with GG_CLASS_QUEUED reaches the application with that class.")
def test_queued_class(driver, peer):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(recv_msg("z kolejki", msgclass=pk.GG_CLASS_CHAT | pk.GG_CLASS_QUEUED))
    assert session.wait(ev.MessageReceived).msgclass == pk.GG_CLASS_CHAT | pk.GG_CLASS_QUEUED


@case("4.19", "Unknown recipient", "A message to a uin the server does not know is acked 6 (not delivered).")
def test_not_delivered(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    seq = session.send_message(999999, "nikt")
    ack = session.wait(ev.MessageAck)
    assert (ack.seq, ack.status) == (seq, pk.GG_ACK_NOT_DELIVERED)


@case("4.20", "Multi-line text", "Newlines in a sent message survive the HTML part (libgadu writes <br>).")
def test_newlines(driver, server_address):
    session = logged_in_on_server(driver, server_address)
    session.send_message(ECHO_UIN, "linia 1\nlinia 2")
    assert session.wait(ev.MessageReceived).text == "linia 1\nlinia 2"
