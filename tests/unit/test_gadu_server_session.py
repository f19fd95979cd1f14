"""ServerSession: WELCOME, the login check, client packets as events, and every packet refused per state."""
from __future__ import annotations

import struct

import pytest
from core_testing import ended_with

from gadu import packets as p
from gadu import server_session as ss
from gadu.errors import FrameTooLarge, LocalProtocolError, RemoteProtocolError, TruncatedFrame
from gadu.framing import FrameParser
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1, login_hash_field
from gadu.limits import MAX_FRAME
from gadu.server_session import SERVER_TRANSITIONS, ServerSession, ServerState

S2C = p.Direction.SERVER_TO_CLIENT
SEED = 0xC0FFEE
PASSWORD = "hasło".encode()
USERS = {1001: b"ala", 1002: PASSWORD}


def login80(uin=1002, password=PASSWORD, hash_type=GG_LOGIN_HASH_SHA1, seed=SEED, **fields) -> p.Login80:
    return p.Login80(uin, hash_type, login_hash_field(hash_type, password, seed), **fields)


#: One instance of every packet a client can send.
CLIENT_SAMPLES = {
    p.Login80: login80(),
    p.NewStatus80: p.NewStatus80(p.GG_STATUS_BUSY),
    p.NotifyFirst: p.NotifyFirst((p.NotifyEntry(1001),)),
    p.NotifyLast: p.NotifyLast((p.NotifyEntry(1001),)),
    p.ListEmpty: p.ListEmpty(),
    p.AddNotify: p.AddNotify(1001),
    p.RemoveNotify: p.RemoveNotify(1001),
    p.SendMsg80: p.SendMsg80.from_text(1001, 9, "hej"),
    p.RecvMsgAck: p.RecvMsgAck(9),
    p.TypingNotify: p.TypingNotify(1, 1001),
    p.Ping: p.Ping(),
    p.Unknown: p.Unknown(0x0099, b""),
}


def received(data: bytes):
    return FrameParser(S2C).feed(data)


def session_in(state: ServerState) -> ServerSession:
    """A session driven through real packets into `state`."""
    session = ServerSession(USERS.get, seed=SEED)
    if state is ServerState.NEW:
        return session
    session.start()
    if state is ServerState.AWAITING_LOGIN:
        return session
    session.receive_data(login80().encode())
    session.data_to_send()
    if state is ServerState.CONNECTED:
        return session
    session.receive_data(p.NewStatus80(p.GG_STATUS_NOT_AVAIL).encode())
    if state is ServerState.DISCONNECTING:
        return session
    session.receive_data(b"")
    assert session.state is ServerState.CLOSED
    return session


def test_the_table_covers_every_state():
    assert set(SERVER_TRANSITIONS) == set(ServerState)


ILLEGAL = [
    (state, cls)
    for state in (ServerState.AWAITING_LOGIN, ServerState.CONNECTED, ServerState.DISCONNECTING)
    for cls in CLIENT_SAMPLES
    if cls not in SERVER_TRANSITIONS[state]
]


@pytest.mark.parametrize("state,cls", ILLEGAL, ids=[f"{s.name}-{c.NAME}" for s, c in ILLEGAL])
def test_a_packet_illegal_in_the_state_is_a_remote_protocol_error(state, cls):
    """Login twice, a message before login, anything after a logoff: the session ends with a
    RemoteProtocolError naming packet, role and state, and is then CLOSED."""
    session = session_in(state)
    message = str(ended_with(session.receive_data(CLIENT_SAMPLES[cls].encode()), RemoteProtocolError))
    assert CLIENT_SAMPLES[cls].NAME in message and "server" in message and state.name in message
    assert session.state is ServerState.CLOSED


@pytest.mark.parametrize("state,match", [(ServerState.NEW, "before GG_WELCOME"), (ServerState.CLOSED, "ended")])
@pytest.mark.parametrize("cls", list(CLIENT_SAMPLES), ids=lambda c: c.NAME)
def test_no_packet_is_legal_before_welcome_or_after_close(state, match, cls):
    """Before GG_WELCOME a packet ends the session; after its end, feeding it is the owner's mistake."""
    session = session_in(state)
    if state is ServerState.NEW:
        assert match in str(ended_with(session.receive_data(CLIENT_SAMPLES[cls].encode()), RemoteProtocolError))
    else:
        with pytest.raises(LocalProtocolError, match=match):
            session.receive_data(CLIENT_SAMPLES[cls].encode())


def test_start_sends_welcome_with_the_seed_once():
    session = ServerSession(USERS.get, seed=SEED)
    assert received(session.start()) == [p.Welcome(SEED)]
    with pytest.raises(LocalProtocolError, match="twice"):
        session.start()


def test_seeds_are_random_by_default_and_checked():
    seeds = {ServerSession(USERS.get).seed for _ in range(8)}
    assert len(seeds) > 1 and all(0 <= s <= 0xFFFFFFFF for s in seeds)
    with pytest.raises(ValueError):
        ServerSession(USERS.get, seed=1 << 32)


@pytest.mark.parametrize("hash_type", [GG_LOGIN_HASH_SHA1, GG_LOGIN_HASH_GG32])
def test_a_good_login_is_accepted(hash_type):
    """The right hash of the seed gives LoggedIn and queues GG_LOGIN80_OK."""
    session = session_in(ServerState.AWAITING_LOGIN)
    login = login80(hash_type=hash_type, status=p.GG_STATUS_AVAIL_DESCR, description="jestem")
    assert session.receive_data(login.encode()) == [
        ss.LoggedIn(1002, p.GG_STATUS_AVAIL_DESCR, "jestem", p.GG8_FEATURES, p.GG8_FLAGS, p.GG8_VERSION)
    ]
    assert received(session.data_to_send()) == [p.Login80Ok()]
    assert (session.state, session.uin, session.login) == (ServerState.CONNECTED, 1002, login)


@pytest.mark.parametrize(
    "login,reason",
    [
        (login80(password=b"zle"), "wrong password"),
        (login80(seed=SEED + 1), "wrong password"),
        (login80(uin=4242), "unknown uin"),
        (p.Login80(1002, 7, bytes(64)), "unsupported hash type 7"),
    ],
    ids=["password", "seed", "uin", "hash-type"],
)
def test_a_bad_login_is_refused_and_closes(login, reason):
    """Wrong password, stale seed, unknown uin or hash type: LoginRejected, GG_LOGIN_FAILED for
    clients without feature 0x40 (libgadu), and the session is CLOSED."""
    session = session_in(ServerState.AWAITING_LOGIN)
    assert session.receive_data(login.encode()) == [ss.LoginRejected(login.uin, reason)]
    assert received(session.data_to_send()) == [p.LoginFailed()]
    assert session.state is ServerState.CLOSED and session.uin is None


def test_clients_with_feature_0x40_get_login80_failed():
    session = session_in(ServerState.AWAITING_LOGIN)
    session.receive_data(login80(password=b"zle", features=p.GG8_FEATURES | 0x40).encode())
    assert received(session.data_to_send()) == [p.Login80Failed()]


def test_packets_after_a_refused_login_in_the_same_write_are_not_handled():
    session = session_in(ServerState.AWAITING_LOGIN)
    data = login80(password=b"zle").encode() + CLIENT_SAMPLES[p.SendMsg80].encode()
    assert [type(e) for e in session.receive_data(data)] == [ss.LoginRejected]


def test_bad_bytes_after_a_refused_login_in_the_same_write_do_not_count():
    """The refusal ends the session: what follows it is never read, so bad bytes there add no
    ConnectionClosed (read in two writes, the second one never reaches the session). Found by tests/fuzz."""
    session = session_in(ServerState.AWAITING_LOGIN)
    malformed = struct.pack("<II", p.GG_NOTIFY_FIRST, 3) + bytes(3)
    events = session.receive_data(login80(password=b"zle").encode() + malformed)
    assert [type(e) for e in events] == [ss.LoginRejected]
    assert session.state is ServerState.CLOSED and received(session.data_to_send()) == [p.LoginFailed()]


def test_session_packets_become_events():
    session = session_in(ServerState.CONNECTED)
    data = b"".join(
        x.encode()
        for x in (
            p.NewStatus80(p.GG_STATUS_BUSY_DESCR, 1, "zaraz"), p.AddNotify(1001), p.RemoveNotify(1001, 4),
            CLIENT_SAMPLES[p.SendMsg80], p.RecvMsgAck(9), p.TypingNotify(2, 1001), p.Ping(), p.Unknown(0x99, b"x"),
        )
    )
    assert session.receive_data(data) == [
        ss.StatusChange(p.GG_STATUS_BUSY_DESCR, 1, "zaraz"),
        ss.ContactAdded(1001, 3),
        ss.ContactRemoved(1001, 4),
        ss.SendMessage(CLIENT_SAMPLES[p.SendMsg80]),
        ss.MessageAcked(9),
        ss.TypingSent(1001, 2),
        ss.PingRequest(),
    ]


def test_notify_chunks_make_one_list():
    """GG_NOTIFY_FIRST chunks accumulate until GG_NOTIFY_LAST; GG_LIST_EMPTY is an empty list."""
    session = session_in(ServerState.CONNECTED)
    first = p.NotifyFirst(tuple(p.NotifyEntry(i) for i in range(400)))
    assert session.receive_data(first.encode()) == []
    (event,) = session.receive_data(p.NotifyLast((p.NotifyEntry(400, 4),)).encode())
    assert event.entries == (*first.entries, p.NotifyEntry(400, 4))
    assert session.receive_data(p.ListEmpty().encode()) == [ss.NotifyList(())]


def test_a_contact_list_past_the_cap_is_refused():
    session = ServerSession(USERS.get, seed=SEED, max_contacts=500)
    session.start()
    session.receive_data(login80().encode())
    session.receive_data(p.NotifyFirst(tuple(p.NotifyEntry(i) for i in range(400))).encode())
    events = session.receive_data(p.NotifyFirst(tuple(p.NotifyEntry(i) for i in range(101))).encode())
    assert "500" in str(ended_with(events, RemoteProtocolError))


def test_logoff_then_close_is_clean():
    session = session_in(ServerState.CONNECTED)
    assert session.receive_data(p.NewStatus80(p.GG_STATUS_NOT_AVAIL_DESCR, 0, "pa").encode()) == [
        ss.Logoff(p.GG_STATUS_NOT_AVAIL_DESCR, "pa")
    ]
    assert session.state is ServerState.DISCONNECTING
    assert session.receive_data(p.RecvMsgAck(3).encode()) == [ss.MessageAcked(3)]
    assert received(session.send_disconnect_ack()) == [p.DisconnectAck()]
    assert session.receive_data(b"") == [ss.ConnectionClosed(True, "the client logged off and closed")]
    assert session.receive_data(b"") == []


@pytest.mark.parametrize("state", [ServerState.AWAITING_LOGIN, ServerState.CONNECTED])
def test_close_without_logoff_is_unclean(state):
    (closed,) = session_in(state).receive_data(b"")
    assert not closed.clean and state.name in closed.reason


def test_oversize_and_truncated_input_are_typed_errors():
    session = session_in(ServerState.AWAITING_LOGIN)
    ended_with(session.receive_data(struct.pack("<II", p.GG_LOGIN80, MAX_FRAME + 1)), FrameTooLarge)
    assert session.state is ServerState.CLOSED
    session = session_in(ServerState.CONNECTED)
    session.receive_data(p.Ping().encode()[:5])
    ended_with(session.receive_data(b""), TruncatedFrame)


def test_sends_encode_the_right_packets():
    session = session_in(ServerState.CONNECTED)
    entry = p.StatusEntry(1001, p.GG_STATUS_AVAIL_DESCR, "opis")
    message = p.RecvMsg80.from_send(CLIENT_SAMPLES[p.SendMsg80], 1002, 1400000000)
    assert received(session.send_status(entry)) == [p.Status80(entry)]
    assert received(session.send_message(message)) == [message]
    assert received(session.send_ack(p.GG_ACK_QUEUED, 1001, 9)) == [p.SendMsgAck(3, 1001, 9)]
    assert received(session.send_typing(1001, 5)) == [p.TypingNotify(5, 1001)]
    assert received(session.send_pong()) == [p.Pong()]
    assert received(session.send_notify_reply([])) == []
    assert received(session.send_disconnecting()) == [p.Disconnecting()]


def test_notify_reply_is_split_under_the_frame_limit():
    """300 contacts with full descriptions do not fit one frame: several GG_NOTIFY_REPLY80, all entries."""
    session = session_in(ServerState.CONNECTED)
    entries = [p.StatusEntry(2000 + i, p.GG_STATUS_AVAIL_DESCR, "ą" * 127) for i in range(300)]
    data = session.send_notify_reply(entries)
    parser = FrameParser(S2C)
    frames = parser.feed_frames(data)
    assert len(frames) == 2 and all(len(body) <= MAX_FRAME for _, body in frames)
    assert [e for r in received(data) for e in r.entries] == entries


SENDS = {
    "send_notify_reply": ([],),
    "send_status": (p.StatusEntry(1, 2),),
    "send_message": (p.RecvMsg80(1, 2, 3, 8, "", "x"),),
    "send_ack": (2, 1, 1),
    "send_typing": (1, 1),
    "send_pong": (),
    "send_disconnecting": (),
}
WRONG = [(s, n) for s in ServerState if s is not ServerState.CONNECTED for n in SENDS]
WRONG += [(s, "send_disconnect_ack") for s in ServerState if s is not ServerState.DISCONNECTING]
SENDS["send_disconnect_ack"] = ()


@pytest.mark.parametrize("state,name", WRONG, ids=[f"{s.name}-{n}" for s, n in WRONG])
def test_sends_in_the_wrong_state_are_local_protocol_errors(state, name):
    session = session_in(state)
    with pytest.raises(LocalProtocolError, match=state.name):
        getattr(session, name)(*SENDS[name])
