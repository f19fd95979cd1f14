"""The asynchat client's read path against gadu's core fed the same bytes whole (hypothesis).

GaduClient (asynchat's read loop and terminators) hands the core one whole frame at a time (the header waits
for its body). Whatever the reads' sizes, its handlers must see what ClientConnection gives for the
whole stream in one call, in the same order, and the same bytes must go out; a handler that closes
the connection stops the read there; a frame the core refuses never becomes a terminator.
"""
from __future__ import annotations

import struct
from typing import Any, List, Tuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gadu import events as ev
from gadu import packets as pk
from gadu.client import ClientConnection
from gadu.limits import MAX_FRAME
from legacy.dispatcher import LOCAL_CLOSE, GaduClient, Timers

ALICE, BOB = 1001, 1002
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


class FakeSocket:
    """Hands the client its reads one by one, and keeps what it sends."""

    def __init__(self, reads: List[bytes]) -> None:
        self.reads = list(reads)
        self.sent = bytearray()

    def recv(self, size: int) -> bytes:
        if not self.reads:
            raise BlockingIOError
        data = self.reads.pop(0)
        self.reads[:0] = [data[size:]] if len(data) > size else []
        return data[:size]

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def fileno(self) -> int:
        return 1_000_000

    def close(self) -> None:
        pass


class Recorder(GaduClient):
    """Keeps what the handlers get as (kind, event); closes on the message whose text is `close_on`."""

    close_on = "\x00never"

    def __init__(self) -> None:
        self.seen: List[Tuple[str, Any]] = []
        self.terminators: List[Any] = []
        super().__init__(ALICE, "alice", map={}, timers=Timers())

    def set_terminator(self, term: Any) -> None:
        self.terminators.append(term)
        super().set_terminator(term)

    def on_login_ok(self) -> None:
        self.seen.append(("login", None))

    def on_message(self, event: ev.MessageReceived) -> None:
        self.seen.append(("message", (event.sender, event.seq, event.text)))
        if event.text == self.close_on:
            self.close()

    def on_ack(self, event: ev.MessageAck) -> None:
        self.seen.append(("ack", event))

    def on_pong(self) -> None:
        self.seen.append(("pong", None))

    def on_status(self, event: ev.StatusChanged) -> None:
        self.seen.append(("status", event))

    def on_disconnecting(self) -> None:
        self.seen.append(("disconnecting", None))

    def on_disconnect(self, closed: ev.Closed) -> None:
        self.seen.append(("closed", (closed.clean, closed.reason)))


def _expected(stream: bytes, close_on: str) -> Tuple[List[Tuple[str, Any]], bytes]:
    """What the core gives for the whole stream at once, as the Recorder would record it."""
    conn = ClientConnection(ALICE, "alice")
    seen: List[Tuple[str, Any]] = []
    for event in conn.receive_data(stream):
        kind = type(event)
        if kind is ev.LoginOk:
            seen.append(("login", None))
        elif kind is ev.MessageReceived:
            seen.append(("message", (event.sender, event.seq, event.text)))
            if event.text == close_on:
                seen.append(("closed", (False, LOCAL_CLOSE)))
                break
        elif kind is ev.MessageAck:
            seen.append(("ack", event))
        elif kind is ev.Pong:
            seen.append(("pong", None))
        elif kind is ev.StatusChanged:
            seen.append(("status", event))
        elif kind is ev.Disconnecting:
            seen.append(("disconnecting", None))
        elif kind is ev.Closed:
            seen.append(("closed", (event.clean, event.reason)))
    return seen, conn.data_to_send()


@st.composite
def frames(draw: Any) -> bytes:
    kind = draw(st.sampled_from(["message", "message", "ack", "pong", "status", "junk", "empty"]))
    if kind == "message":
        sent = pk.SendMsg80.from_text(ALICE, draw(st.integers(0, 2**32 - 1)), draw(TEXT))
        return pk.RecvMsg80.from_send(sent, BOB, draw(st.integers(0, 2**32 - 1))).encode()
    if kind == "ack":
        return pk.SendMsgAck(pk.GG_ACK_DELIVERED, BOB, draw(st.integers(0, 2**32 - 1))).encode()
    if kind == "pong":
        return pk.Pong().encode()
    if kind == "status":
        return pk.Status80(pk.StatusEntry(BOB, pk.GG_STATUS_AVAIL)).encode()
    if kind == "junk":  # a RECV_MSG80 too short to hold its header: the core's MalformedPacket
        body = draw(st.binary(max_size=12))
        return struct.pack("<II", pk.GG_RECV_MSG80, len(body)) + body
    return struct.pack("<II", 0x7777, 0)  # an unknown type complete at its header


@st.composite
def streams(draw: Any) -> Tuple[bytes, List[bytes], str]:
    """WELCOME, LOGIN80_OK, some frames, perhaps a 4 GiB header; cut into reads of any sizes."""
    body = b"".join(draw(st.lists(frames(), max_size=12)))
    if draw(st.booleans()):
        body += struct.pack("<II", pk.GG_RECV_MSG80, 0xFFFFFFFF) + b"x" * draw(st.integers(0, 20))
    stream = pk.Welcome(seed=0x1234).encode() + pk.Login80Ok().encode() + body
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    reads = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)]) if b > a]
    close_on = draw(st.sampled_from(["\x00never", ""]))  # "" closes on the first empty message
    return stream, reads, close_on


@SETTINGS
@given(streams())
def test_handlers_see_what_the_core_gives_for_the_whole_stream(case: Tuple[bytes, List[bytes], str]) -> None:
    stream, reads, close_on = case
    client = Recorder()
    client.close_on = close_on
    wire = FakeSocket(reads)
    client.set_socket(wire)
    client.connected = True
    for _ in range(len(reads)):
        if client.is_closed:
            break
        client.handle_read()
    expected, answer = _expected(stream, close_on)
    assert client.seen == expected
    # The core's own answers (the login, receipts) went out in order, and nothing else; a handler
    # that closed the connection left the frames after its own unread, and their receipts unsent.
    if ("message", None) != expected[-2:-1] and expected[-1:] == [("closed", (False, LOCAL_CLOSE))]:
        assert answer.startswith(bytes(wire.sent))
    else:
        assert bytes(wire.sent) == answer
    assert max(t for t in client.terminators if isinstance(t, int)) <= MAX_FRAME


def test_many_frames_in_one_read_come_out_in_order() -> None:
    """Reads of 64 KiB holding hundreds of frames: each reaches its handler, in order; the next read goes on."""
    messages = [pk.RecvMsg80.from_send(pk.SendMsg80.from_text(ALICE, seq, f"m{seq}"), BOB, seq).encode()
                for seq in range(500)]
    stream = pk.Welcome(seed=0x1234).encode() + pk.Login80Ok().encode() + b"".join(messages)
    client = Recorder()
    wire = FakeSocket([stream, pk.Pong().encode()])
    client.set_socket(wire)
    client.connected = True
    while wire.reads:  # past asynchat's read size (64 KiB) the stream takes more than one read
        client.handle_read()
    assert client.seen[0] == ("login", None)
    assert [text for kind, (_, _, text) in client.seen[1:-1]] == [f"m{seq}" for seq in range(500)]
    assert client.seen[-1] == ("pong", None)
    client.close()
