"""ClientConnection: the login it writes, its sends, and every packet it must refuse in each state."""
from __future__ import annotations

import struct

import pytest
from core_testing import ended_with

from gadu import events as ev
from gadu import packets as p
from gadu.client import CLIENT_TRANSITIONS, ClientConnection, ClientState
from gadu.errors import DescriptionTooLong, LocalProtocolError, RemoteProtocolError, TruncatedFrame
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1, check_login_hash

C2S = p.Direction.CLIENT_TO_SERVER
SEED = 0x5EED1234

#: One instance of every packet a server can send.
SERVER_SAMPLES = {
    p.Welcome: p.Welcome(SEED),
    p.Login80Ok: p.Login80Ok(),
    p.Login80Failed: p.Login80Failed(),
    p.LoginFailed: p.LoginFailed(),
    p.LoginOk: p.LoginOk(),
    p.NeedEmail: p.NeedEmail(),
    p.LoginHashTypeInvalid: p.LoginHashTypeInvalid(),
    p.NotifyReply80: p.NotifyReply80((p.StatusEntry(1001, p.GG_STATUS_AVAIL),)),
    p.Status80: p.Status80(p.StatusEntry(1001, p.GG_STATUS_BUSY_DESCR, "zajęty")),
    p.RecvMsg80: p.RecvMsg80.from_send(p.SendMsg80.from_text(1002, 5, "cześć"), 1001, 1400000000),
    p.SendMsgAck: p.SendMsgAck(p.GG_ACK_DELIVERED, 1001, 5),
    p.TypingNotify: p.TypingNotify(3, 1001),
    p.Pong: p.Pong(),
    p.Disconnecting: p.Disconnecting(),
    p.DisconnectAck: p.DisconnectAck(),
    p.Unknown: p.Unknown(0x0099, b"?"),
}


class Clock:
    def __init__(self, now: float = 1400000000.5) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def sent_packets(data: bytes):
    return FrameParser(C2S).feed(data)


def client_in(state: ClientState, **options) -> ClientConnection:
    """A client driven through real packets into `state`."""
    client = ClientConnection(1002, "hasło", **options)
    if state is ClientState.CONNECTING:
        return client
    client.receive_data(p.Welcome(SEED).encode())
    client.data_to_send()
    if state is ClientState.LOGGING_IN:
        return client
    client.receive_data(p.Login80Ok().encode())
    if state is ClientState.CONNECTED:
        return client
    client.send_logoff()
    if state is ClientState.DISCONNECTING:
        return client
    client.receive_data(b"")
    assert client.state is ClientState.CLOSED
    return client


def test_the_table_covers_every_state():
    assert set(CLIENT_TRANSITIONS) == set(ClientState)


ILLEGAL = [
    (state, cls)
    for state in ClientState
    if state is not ClientState.CLOSED
    for cls in SERVER_SAMPLES
    if cls not in CLIENT_TRANSITIONS[state]
]
LEGAL = [(state, cls) for state in ClientState for cls in CLIENT_TRANSITIONS[state]]


@pytest.mark.parametrize("state,cls", ILLEGAL, ids=[f"{s.name}-{c.NAME}" for s, c in ILLEGAL])
def test_a_packet_illegal_in_the_state_is_a_remote_protocol_error(state, cls):
    """Each server packet outside the table for the state ends the session: a Closed whose error is a
    RemoteProtocolError naming the packet, the role and the state."""
    client = client_in(state)
    message = str(ended_with(client.receive_data(SERVER_SAMPLES[cls].encode()), RemoteProtocolError))
    assert SERVER_SAMPLES[cls].NAME in message and "client" in message and state.name in message
    assert client.state is ClientState.CLOSED


@pytest.mark.parametrize("state,cls", LEGAL, ids=[f"{s.name}-{c.NAME}" for s, c in LEGAL])
def test_a_packet_legal_in_the_state_leads_where_the_table_says(state, cls):
    client = client_in(state)
    client.receive_data(SERVER_SAMPLES[cls].encode())
    assert client.state is CLIENT_TRANSITIONS[state][cls]


def test_data_after_close_is_refused():
    client = client_in(ClientState.CLOSED)
    with pytest.raises(LocalProtocolError, match="after the session ended"):
        client.receive_data(p.Pong().encode())
    assert client.receive_data(b"") == []


SENDS = {
    "send_contacts": ([1001],),
    "send_add_contact": (1001,),
    "send_remove_contact": (1001,),
    "send_status": (p.GG_STATUS_BUSY,),
    "send_message": (1001, "hej"),
    "send_typing": (1001, 2),
    "send_ping": (),
    "send_logoff": (),
}
WRONG_STATE_SENDS = [(s, name) for s in ClientState if s is not ClientState.CONNECTED for name in SENDS]


@pytest.mark.parametrize("state,name", WRONG_STATE_SENDS, ids=[f"{s.name}-{n}" for s, n in WRONG_STATE_SENDS])
def test_sends_outside_connected_are_local_protocol_errors(state, name):
    """Every send needs CONNECTED; elsewhere it raises LocalProtocolError naming the state."""
    client = client_in(state)
    with pytest.raises(LocalProtocolError, match=state.name):
        getattr(client, name)(*SENDS[name])
    assert client.state is state


@pytest.mark.parametrize("hash_type", [GG_LOGIN_HASH_SHA1, GG_LOGIN_HASH_GG32])
def test_welcome_makes_the_login_with_a_hash_of_the_seed(hash_type):
    """GG_WELCOME gives no event but queues GG_LOGIN80 with the hash of the password and that seed."""
    client = ClientConnection(1002, "hasło", hash_type=hash_type)
    assert client.data_to_send() == b""
    assert client.receive_data(p.Welcome(SEED).encode()) == []
    assert client.state is ClientState.LOGGING_IN
    (login,) = sent_packets(client.data_to_send())
    assert client.data_to_send() == b""
    assert isinstance(login, p.Login80)
    assert (login.uin, login.hash_type, login.status) == (1002, hash_type, p.GG_STATUS_AVAIL)
    assert (login.features, login.flags, login.version) == (0x2737, 0x00800001, p.GG8_VERSION)
    assert check_login_hash(hash_type, login.login_hash, "hasło".encode(), SEED)
    assert not check_login_hash(hash_type, login.login_hash, "hasło".encode(), SEED + 1)


def test_login_carries_initial_status_and_description():
    client = ClientConnection(7, b"pw", status=p.GG_STATUS_AVAIL_DESCR, description="na kawie", image_size=64)
    client.receive_data(p.Welcome(1).encode())
    (login,) = sent_packets(client.data_to_send())
    assert (login.status, login.description, login.image_size) == (p.GG_STATUS_AVAIL_DESCR, "na kawie", 64)


def test_bad_construction_is_refused_early():
    """A bad hash type, a NUL in the password or a too-long description fail at construction."""
    with pytest.raises(ValueError, match="hash type"):
        ClientConnection(1, "pw", hash_type=3)
    with pytest.raises(ValueError, match="NUL"):
        ClientConnection(1, "p\x00w")
    with pytest.raises(DescriptionTooLong):
        ClientConnection(1, "pw", description="x" * 256)


def test_login_ok_and_failed_events():
    client = client_in(ClientState.LOGGING_IN)
    assert client.receive_data(p.Login80Ok().encode()) == [ev.LoginOk()]
    assert client.state is ClientState.CONNECTED
    for verdict in (p.Login80Failed(), p.LoginFailed()):
        client = client_in(ClientState.LOGGING_IN)
        assert client.receive_data(verdict.encode()) == [ev.LoginFailed()]
        assert client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]


def test_a_received_message_is_reported_and_acknowledged_automatically():
    """GG_RECV_MSG80 gives MessageReceived and queues GG_RECV_MSG_ACK with its seq (feature 0x400)."""
    client = client_in(ClientState.CONNECTED)
    (event,) = client.receive_data(SERVER_SAMPLES[p.RecvMsg80].encode())
    assert event == ev.MessageReceived(
        1001, 5, 1400000000, p.GG_CLASS_CHAT, p.html_from_text("cześć"), "cześć", "cześć"
    )
    assert sent_packets(client.data_to_send()) == [p.RecvMsgAck(5)]


def test_no_automatic_ack_without_the_msg_ack_feature():
    client = client_in(ClientState.CONNECTED, features=p.GG8_FEATURES & ~p.GG_FEATURE_MSG_ACK)
    client.receive_data(SERVER_SAMPLES[p.RecvMsg80].encode())
    assert client.data_to_send() == b""


def test_presence_ack_typing_and_pong_events():
    client = client_in(ClientState.CONNECTED)
    data = b"".join(SERVER_SAMPLES[c].encode() for c in (p.NotifyReply80, p.Status80, p.SendMsgAck, p.TypingNotify))
    assert client.receive_data(data + p.Pong().encode() + p.Unknown(0x77, b"").encode()) == [
        ev.ContactsReply((ev.StatusChanged(1001, p.GG_STATUS_AVAIL, ""),)),
        ev.StatusChanged(1001, p.GG_STATUS_BUSY_DESCR, "zajęty"),
        ev.MessageAck(1001, 5, p.GG_ACK_DELIVERED),
        ev.Typing(1001, 3),
        ev.Pong(),
    ]


@pytest.mark.parametrize(
    "count,shape",
    [(0, [("GG_LIST_EMPTY", 0)]), (1, [("GG_NOTIFY_LAST", 1)]), (400, [("GG_NOTIFY_LAST", 400)]),
     (401, [("GG_NOTIFY_FIRST", 400), ("GG_NOTIFY_LAST", 1)]),
     (1000, [("GG_NOTIFY_FIRST", 400), ("GG_NOTIFY_FIRST", 400), ("GG_NOTIFY_LAST", 200)])],
)
def test_contact_list_goes_out_in_chunks_of_400(count, shape):
    """Empty list: GG_LIST_EMPTY; else GG_NOTIFY_FIRST chunks of 400 and a GG_NOTIFY_LAST (protocol.html 1.5)."""
    client = client_in(ClientState.CONNECTED)
    sent = sent_packets(client.send_contacts(range(5000, 5000 + count)))
    assert [(x.NAME, len(getattr(x, "entries", ()))) for x in sent] == shape
    uins = [e.uin for x in sent for e in getattr(x, "entries", ())]
    assert uins == list(range(5000, 5000 + count))


def test_contact_entries_keep_their_types():
    client = client_in(ClientState.CONNECTED)
    (last,) = sent_packets(client.send_contacts([1001, p.NotifyEntry(1003, p.GG_USER_BLOCKED)]))
    assert last.entries == (p.NotifyEntry(1001, p.GG_USER_NORMAL), p.NotifyEntry(1003, p.GG_USER_BLOCKED))


def test_single_sends_encode_the_right_packets():
    client = client_in(ClientState.CONNECTED)
    assert sent_packets(client.send_add_contact(1001)) == [p.AddNotify(1001, 3)]
    assert sent_packets(client.send_remove_contact(1001, 4)) == [p.RemoveNotify(1001, 4)]
    assert sent_packets(client.send_status(p.GG_STATUS_BUSY_DESCR, "zaraz")) == [
        p.NewStatus80(p.GG_STATUS_BUSY_DESCR, 0x00800001, "zaraz")
    ]
    assert sent_packets(client.send_typing(1001, 4)) == [p.TypingNotify(4, 1001)]
    assert sent_packets(client.send_ping()) == [p.Ping()]
    with pytest.raises(LocalProtocolError, match="send_logoff"):
        client.send_status(p.GG_STATUS_NOT_AVAIL)


def test_message_seq_is_time_based_and_strictly_increasing():
    """seq is the clock's second, bumped past the last one (libgadu); it never goes back."""
    clock = Clock()
    client = client_in(ClientState.CONNECTED, clock=clock)
    data, first = client.send_message(1001, "a")
    assert first == 1400000000
    assert sent_packets(data) == [p.SendMsg80.from_text(1001, first, "a")]
    assert client.send_message(1001, "b")[1] == first + 1
    clock.now -= 100
    assert client.send_message(1001, "c")[1] == first + 2
    clock.now += 1000
    assert client.send_message(1001, "d")[1] == int(clock.now)


def test_a_failed_send_does_not_use_up_a_seq():
    clock = Clock()
    client = client_in(ClientState.CONNECTED, clock=clock)
    with pytest.raises(LocalProtocolError):
        client.send_message(1001, "x" * 5000)
    assert client.send_message(1001, "ok")[1] == 1400000000


@pytest.mark.parametrize("description,status", [("", p.GG_STATUS_NOT_AVAIL), ("pa", p.GG_STATUS_NOT_AVAIL_DESCR)])
def test_logoff_then_eof_closes_cleanly(description, status):
    """Logoff is NEW_STATUS80 NOT_AVAIL(_DESCR); then DISCONNECTING; the server's close is a clean Closed."""
    client = client_in(ClientState.CONNECTED)
    assert sent_packets(client.send_logoff(description)) == [p.NewStatus80(status, 0x00800001, description)]
    assert client.state is ClientState.DISCONNECTING
    assert client.receive_data(p.DisconnectAck().encode()) == []
    assert client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]
    assert client.state is ClientState.CLOSED


def test_server_disconnecting_then_eof_is_clean():
    client = client_in(ClientState.CONNECTED)
    assert client.receive_data(p.Disconnecting().encode()) == [ev.Disconnecting()]
    assert client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]


@pytest.mark.parametrize("state", [ClientState.CONNECTING, ClientState.LOGGING_IN, ClientState.CONNECTED])
def test_eof_elsewhere_is_an_unclean_close(state):
    client = client_in(state)
    (closed,) = client.receive_data(b"")
    assert not closed.clean and "server closed" in closed.reason


def test_eof_mid_packet_ends_with_truncated_frame():
    client = client_in(ClientState.CONNECTED)
    client.receive_data(p.Pong().encode() + struct.pack("<II", p.GG_STATUS80, 40) + b"abc")
    ended_with(client.receive_data(b""), TruncatedFrame)
    assert client.state is ClientState.CLOSED


def test_garbage_instead_of_welcome_is_a_typed_error():
    """A 4 GiB length (garbage) ends the session with FrameTooLarge, a RemoteProtocolError."""
    client = ClientConnection(1, "pw")
    ended_with(client.receive_data(b"HTTP/1.1 400 Bad Request\r\n"), RemoteProtocolError)
    assert client.state is ClientState.CLOSED


def test_events_before_bad_bytes_come_before_the_closed():
    """A message and the garbage after it in one read: the message's event, then the Closed that
    carries the error; the message's receipt is still in data_to_send()."""
    conn = ClientConnection(1001, "alice")
    conn.receive_data(p.Welcome(seed=1).encode())
    conn.data_to_send()
    conn.receive_data(p.Login80Ok().encode())
    message = p.RecvMsg80(1002, 9, 0, p.GG_CLASS_CHAT, "", "hej")
    events = conn.receive_data(message.encode() + b"\xff" * 16)
    assert [type(e) for e in events] == [ev.MessageReceived, ev.Closed]
    assert events[0].text == "hej"
    ended_with(events, RemoteProtocolError)
    assert conn.state is ClientState.CLOSED
    assert p.RecvMsgAck(9).encode() in conn.data_to_send()
