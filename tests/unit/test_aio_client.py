"""modern.aio.GGClient on its own asyncio loop: what only this style promises (async with, events(),
wait_ack, drain and its back-pressure, the errors its coroutines raise), against the reference
server (same loop, 127.0.0.1, port 0) and a scripted fake server. What every variant does is the
conformance suite's."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu.client import ClientState
from gadu.errors import ConnectionClosed, LocalProtocolError, LoginError, LoginRefused, LoginTimeout, MessageTooLong
from gadu.framing import FrameParser
from gadu.server import ReferenceServer
from gadu.server.config import ECHO_UIN, ServerConfig
from modern.aio import GGClient

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

USERS = {1001: "alice", 1002: "bob", 1003: "carol"}
ALICE, BOB = 1001, 1002
WAIT = 5.0
#: The longest one test may run on its loop before it is failed (it never sleeps for a fixed time).
TEST_LIMIT = 15.0


def run(main):
    """Run `main()` on a fresh asyncio loop, bounded by TEST_LIMIT."""
    return asyncio.run(asyncio.wait_for(main(), TEST_LIMIT))


@contextlib.asynccontextmanager
async def reference_server(**options):
    server = ReferenceServer(ServerConfig(users=dict(USERS), port=0, **options))
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def logged_in(server, uin, **options) -> GGClient:
    client = await GGClient.connect("127.0.0.1", server.port, **options)
    await client.login(uin, USERS[uin], login_timeout=WAIT)
    return client


async def next_of(client, kind, predicate=None, timeout=WAIT):
    """The next event of `kind` (matching `predicate`); the events before it are dropped."""

    async def find():
        async for event in client.events():
            if isinstance(event, kind) and (predicate is None or predicate(event)):
                return event
        raise AssertionError(f"the events ended without a {kind.__name__}")

    return await asyncio.wait_for(find(), timeout)


async def until(condition, timeout=WAIT):
    """Wait for a condition of the client's state that no event announces, polling the loop."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.005)


class FakeConnection:
    """The server's end of one client connection, scripted by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = FrameParser(pk.Direction.CLIENT_TO_SERVER)
        self.pending = []

    def send(self, *packets: pk.Packet) -> None:
        self.writer.write(b"".join(p.encode() for p in packets))

    async def expect(self, kind, timeout=WAIT):
        async def find():
            while True:
                for index, packet in enumerate(self.pending):
                    if isinstance(packet, kind):
                        return self.pending.pop(index)
                data = await self.reader.read(65536)
                assert data, f"the client closed before sending {kind.__name__}"
                self.pending.extend(self.parser.feed(data))

        return await asyncio.wait_for(find(), timeout)

    async def expect_eof(self, timeout=WAIT) -> None:
        async def drain():
            while await self.reader.read(65536):
                pass

        await asyncio.wait_for(drain(), timeout)

    async def accept_login(self) -> pk.Login80:
        self.send(pk.Welcome(seed=0x1234ABCD))
        login = await self.expect(pk.Login80)
        self.send(pk.Login80Ok())
        return login

    def reset(self) -> None:
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


@contextlib.asynccontextmanager
async def fake_server(receive_buffer=None):
    """Yields (port, accept) where `await accept()` gives the next FakeConnection."""
    accepted: asyncio.Queue = asyncio.Queue()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    if receive_buffer is not None:  # inherited by accepted sockets: a small window fills fast
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    connections = []

    async def on_connect(reader, writer):
        connection = FakeConnection(reader, writer)
        connections.append(connection)
        await accepted.put(connection)

    server = await asyncio.start_server(on_connect, sock=listener)
    try:
        yield listener.getsockname()[1], lambda: asyncio.wait_for(accepted.get(), WAIT)
    finally:
        for connection in connections:
            connection.writer.transport.abort()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0)  # the aborted transports close their sockets on the next pass


async def logged_in_on_fake(accept, port, close_timeout=WAIT, **options):
    client = await GGClient.connect("127.0.0.1", port, **options)
    login = asyncio.ensure_future(client.login(ALICE, "alice", login_timeout=WAIT, close_timeout=close_timeout))
    connection = await accept()
    await connection.accept_login()
    await login
    return client, connection


# --- login -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("hash_type", ["sha1", "gg32"])
def test_login_with_either_hash_is_accepted_and_reported_first(hash_type):
    async def main():
        async with reference_server() as server, GGClient("127.0.0.1", server.port) as client:
            await client.login(ALICE, "alice", hash_type=hash_type, login_timeout=WAIT)
            assert client.state is ClientState.CONNECTED
            assert await client.next_event() == ev.LoginOk()
            assert ALICE in server.online

    run(main)


def test_wrong_password_raises_login_refused_then_a_clean_close():
    async def main():
        async with reference_server() as server, GGClient("127.0.0.1", server.port) as client:
            with pytest.raises(LoginRefused, match="uin 1001"):
                await client.login(ALICE, "not-alice", login_timeout=WAIT)
            assert [event async for event in client.events()] == [
                ev.LoginFailed(), ev.Closed(True, "the connection closed as expected")
            ]
            assert client.is_closed

    run(main)


def test_login_timeout_against_a_silent_listener_aborts_with_a_reason():
    """A listener that never accepts: TCP is up (the backlog), no WELCOME ever comes."""

    async def main():
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            async with GGClient(*listener.getsockname()) as client:
                with pytest.raises(LoginTimeout) as raised:
                    await client.login(ALICE, "alice", login_timeout=0.2)
                assert "0.2 s" in raised.value.reason
                closed = await client.wait_closed()
                assert closed == ev.Closed(False, raised.value.reason)
                assert [event async for event in client.events()] == [closed]

    run(main)


def test_login_refuses_bad_arguments_before_anything_is_sent():
    async def main():
        async with reference_server() as server, GGClient("127.0.0.1", server.port) as client:
            with pytest.raises(ValueError, match="unknown hash type"):
                await client.login(ALICE, "alice", hash_type="md5")
            with pytest.raises(LocalProtocolError, match="before login"):
                await client.send_message(BOB, "too early")
            await client.login(ALICE, "alice", login_timeout=WAIT)
            with pytest.raises(LocalProtocolError, match="already called"):
                await client.login(ALICE, "alice")
            with pytest.raises(LocalProtocolError, match="NOT_AVAIL ends the session"):
                await client.change_status(pk.GG_STATUS_NOT_AVAIL)
        with pytest.raises(ValueError, match="ping_interval"):
            GGClient("127.0.0.1", 1, ping_interval=0)
        with pytest.raises(LocalProtocolError, match="not connected"):
            GGClient("127.0.0.1", 1).events()

    run(main)


def test_refused_connection_raises_and_is_also_the_closed_event():
    async def main():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = GGClient("127.0.0.1", port)
        with pytest.raises(ConnectionRefusedError):
            await client.open()
        closed = await client.wait_closed()
        assert not closed.clean and "cannot connect" in closed.reason
        assert [event async for event in client.events()] == [closed]
        with pytest.raises(LoginError, match="cannot connect"):
            await client.login(ALICE, "alice")

    run(main)


# --- messages --------------------------------------------------------------------------------------


def test_echo_round_trip_with_an_ack_for_the_seq_on_the_wire():
    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE)
            seq = await client.send_message(ECHO_UIN, "cześć, echo")
            assert await client.wait_ack(seq, timeout=WAIT) == ev.MessageAck(ECHO_UIN, seq, pk.GG_ACK_DELIVERED)
            echoed = await next_of(client, ev.MessageReceived)
            assert (echoed.sender, echoed.seq, echoed.text) == (ECHO_UIN, seq, "cześć, echo")
            await client.aclose()

    run(main)


def test_one_hundred_messages_pipelined_then_their_acks_collected():
    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE)
            seqs = [await client.send_message(ECHO_UIN, f"m{n}") for n in range(100)]
            assert seqs == sorted(set(seqs))
            acks = await asyncio.gather(*(client.wait_ack(seq, timeout=WAIT) for seq in seqs))
            assert [(a.seq, a.status) for a in acks] == [(seq, pk.GG_ACK_DELIVERED) for seq in seqs]
            texts = []
            while len(texts) < 100:
                texts.append((await next_of(client, ev.MessageReceived)).text)
            assert texts == [f"m{n}" for n in range(100)]
            await client.aclose()

    run(main)


def test_wait_ack_refuses_a_seq_that_expects_no_ack():
    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE)
            with pytest.raises(KeyError, match="no ack is expected for seq 12345"):
                await client.wait_ack(12345)
            seq = await client.send_message(ECHO_UIN, "no ack", pk.GG_CLASS_CHAT | pk.GG_CLASS_ACK)
            with pytest.raises(KeyError):
                await client.wait_ack(seq)
            with pytest.raises(MessageTooLong):
                await client.send_message(ECHO_UIN, "x" * 2000)
            seq = await client.send_message(ECHO_UIN, "acked")
            await client.wait_ack(seq, timeout=WAIT)
            with pytest.raises(KeyError):
                await client.wait_ack(seq)  # taken once
            await client.aclose()

    run(main)


def test_an_ack_that_timed_out_can_still_be_awaited_and_the_end_fails_waiters():
    async def main():
        async with fake_server() as (port, accept):
            client, wire = await logged_in_on_fake(accept, port)
            seq = await client.send_message(BOB, "hello")
            await wire.expect(pk.SendMsg80)
            with pytest.raises(asyncio.TimeoutError):
                await client.wait_ack(seq, timeout=0.05)
            wire.send(pk.SendMsgAck(pk.GG_ACK_QUEUED, BOB, seq))
            assert (await client.wait_ack(seq, timeout=WAIT)).status == pk.GG_ACK_QUEUED
            pending = await client.send_message(BOB, "never acked")
            waiter = asyncio.ensure_future(client.wait_ack(pending))
            await asyncio.sleep(0)
            wire.writer.close()
            with pytest.raises(ConnectionClosed):
                await waiter
            with pytest.raises(ConnectionClosed):
                await client.send_message(BOB, "too late")

    run(main)


# --- contacts and presence -------------------------------------------------------------------------


# --- keep-alive and packet log ---------------------------------------------------------------------


def test_keepalive_pings_on_its_interval_and_every_packet_is_logged(caplog):
    caplog.set_level(logging.INFO, logger="gadu.client.packets")

    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE, ping_interval=0.05, log_packets=True)
            for _ in range(3):
                await next_of(client, ev.Pong)
            await client.logoff()

    run(main)
    lines = [r.getMessage() for r in caplog.records if r.name == "gadu.client.packets"]
    assert any(line.startswith("aio uin=1001 out GG_LOGIN80 (hash zeroed)") for line in lines)
    assert any(" in GG_LOGIN80_OK " in line for line in lines)
    pings = [r.created for r in caplog.records if " out GG_PING " in r.getMessage()]
    assert len(pings) >= 3
    gaps = [later - earlier for earlier, later in zip(pings, pings[1:])]
    assert min(gaps) >= 0.04, f"pings closer together than the 0.05 s interval: {gaps}"
    assert " out GG_NEW_STATUS80 " in lines[-2] or " out GG_NEW_STATUS80 " in lines[-1]


# --- the end of a connection -----------------------------------------------------------------------


def test_logoff_is_answered_by_a_clean_close_and_the_events_end():
    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE)
            closed = await client.logoff("pa")
            assert closed == ev.Closed(True, "the connection closed as expected")
            assert [type(e) for e in [event async for event in client.events()]] == [ev.LoginOk, ev.Closed]
            assert [event async for event in client.events()] == []  # a second iteration is empty too
            with pytest.raises(ConnectionClosed):
                await client.next_event()
            with pytest.raises(ConnectionClosed):
                await client.ping()

    run(main)


def test_logoff_to_a_server_that_never_closes_is_cut_off_after_the_timeout():
    async def main():
        async with fake_server() as (port, accept):
            client, wire = await logged_in_on_fake(accept, port, close_timeout=0.1)
            closed = await client.logoff("pa")
            assert not closed.clean and "within 0.1 s of the logoff" in closed.reason
            status = await wire.expect(pk.NewStatus80)
            assert (status.status, status.description) == (pk.GG_STATUS_NOT_AVAIL_DESCR, "pa")
            await wire.expect_eof()

    run(main)


def test_abort_closes_the_socket_at_once():
    async def main():
        async with fake_server() as (port, accept):
            client, wire = await logged_in_on_fake(accept, port)
            client.abort()
            await wire.expect_eof()
            assert await client.wait_closed() == ev.Closed(False, "aborted by the client")
            client.abort()  # again: nothing more happens
            assert [e for e in [event async for event in client.events()] if isinstance(e, ev.Closed)] == [
                ev.Closed(False, "aborted by the client")
            ]

    run(main)


def test_a_server_that_talks_too_much_before_login_is_cut_off():
    async def main():
        async with fake_server() as (port, accept):
            client = await GGClient.connect("127.0.0.1", port)
            wire = await accept()
            wire.writer.write(b"\0" * 70000)
            closed = await client.wait_closed()
            assert not closed.clean and "before login()" in closed.reason

    run(main)


# --- flow control ----------------------------------------------------------------------------------


def test_sends_wait_for_a_server_that_does_not_read():
    """The writes the application awaits stop at the transport's high-water mark: nothing piles up."""

    async def main():
        async with fake_server(receive_buffer=4096) as (port, accept):
            client, _wire = await logged_in_on_fake(accept, port)
            high = client.transport.get_write_buffer_limits()[1]
            text = "x" * 1989
            for _ in range(20000):
                send = asyncio.ensure_future(client.send_message(BOB, text))
                done, _ = await asyncio.wait({send}, timeout=0.5)
                if not done:
                    break
                send.result()
            else:
                pytest.fail("20000 messages went out to a server that reads nothing")
            assert client.transport.get_write_buffer_size() <= high + len(text) * 4
            client.abort()
            with pytest.raises(ConnectionClosed):
                await send

    run(main)


def test_an_unread_backlog_of_events_pauses_reading_until_it_is_read():
    async def main():
        async with reference_server() as server:
            client = await logged_in(server, ALICE, event_backlog=8)
            seqs = [await client.send_message(ECHO_UIN, f"m{n}") for n in range(30)]
            await until(lambda: not client.transport.is_reading())
            events = [await client.next_event() for _ in range(61)]  # LoginOk, 30 acks, 30 echoes
            assert sorted(e.seq for e in events if isinstance(e, ev.MessageAck)) == seqs
            assert [e.text for e in events if isinstance(e, ev.MessageReceived)] == [f"m{n}" for n in range(30)]
            assert client.transport.is_reading()
            await client.aclose()

    run(main)


# --- resources -------------------------------------------------------------------------------------

