"""Reference server: which message a GG_RECV_MSG_ACK confirms, when seqs repeat.

The ack carries only a seq, and a live message can carry the seq of an offline one still waiting for
its confirmation; one ack must never take the offline message out of the queue in the live one's
place, or a connection lost next would lose it for good.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from server_testing import USERS, GGClient, running_server

from gadu import events as ev
from gadu import packets as p
from gadu.client import ClientConnection
from gadu.server import ReferenceServer
from gadu.server.config import ServerConfig
from gadu.server.offline_queue import QueuedMessage

ALICE, CAROL = 1001, 1003
SEQ = 4000


def queued_for(server, uin: int) -> int:
    return server.call(lambda: server.server.queue.count(uin))


class HeldTransport(asyncio.Transport):
    """A transport whose client has stopped reading while `held`: everything written stays buffered,
    so the server's flow control decides the order of what reaches the client."""

    def __init__(self) -> None:
        super().__init__()
        self.buffer = bytearray()
        self.held = True
        self.closed = False
        self.protocol: Optional[asyncio.BaseProtocol] = None

    def write(self, data) -> None:  # type: ignore[no-untyped-def]
        self.buffer += data

    def take(self) -> bytes:
        data, self.buffer = bytes(self.buffer), bytearray()
        return data

    def get_write_buffer_size(self) -> int:
        return len(self.buffer) if self.held else 0

    def set_write_buffer_limits(self, high=None, low=None) -> None:  # type: ignore[no-untyped-def]
        pass

    def get_extra_info(self, name, default=None):  # type: ignore[no-untyped-def]
        return ("127.0.0.1", 4000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if not self.closed and self.protocol is not None:
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)
        self.closed = True

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def feed(connection, data: bytes) -> None:
    """What the loop does when the client's bytes arrive (BufferedProtocol)."""
    buffer = connection.get_buffer(len(data))
    buffer[: len(data)] = data
    connection.buffer_updated(len(data))


def log_in(server: ReferenceServer, uin: int, transport: HeldTransport, **options):
    """A connection of the server on this transport, logged in as uin by gadu's client."""
    connection = transport.protocol = server.new_connection()
    connection.connection_made(transport)
    client = ClientConnection(uin, USERS[uin], **options)
    client.receive_data(transport.take())  # GG_WELCOME
    feed(connection, client.data_to_send())
    assert [type(e) for e in client.receive_data(transport.take())] == [ev.LoginOk]
    return connection, client


def test_the_ack_of_a_live_message_does_not_confirm_an_offline_one_with_the_same_seq():
    """Carol's backlog waits for her to read (flow control), so a live message overtakes the offline
    ones, one of them with its seq; carol confirms the live one (the first she read) and the other
    offline one, and goes: the offline one with the live one's seq is still queued."""

    async def scenario() -> None:
        server = ReferenceServer(ServerConfig(users=dict(USERS), port=0, write_high_water=1))
        await server.start()
        try:
            assert server.queue is not None
            for seq in (SEQ - 1, SEQ):
                server.queue.put(QueuedMessage(CAROL, ALICE, seq, 0, p.GG_CLASS_CHAT, "z kolejki", "z kolejki", b""))
            alice_transport, carol_transport = HeldTransport(), HeldTransport()
            alice_transport.held = False
            alice, _ = log_in(server, ALICE, alice_transport)
            carol, carol_client = log_in(server, CAROL, carol_transport)
            feed(alice, p.SendMsg80.encode_text(CAROL, SEQ, "na żywo"))
            carol_transport.held = False
            carol.resume_writing()  # carol reads again: the backlog follows
            received = [e for e in carol_client.receive_data(carol_transport.take())
                        if isinstance(e, ev.MessageReceived)]
            assert [(m.seq, m.text) for m in received] == [
                (SEQ, "na żywo"), (SEQ - 1, "z kolejki"), (SEQ, "z kolejki")]
            feed(carol, p.RecvMsgAck.encode_seq(SEQ))  # the live one's ack: it was read first
            assert server.queue.count(CAROL) == 2
            feed(carol, p.RecvMsgAck.encode_seq(SEQ - 1))
            assert [m.seq for m in server.queue.pending(CAROL)] == [SEQ]
            carol_transport.abort()  # gone before confirming the last one
            await asyncio.sleep(0)
            assert CAROL not in server.online
            assert [m.seq for m in server.queue.pending(CAROL)] == [SEQ], "it comes again at the next login"
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_a_client_that_cannot_confirm_is_not_held_to_the_unconfirmed_limit():
    """Without GG_FEATURE_MSG_ACK nothing is confirmed, so nothing is remembered for it."""

    async def scenario() -> None:
        config = ServerConfig(users=dict(USERS), port=0, write_high_water=1, mailbox_size=2, max_unconfirmed=3)
        server = ReferenceServer(config)
        await server.start()
        try:
            assert server.queue is not None
            for seq in (1, 2):
                server.queue.put(QueuedMessage(CAROL, ALICE, seq, 0, p.GG_CLASS_CHAT, "z kolejki", "z kolejki", b""))
            alice_transport, carol_transport = HeldTransport(), HeldTransport()
            alice_transport.held = False
            alice, _ = log_in(server, ALICE, alice_transport)
            carol, _ = log_in(server, CAROL, carol_transport, features=p.GG8_FEATURES & ~p.GG_FEATURE_MSG_ACK)
            for seq in range(10, 20):
                feed(alice, p.SendMsg80.encode_text(CAROL, seq, "na żywo"))
            assert not carol_transport.closed and carol.unconfirmed_total == 0
        finally:
            await server.stop()

    asyncio.run(scenario())


def test_an_offline_message_then_a_live_one_with_its_seq_are_each_confirmed_once():
    with running_server() as server:
        with GGClient.logged_in(server.port, ALICE) as alice:
            alice.send(p.SendMsg80.encode_text(CAROL, SEQ, "z kolejki"))
            assert alice.wait(ev.MessageAck, seq=SEQ).status == p.GG_ACK_QUEUED
            with GGClient.logged_in(server.port, CAROL, confirm_messages=False) as carol:
                assert carol.wait(ev.MessageReceived, seq=SEQ).text == "z kolejki"
                alice.send(p.SendMsg80.encode_text(CAROL, SEQ, "na żywo"))
                assert carol.wait(ev.MessageReceived, seq=SEQ).text == "na żywo"
                carol.send(p.RecvMsgAck.encode_seq(SEQ))  # the first read: the offline one
                carol.sync()
                assert queued_for(server, CAROL) == 0
                carol.send(p.RecvMsgAck.encode_seq(SEQ))  # the live one; nothing left to confirm
                carol.sync()
                assert server.call(lambda: [c.unconfirmed_total for c in server.server.online.values()]) == [0, 0]


def test_a_session_that_never_confirms_is_closed_at_the_limit_and_its_messages_stay(caplog):
    caplog.set_level(logging.WARNING, logger="gadu.server")
    with running_server(mailbox_size=2, max_unconfirmed=5) as server:
        with GGClient.logged_in(server.port, ALICE) as alice:
            for seq in (1, 2):
                alice.send(p.SendMsg80.encode_text(CAROL, seq, "z kolejki"))
                assert alice.wait(ev.MessageAck, seq=seq).status == p.GG_ACK_QUEUED
            with GGClient.logged_in(server.port, CAROL, confirm_messages=False) as carol:
                for seq in range(10, 14):
                    alice.send(p.SendMsg80.encode_text(CAROL, seq, "na żywo"))
                carol.wait_closed()
        assert queued_for(server, CAROL) == 2
    assert any("5 messages written and not confirmed" in r.getMessage() for r in caplog.records)
