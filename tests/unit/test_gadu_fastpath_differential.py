"""The core's fast paths against its general paths, on random input (hypothesis).

The hot packets (SEND_MSG_ACK and RECV_MSG80 to a client, SEND_MSG80 and RECV_MSG_ACK to a server
session) skip the packet objects; the encoders skip them on the way out. Here the same bytes go
through both ways (the general one by emptying the fast tables) and must give the same frames, the
same events and the same typed errors with the same messages, malformed input and any split included.
"""
from __future__ import annotations

import struct
from typing import Any, Callable, Iterable, Iterator, List, Tuple, Union

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gadu import client as client_module
from gadu import events as ev
from gadu import packets as pk
from gadu import server_session as session_module
from gadu.errors import ProtocolError
from gadu.limits import MAX_MESSAGE
from workbench.bench.core import logged_in_client, logged_in_session

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U32 = st.integers(0, 0xFFFFFFFF)
ANY_INT = st.one_of(U32, st.integers(-5, -1), st.integers(2**32, 2**32 + 5))
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
CP1250_TEXT = TEXT.map(pk.plain_from_text).filter(lambda t: "\x00" not in t)
LIBGADU_HTML = TEXT.map(pk.html_from_text)


def _message_body(head: bytes, html: bytes, plain: bytes, attributes: bytes) -> bytes:
    return head + html + plain + attributes


@st.composite
def message_bodies(draw: Any, head_size: int) -> bytes:
    """A message body: well formed (libgadu's HTML or any text, CP1250 plain), then perhaps damaged."""
    html = draw(st.one_of(LIBGADU_HTML, TEXT, st.just(""))).replace("\x00", "").encode("utf-8")
    html_part = html + b"\x00" if html or draw(st.booleans()) else b""
    plain = draw(CP1250_TEXT).encode("cp1250") + draw(st.sampled_from([b"", b"\x81", b"\x98x"]))
    attributes = draw(st.sampled_from([b"", pk.DEFAULT_ATTRIBUTES]))
    offset_plain = head_size + len(html_part)
    offset_attr = offset_plain + len(plain) + 1
    fields = draw(st.lists(U32, min_size=head_size // 4 - 2, max_size=head_size // 4 - 2))
    head = struct.pack(f"<{head_size // 4}I", *fields, offset_plain, offset_attr)
    body = bytearray(_message_body(head, html_part, plain + b"\x00", attributes))
    damage = draw(st.sampled_from(["none", "none", "byte", "cut", "offsets", "terminator", "stray NUL"]))
    if damage == "terminator":  # a part's NUL overwritten: that part runs into the next
        body[draw(st.sampled_from([offset_plain - 1, offset_attr - 1]))] = draw(st.integers(1, 255))
    elif damage == "stray NUL":  # a NUL inside the HTML or the plain part
        body[draw(st.integers(head_size, offset_attr - 1))] = 0
    elif damage == "byte" and body:
        body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
    elif damage == "cut":
        del body[draw(st.integers(0, len(body))):]
    elif damage == "offsets":
        struct.pack_into("<II", body, head_size - 8, draw(U32 | st.integers(0, 80)), draw(U32 | st.integers(0, 80)))
    return bytes(body)


def _frame(kind: int, body: bytes) -> bytes:
    return struct.pack("<II", kind, len(body)) + body


@st.composite
def client_streams(draw: Any) -> Tuple[bytes, List[int]]:
    """What a server might send a logged-in client: hot frames mostly, others, garbage; and the splits."""
    frame = st.one_of(
        st.builds(_frame, st.just(pk.GG_RECV_MSG80), message_bodies(24)),
        st.builds(_frame, st.just(pk.GG_SEND_MSG_ACK), st.binary(max_size=14)),
        st.builds(_frame, st.sampled_from([pk.GG_PONG, pk.GG_STATUS80, pk.GG_DISCONNECTING, 0x99, pk.GG_WELCOME]),
                  st.binary(max_size=30)),
    )
    data = b"".join(draw(st.lists(frame, max_size=6))) + draw(st.sampled_from([b"", b"\x05\x00", b"\xff" * 8]))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    return data, cuts


@st.composite
def server_streams(draw: Any) -> Tuple[bytes, List[int]]:
    """What a logged-in client might send its server session."""
    frame = st.one_of(
        st.builds(_frame, st.just(pk.GG_SEND_MSG80), message_bodies(20)),
        st.builds(_frame, st.just(pk.GG_RECV_MSG_ACK), st.binary(max_size=6)),
        st.builds(_frame, st.sampled_from([pk.GG_PING, pk.GG_TYPING_NOTIFY, pk.GG_LOGIN80, 0x99]),
                  st.binary(max_size=30)),
    )
    data = b"".join(draw(st.lists(frame, max_size=6))) + draw(st.sampled_from([b"", b"\x2d\x00", b"\xff" * 8]))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    return data, cuts


def _pieces(data: bytes, cuts: List[int]) -> List[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


def _error_key(error: Any) -> Any:
    if error is None:
        return None
    return type(error), str(error), getattr(error, "packets", ()), getattr(error, "frames", ())


def _event_key(event: Any) -> Any:
    error = getattr(event, "error", None)
    if isinstance(event, ev.MessageReceived):  # read every lazy field, then compare as a whole
        return event, repr(event), hash(event), event.text
    return event, repr(event), _error_key(error)


def _run(make: Callable[[], Any], pieces: Iterable[Union[bytes, memoryview]], module: Any, fast: bool) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(module, "_FAST", {})
            if hasattr(module, "_INLINE"):
                patch.setattr(module, "_INLINE", False)
        machine = make()
        trace = []
        for piece in pieces:
            if machine.state.name == "CLOSED":
                break
            events = machine.receive_data(piece)
            trace.append(([_event_key(e) for e in events], machine.data_to_send(), machine.state))
        return trace


def _recv_msg80(html: bytes, plain: bytes, offset_plain: int = 0, offset_attr: int = 0) -> bytes:
    """A RECV_MSG80 frame of these raw parts (NULs included), at their offsets unless others are given."""
    body = struct.pack("<IIIIII", 1002, 7, 99, 8, offset_plain or 24 + len(html), offset_attr or 24 + len(html + plain))
    return _frame(pk.GG_RECV_MSG80, body + html + plain + pk.DEFAULT_ATTRIBUTES)


@SETTINGS
@given(stream=client_streams())
@example(stream=(_recv_msg80(b"ab\x00", b"xyz"), []))  # the plain part's NUL missing
@example(stream=(_recv_msg80(b"ab", b"xy\x00"), []))  # the HTML part's NUL missing
@example(stream=(_recv_msg80(b"a\x00b\x00", b"xy\x00"), [3]))  # a NUL inside the HTML part
@example(stream=(_recv_msg80(b"ab\x00", b"x\x00y\x00"), []))  # a NUL inside the plain part
@example(stream=(_recv_msg80(b"", b"xy\x00"), []))  # no HTML part
@example(stream=(_recv_msg80(b"\xc5\x00", b"xy\x00"), []))  # HTML not UTF-8
def test_client_fast_path_gives_what_the_general_path_gives(stream: Tuple[bytes, List[int]]) -> None:
    data, cuts = stream
    pieces = _pieces(data, cuts)
    make = lambda: logged_in_client(1_000)  # noqa: E731
    general = _run(make, pieces, client_module, False)
    assert _run(make, pieces, client_module, True) == general
    # As asyncio's BufferedProtocol hands them: views of one reused buffer, overwritten after each call.
    reused = bytearray(max(map(len, pieces), default=0))

    def views() -> Iterator[memoryview]:
        for piece in pieces:
            reused[: len(piece)] = piece
            yield memoryview(reused)[: len(piece)]

    assert _run(make, views(), client_module, True) == general


@SETTINGS
@given(stream=server_streams())
def test_server_fast_path_gives_what_the_general_path_gives(stream: Tuple[bytes, List[int]]) -> None:
    data, cuts = stream
    pieces = _pieces(data, cuts)
    assert _run(logged_in_session, pieces, session_module, True) == _run(
        logged_in_session, pieces, session_module, False)


@SETTINGS
@given(frame=st.one_of(st.builds(_frame, st.just(pk.GG_SEND_MSG80), message_bodies(20)),
                       st.builds(_frame, st.just(pk.GG_RECV_MSG_ACK), st.binary(min_size=3, max_size=5))))
@example(frame=_frame(pk.GG_SEND_MSG80, struct.pack("<5I", 1, 2, 3, 25, 28) + b"\xff<b>\x00hi\x00"))  # bad UTF-8
@example(frame=_frame(pk.GG_SEND_MSG80, struct.pack("<5I", 1, 2, 3, 25, 28) + b"\xc5\xbc<b\x00hi\x00"))
@example(frame=_frame(pk.GG_SEND_MSG80, struct.pack("<5I", 1, 2, 3, 24, 28) + b"\xc5\xbc<b\x00hi\x00"))
@example(frame=_frame(pk.GG_SEND_MSG80, struct.pack("<5I", 1, 2, 3, 20, 23) + b"h\x98\x00"))
@example(frame=_frame(pk.GG_SEND_MSG80, struct.pack("<5I", 1, 2, 3, 20, 22) + b"hi\x00"))
@example(frame=_frame(pk.GG_RECV_MSG_ACK, b"\x01\x02\x03\x04"))
def test_server_one_whole_frame_read_gives_what_the_general_path_gives(frame: bytes) -> None:
    """The usual read, one whole SEND_MSG80 or receipt, is checked inline by receive_data(): the same
    events, state and errors as the general path, damaged frames included."""
    assert _run(logged_in_session, [frame], session_module, True) == _run(
        logged_in_session, [frame], session_module, False)


def _outcome(action: Callable[[], Any]) -> Any:
    try:
        return "ok", action()
    except (ProtocolError, ValueError, UnicodeError) as exc:
        return type(exc), str(exc)


@SETTINGS
@given(body=message_bodies(20), sender=ANY_INT, when=ANY_INT, msgclass=st.integers(-1, 40))
def test_send_msg80_from_wire_and_its_delivery_equal_decode(body: bytes, sender: int, when: int, msgclass: int) -> None:
    fast, general = _outcome(lambda: pk.SendMsg80.from_wire(body)), _outcome(lambda: pk.SendMsg80.decode(body))
    assert fast[0] == general[0] and (fast[0] != "ok" or repr(fast[1]) == repr(general[1]))
    assert fast == general
    if fast[0] == "ok":
        deliveries = [pk.RecvMsg80.from_send(message, sender, when, msgclass) for message in (fast[1], general[1])]
        assert deliveries[0] == deliveries[1]
        assert _outcome(deliveries[0].encode) == _outcome(deliveries[1].encode)


@SETTINGS
@given(body=message_bodies(20), sender=ANY_INT, when=ANY_INT, msgclass=st.integers(-1, 40), whole=st.booleans())
def test_send_delivery_of_a_received_message_equals_the_packet_objects_frame(
        body: bytes, sender: int, when: int, msgclass: int, whole: bool) -> None:
    """The event the fast path makes (from one whole frame, or from a frame among others) relays what
    RecvMsg80.from_send(SendMsg80.decode(body)).encode() gives, errors included."""
    frame = _frame(pk.GG_SEND_MSG80, body)
    general = _outcome(lambda: pk.SendMsg80.decode(body))
    session = logged_in_session()
    events = session.receive_data(frame if whole else frame + pk.RecvMsgAck.encode_seq(7))
    if general[0] != "ok":
        assert isinstance(events[-1], session_module.ConnectionClosed) and _error_key(events[-1].error)[:2] == general
        return
    event, message = events[0], general[1]
    made = session_module.SendMessage(message)  # as the general path makes it
    assert type(event) is session_module.SendMessage
    assert event == made and hash(event) == hash(made) and repr(event) == repr(made)
    assert (event.recipient, event.seq, event.msgclass) == (message.recipient, message.seq, message.msgclass)
    expected = _outcome(lambda: pk.RecvMsg80.from_send(message, sender, when, msgclass).encode())
    assert _outcome(lambda: session.send_delivery(event, sender, when, msgclass)) == expected
    assert _outcome(lambda: session.send_delivery(made, sender, when, msgclass)) == expected


@SETTINGS
@given(recipient=ANY_INT, seq=ANY_INT, text=st.text(max_size=60), msgclass=ANY_INT)
def test_encode_text_equals_the_packet_objects_frame(recipient: int, seq: int, text: str, msgclass: int) -> None:
    fast = _outcome(lambda: pk.SendMsg80.encode_text(recipient, seq, text, msgclass))
    general = _outcome(lambda: pk.SendMsg80.from_text(recipient, seq, text, msgclass).encode())
    assert fast == general


#: Texts dense in what encode_text() treats apart: the escapes, NUL, a byte order mark, characters
#: CP1250 lacks, lone surrogates (UTF-8 refuses them), and lengths around MAX_MESSAGE.
ESCAPE_HEAVY_TEXT = st.one_of(
    st.text(st.sampled_from("&<>'\"\r\n\x00\ufeffaąΩ\U0001f600\ud800\udfff;#"), max_size=40),
    # A random pattern of "a&ż" repeated to about MAX_MESSAGE: drawing each of ~2,000 characters took
    # hypothesis on 3.8 two minutes for this test.
    st.builds(lambda unit, size, tail: (unit * MAX_MESSAGE)[:size] + tail,
              st.text(st.sampled_from("a&ż"), min_size=1, max_size=12),
              st.integers(MAX_MESSAGE - 2, MAX_MESSAGE), st.text(max_size=3)),
)


@SETTINGS
@given(recipient=U32, seq=U32, text=ESCAPE_HEAVY_TEXT, msgclass=U32)
def test_encode_text_equals_the_packet_objects_frame_on_escapes_and_bad_text(
        recipient: int, seq: int, text: str, msgclass: int) -> None:
    fast = _outcome(lambda: pk.SendMsg80.encode_text(recipient, seq, text, msgclass))
    general = _outcome(lambda: pk.SendMsg80.from_text(recipient, seq, text, msgclass).encode())
    assert fast == general


@SETTINGS
@given(status=ANY_INT, recipient=ANY_INT, seq=ANY_INT)
def test_server_send_ack_equals_the_packet_objects_frame(status: int, recipient: int, seq: int) -> None:
    session = logged_in_session()
    assert _outcome(lambda: session.send_ack(status, recipient, seq)) == _outcome(
        lambda: pk.SendMsgAck(status, recipient, seq).encode())


def test_the_fast_tables_are_the_hot_packets() -> None:
    """Guard for the tests above: emptying these tables is what sends the hot packets the general way."""
    assert set(client_module._FAST) == {pk.GG_RECV_MSG80, pk.GG_SEND_MSG_ACK}
    assert set(session_module._FAST) == {pk.GG_SEND_MSG80, pk.GG_RECV_MSG_ACK}
    assert session_module._INLINE is True


def test_the_tuple_events_behave_as_the_frozen_dataclasses_they_replaced() -> None:
    """MessageAcked and SendMessage are tuples underneath: equal only to their own kind, shown, hashed,
    pickled and frozen as a frozen dataclass of one field (`seq`, `message`) is."""
    import pickle

    acked = session_module.MessageAcked(7)
    assert acked == session_module.MessageAcked(7) and acked != session_module.MessageAcked(8)
    assert acked != (7,) and (7,) != acked and hash(acked) == hash(session_module.MessageAcked(7))
    assert repr(acked) == "MessageAcked(seq=7)" and pickle.loads(pickle.dumps(acked)) == acked
    message = pk.SendMsg80.from_text(1002, 5, "zażółć <b>")
    received = logged_in_session().receive_data(message.encode())[0]
    assert received == session_module.SendMessage(message) and received.message == message
    assert received != tuple(received) and repr(received) == f"SendMessage(message={message!r})"
    assert pickle.loads(pickle.dumps(received)) == received
    for event, name in ((acked, "seq"), (received, "message"), (received, "seq")):
        with pytest.raises(AttributeError):
            setattr(event, name, 1)


def test_a_message_event_from_the_wire_is_a_frozen_message_received_like_one_built_whole() -> None:
    """MessageReceived.from_wire() builds the event as another class and then changes its class:
    what comes out must be the real thing, as frozen, equal, hashable and picklable as __init__'s."""
    import pickle
    from dataclasses import FrozenInstanceError

    fast = ev.MessageReceived.from_wire(1002, 7, 99, 8, "<b>ż</b>".encode(), "ż".encode("cp1250"))
    whole = ev.MessageReceived(1002, 7, 99, 8, "<b>ż</b>", "ż", "ż")
    assert type(fast) is ev.MessageReceived
    assert fast == whole and hash(fast) == hash(whole) and repr(fast) == repr(whole)
    assert pickle.loads(pickle.dumps(fast)) == whole
    for name in ("sender", "seq", "_html", "_text"):
        with pytest.raises(FrozenInstanceError):
            setattr(fast, name, 1)
        with pytest.raises(FrozenInstanceError):
            delattr(fast, name)


@SETTINGS
@given(raw=st.binary(max_size=40) | st.just(bytes(range(256))))
def test_decode_plain_reads_cp1250_as_the_codec_does(raw: bytes) -> None:
    """decode_plain() calls the codec's C function with its table: the same text as bytes.decode(),
    libgadu's '?' for the five bytes CP1250 leaves undefined."""
    undefined = b"\x81\x83\x88\x90\x98"
    assert pk.decode_plain(raw) == raw.translate(bytes.maketrans(undefined, b"?????")).decode("cp1250")


def test_a_message_ack_from_the_wire_is_a_frozen_message_ack_like_one_built_whole() -> None:
    """MessageAck is a tuple in the wire's order underneath, built from struct's tuple by the fast
    SEND_MSG_ACK handler: equal only to its own kind, hashed, shown, pickled and frozen as the frozen
    dataclass of (recipient, seq, status) it replaced."""
    import pickle
    from dataclasses import FrozenInstanceError

    fast = logged_in_client(1).receive_data(pk.SendMsgAck(pk.GG_ACK_QUEUED, 1002, 77).encode())[0]
    whole = ev.MessageAck(1002, 77, pk.GG_ACK_QUEUED)
    assert type(fast) is ev.MessageAck
    assert fast == whole and hash(fast) == hash(whole) and repr(fast) == repr(whole)
    assert (fast.recipient, fast.seq, fast.status) == (1002, 77, pk.GG_ACK_QUEUED)
    assert repr(fast) == f"MessageAck(recipient=1002, seq=77, status={pk.GG_ACK_QUEUED})"
    assert hash(fast) == hash((1002, 77, pk.GG_ACK_QUEUED)) and pickle.loads(pickle.dumps(fast)) == whole
    assert fast != ev.MessageAck(1002, 78, pk.GG_ACK_QUEUED) and not fast != whole
    assert fast != (pk.GG_ACK_QUEUED, 1002, 77) and (pk.GG_ACK_QUEUED, 1002, 77) != fast
    for name in ("recipient", "seq", "status", "other"):
        with pytest.raises(FrozenInstanceError):
            setattr(fast, name, 1)
        with pytest.raises(FrozenInstanceError):
            delattr(fast, name)
