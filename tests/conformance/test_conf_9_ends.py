"""9.x continued: GG_DISCONNECTING in every state, a server that stops reading, a server that half-closes.

docs/protocol.md#awkward-moments and #sends-after-the-end. Every case ends within its timeouts with a
one-line reason, loses nothing the server sent whole, and prints no traceback (stderr and logging are
captured and read).
"""
from __future__ import annotations

import socket

from gadu import events as ev
from gadu import packets as pk
from gadu.errors import CloseTimeout, RemoteProtocolError, WriteBufferFull
from gadu.limits import MAX_MESSAGE, WRITE_LIMIT

from .helpers import SEED, logged_in_on_peer, recv_msg
from .results import case

#: A short close wait, so that a server that never closes is cut off well within the suite's waits.
CLOSE_WAIT = 0.5


def assert_no_traceback(capfd, caplog) -> None:
    """Nothing the server did may print a traceback: not on stderr, not through logging."""
    err = capfd.readouterr().err
    assert "Traceback" not in err, err
    logged = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not logged, [r.getMessage() for r in logged]


def one_line(closed: ev.Closed) -> str:
    assert closed.reason and "\n" not in closed.reason, repr(closed.reason)
    return closed.reason


@case("9.8", "GG_DISCONNECTING before GG_WELCOME", "GG_DISCONNECTING before GG_WELCOME is a packet the state "
      "does not allow (libgadu handles it only when connected): the session ends at once, not at the login "
      "timeout, with a reason naming it, and the client closes the socket.")
def test_disconnecting_before_welcome(driver, peer, capfd, caplog):
    session = driver.open(peer.address, 1001, "alice", login_timeout=30.0)
    wire = peer.accept()
    wire.send_packets(pk.Disconnecting())
    closed = session.wait((ev.LoginOk, ev.Closed))
    assert isinstance(closed, ev.Closed) and not closed.clean
    assert "GG_DISCONNECTING" in one_line(closed)
    assert not [p for p in wire.expect_eof() if isinstance(p, pk.Login80)]
    assert_no_traceback(capfd, caplog)


@case("9.9", "GG_DISCONNECTING before the verdict", "GG_DISCONNECTING answering GG_LOGIN80 is not a verdict: "
      "the session ends at once (not at the 30 s login timeout) with a reason naming it, no LoginOk.")
def test_disconnecting_before_the_verdict(driver, peer, capfd, caplog):
    session = driver.open(peer.address, 1001, "alice", login_timeout=30.0)
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send_packets(pk.Disconnecting())
    closed = session.wait(ev.Closed)
    assert not closed.clean and "GG_DISCONNECTING" in one_line(closed)
    assert isinstance(closed.error, RemoteProtocolError) or closed.error is None
    assert not [e for e in session.drain() if isinstance(e, ev.LoginOk)]
    wire.expect_eof()
    assert_no_traceback(capfd, caplog)


@case("9.10", "GG_DISCONNECTING right after the verdict", "GG_DISCONNECTING in its own read just after "
      "GG_LOGIN80_OK: LoginOk, Disconnecting; a send made then is dropped (raises nothing, reaches nobody); "
      "the server's close is clean (libgadu: GG_EVENT_DISCONNECT, then the close).")
def test_disconnecting_right_after_the_verdict(driver, peer, capfd, caplog):
    session, wire = logged_in_on_peer(driver, peer)
    wire.send_packets(pk.Disconnecting())
    session.wait(ev.Disconnecting)
    session.notify([1002])
    session.send_message(1002, "za późno")
    wire.sock.shutdown(socket.SHUT_WR)
    closed = session.wait(ev.Closed)
    assert closed.clean, closed.reason
    one_line(closed)
    wire.expect_eof()
    assert not [p for p in wire.received if isinstance(p, (pk.NotifyLast, pk.SendMsg80))]
    assert_no_traceback(capfd, caplog)


@case("9.11", "GG_DISCONNECTING with traffic in flight", "Messages and acks glued around GG_DISCONNECTING, "
      "while our messages await their acks: every one is delivered, in order, and receipted; what the "
      "client sends after it is dropped; the close that follows is clean.")
def test_disconnecting_with_traffic_in_flight(driver, peer, capfd, caplog):
    session, wire = logged_in_on_peer(driver, peer)
    first = session.send_message(1002, "pierwsza")
    second = session.send_message(1002, "druga")
    assert [wire.expect(pk.SendMsg80).seq, wire.expect(pk.SendMsg80).seq] == [first, second]
    wire.send_packets(
        pk.SendMsgAck(pk.GG_ACK_DELIVERED, 1002, first), recv_msg("przed", seq=31), pk.Disconnecting(),
        pk.SendMsgAck(pk.GG_ACK_QUEUED, 1002, second), recv_msg("po", seq=32),
    )
    session.wait(ev.Disconnecting)
    session.send_message(1002, "za późno")
    assert [wire.expect(pk.RecvMsgAck).seq, wire.expect(pk.RecvMsgAck).seq] == [31, 32]
    wire.sock.shutdown(socket.SHUT_WR)
    closed = session.wait(ev.Closed)
    assert closed.clean, closed.reason
    wire.expect_eof()
    seen = [e for e in session.seen if isinstance(e, (ev.MessageAck, ev.MessageReceived, ev.Disconnecting))]
    assert [type(e).__name__ for e in seen] == ["MessageAck", "MessageReceived", "Disconnecting", "MessageAck",
                                                "MessageReceived"]
    assert [seen[0].seq, seen[1].text, seen[3].seq, seen[4].text] == [first, "przed", second, "po"]
    assert len([p for p in wire.received if isinstance(p, pk.SendMsg80)]) == 2
    assert_no_traceback(capfd, caplog)


@case("9.12", "GG_DISCONNECTING after our logoff, then the close", "GG_DISCONNECTING answering our logoff "
      "is reported, and the server's close that follows is clean.")
def test_disconnecting_after_logoff_then_close(driver, peer, capfd, caplog):
    session, wire = logged_in_on_peer(driver, peer)
    session.logoff()
    wire.expect(pk.NewStatus80)
    wire.send_packets(pk.Disconnecting())
    session.wait(ev.Disconnecting)
    wire.close()
    closed = session.wait(ev.Closed)
    assert closed.clean, closed.reason
    one_line(closed)
    assert_no_traceback(capfd, caplog)


@case("9.13", "GG_DISCONNECTING after our logoff, then silence", "After our logoff a GG_DISCONNECTING does "
      "not extend the close wait: a server that then keeps the connection is cut off after the close timeout "
      "counted from the logoff (CloseTimeout, a reason naming the logoff).")
def test_disconnecting_after_logoff_then_silence(driver, peer, capfd, caplog):
    session, wire = logged_in_on_peer(driver, peer, close_timeout=CLOSE_WAIT)
    session.logoff()
    wire.expect(pk.NewStatus80)
    wire.send_packets(pk.Disconnecting())
    session.wait(ev.Disconnecting)
    closed = session.wait(ev.Closed)
    assert not closed.clean and "logoff" in one_line(closed)
    assert isinstance(closed.error, CloseTimeout) or closed.error is None
    wire.expect_eof()
    assert_no_traceback(capfd, caplog)


@case("9.14", "A server that stops reading", "Against a server that stops reading, a client that keeps "
      "sending messages meets gadu.limits.WRITE_LIMIT (unbounded buffering is refused) and gets a typed "
      "error: WriteBufferFull from the send, or the session closing with it; then sends are refused.")
def test_server_stops_reading(driver, peer, capfd, caplog):
    session, wire = logged_in_on_peer(driver, peer)
    wire.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    text = "x" * MAX_MESSAGE
    frame = len(pk.SendMsg80.encode_text(1002, 1, text, pk.GG_CLASS_CHAT))
    # The limit plus what the kernels on both ends may hold, with room to spare: then it must have hit.
    bound = (WRITE_LIMIT + 16 * 1024 * 1024) // frame
    error = None
    for _ in range(bound):
        try:
            session.send_message(1002, text)
        except ConnectionError as exc:
            error = exc
            break
    assert error is not None, f"{bound} messages ({bound * frame} bytes) buffered without an error"
    closed = session.wait(ev.Closed) if not isinstance(error, WriteBufferFull) else None
    if closed is not None:
        assert isinstance(closed.error, WriteBufferFull), f"{closed.reason!r} ({closed.error!r})"
        one_line(closed)
    assert_no_traceback(capfd, caplog)


@case("9.15", "A server that half-closes", "A server that sends packets whole and then shuts its side down "
      "(SHUT_WR): every packet is delivered and receipted, then the session ends with a reason and the client "
      "closes its socket.")
def test_server_half_closes(driver, peer, capfd, caplog):
    session = driver.open(peer.address, 1001, "alice")
    wire = peer.accept()
    wire.welcome(SEED)
    wire.send_packets(pk.Login80Ok(), recv_msg("raz", seq=41), pk.Pong(), recv_msg("dwa", seq=42))
    wire.sock.shutdown(socket.SHUT_WR)
    session.wait(ev.LoginOk)
    assert session.wait(ev.MessageReceived).text == "raz"
    session.wait(ev.Pong)
    assert session.wait(ev.MessageReceived).text == "dwa"
    closed = session.wait(ev.Closed)
    assert not closed.clean
    one_line(closed)
    wire.expect_eof()
    assert [p.seq for p in wire.received if isinstance(p, pk.RecvMsgAck)] == [41, 42]
    assert_no_traceback(capfd, caplog)
