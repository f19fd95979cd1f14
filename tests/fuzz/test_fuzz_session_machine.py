"""ClientConnection against ServerSession in memory, driven by hypothesis.

Each step is a read of a random size by either side, a tick of the one fake clock both sides
run on (each side's handle_timer() called, and asserted to do nothing when not due), a send by
either application (messages and receipts, contacts, status, typing, ping/pong, logoff,
GG_DISCONNECTING, GG_DISCONNECT_ACK), or, within a budget of 0-2 a run, a fault: garbage, an
oversized length, a malformed body, a packet out of place, a cut (EOF at any point, mid-frame
included) or a hang-up. A wrong password starts one run in eight. Each run draws its deadlines
(client login, keep-alive ping, close wait; server login and idle limits), short enough that ticks
reach them.

Invariants, after every step:
- a client send is sent exactly when logged in, dropped (b"") exactly once the server ended the
  session, refused otherwise; a server send is accepted exactly in the states the core allows;
  client message seqs increase;
- every ending is one closing event, the last: a read's carries a typed RemoteProtocolError or
  none (EOF), a tick's a LoginTimeout or CloseTimeout (client) or a login / idle limit (server);
- deadlines: no deadline is left overdue after a tick; a side with no login verdict at its login
  deadline has ended, with the login error; a client whose goodbye (our logoff, a refusal,
  GG_DISCONNECTING) is close_timeout old has ended, a CloseTimeout only then; a logged-in server
  silent for its idle limit has ended, and ends by that limit only then; a CLOSED side has none;
- each side's state agrees with the events it reported (LoginOk/LoggedIn first and once, nothing
  after Closed, CONNECTED only after LoginOk and before any goodbye, DISCONNECTING only after one);
- without a fault the client's login verdict is the server's;
- every message whose bytes were all read before the first fault in its direction was delivered
  once, in order, intact; a receipt (GG_RECV_MSG_ACK) or an ack (GG_SEND_MSG_ACK) is for a message
  delivered exactly once, and comes once.
At the end both streams are drained and closed: both sides CLOSED, Closed(clean) exactly after a
goodbye ended by the peer's close, a closed side refusing bytes with LocalProtocolError.

Longer by hand: GG_FUZZ_EXAMPLES=5000 python3 -m pytest tests/fuzz/test_fuzz_session_machine.py
--hypothesis-show-statistics (the statistics show how often each fault and ending was reached).
"""
from __future__ import annotations

import os
import struct
from collections import Counter
from typing import List, Optional, Tuple

from fuzz_adapter import (
    MAX_FRAME,
    ClientState,
    CloseTimeout,
    LocalProtocolError,
    LoginTimeout,
    RemoteProtocolError,
    ServerState,
    client_receive,
    client_send,
    client_send_outcome,
    client_timer,
    closing_event,
    ev,
    new_client,
    new_server,
    next_deadline,
    pk,
    server_receive,
    server_send,
    server_sends_allowed,
    server_timer,
    ss,
)
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from session_pipes import Pipe

CLIENT_UIN, PEER_UIN = 1001, 1002
PASSWORD = "ala ma kota"
PASSWORDS = {CLIENT_UIN: PASSWORD.encode(), PEER_UIN: b"zazolc"}
#: The server's message seqs start far from any small number a forged header could carry.
FIRST_SERVER_SEQ = 7_000_000

texts = st.text(alphabet="aąb ć<&>\n😀", max_size=12)
#: Reads: (by the client?, size); a size of 1 << 16 takes all that is pending.
one_read = st.tuples(st.booleans(), st.one_of(st.integers(1, 16), st.just(1 << 16)))
reads = st.lists(one_read, max_size=3)
Reads = List[Tuple[bool, int]]
CLIENT_SENDS = {
    "message": lambda draw: (draw(texts, label="text"),),
    "contacts": lambda draw: ([PEER_UIN, 2000 + draw(st.integers(0, 5), label="contact")],),
    "add": lambda draw: (PEER_UIN,),
    "remove": lambda draw: (PEER_UIN,),
    "status": lambda draw: (pk.GG_STATUS_BUSY_DESCR, draw(texts, label="description")),
    "typing": lambda draw: (PEER_UIN, draw(st.integers(0, 40), label="length")),
    "ping": lambda draw: (),
    "logoff": lambda draw: (draw(texts, label="description"),),
}
SERVER_SENDS = {
    "status": lambda draw: (pk.StatusEntry(PEER_UIN, pk.GG_STATUS_AVAIL_DESCR, draw(texts, label="description")),),
    "notify_reply": lambda draw: ([pk.StatusEntry(PEER_UIN, pk.GG_STATUS_AVAIL)],),
    "typing": lambda draw: (PEER_UIN, draw(st.integers(0, 40), label="length")),
    "pong": lambda draw: (),
    "disconnecting": lambda draw: (),
    "disconnect_ack": lambda draw: (),
}
#: What a step does, weighted by repetition: talking is common, goodbyes and faults are rare.
ACTIONS = (
    ["read"] * 3 + ["tick"] * 3
    + ["client message"] * 4 + [f"client {what}" for what in ("contacts", "add", "remove", "status", "typing", "ping")]
    + ["server message"] * 3 + ["server ack"] * 3
    + [f"server {what}" for what in ("status", "notify_reply", "typing", "pong")]
    + ["client logoff", "server disconnecting", "server disconnect_ack", "fault", "fault"]
)
#: Well-framed packets out of place: a second GG_WELCOME, a login verdict after the login, a
#: GG_LOGIN80 with a hash of zeros (refused before the client's own, out of place after it).
S2C_OUT_OF_STATE = [pk.Welcome(1).encode(), pk.Login80Failed().encode()]
C2S_OUT_OF_STATE = [pk.Login80(CLIENT_UIN, 2, bytes(64)).encode()]
FAULTS = ["garbage", "oversized", "out of state", "malformed", "cut", "hang-up"]
#: Known types whose bodies do not decode (in the other direction they are unknown types, ignored).
MALFORMED = [
    struct.pack("<II", pk.GG_WELCOME, 2) + bytes(2),
    struct.pack("<II", pk.GG_RECV_MSG80, 25) + bytes(25),
    struct.pack("<II", pk.GG_SEND_MSG80, 21) + bytes(21),
    struct.pack("<IIIII", pk.GG_NEW_STATUS80, 12, pk.GG_STATUS_AVAIL, 0, 5),
]


class SessionPair(RuleBasedStateMachine):
    """One client and one server session; `s2c` and `c2s` are the two directions of the stream."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 1_400_000_000
        self.s2c, self.c2s = Pipe(), Pipe()
        self.client_events: List[ev.Event] = []
        self.server_events: List[ss.ServerEvent] = []
        self.client_logged_off = False
        self.client_seqs: List[int] = []
        self.server_seq = FIRST_SERVER_SEQ
        self.to_ack: List[pk.SendMsg80] = []  # messages the server got and has not answered yet
        self.client_goodbye_at: Optional[float] = None  # our logoff, a refusal or GG_DISCONNECTING: the first
        self.server_heard_at = float(self.now)  # the server's last read of bytes (its idle limit runs from it)
        self.server_timed_out = False  # the server's session ended on a tick

    def _clock(self) -> float:
        return self.now

    @initialize(right_password=st.sampled_from([True] * 7 + [False]), seed=st.integers(0, 0xFFFFFFFF),
                faults=st.sampled_from([0, 1, 1, 2]), acks_at_once=st.booleans(),
                handshake=st.lists(st.tuples(st.booleans(), st.integers(1, 16))),
                limits=st.fixed_dictionaries({
                    "client_login": st.sampled_from([3, 12, 1000]), "ping": st.sampled_from([None, 3, 10]),
                    "close": st.sampled_from([2, 8]), "server_login": st.sampled_from([3, 12, 1000]),
                    "idle": st.sampled_from([None, 4, 12])}))
    def connect(self, right_password: bool, seed: int, faults: int, acks_at_once: bool, handshake: Reads,
                limits: dict) -> None:
        """A fresh pair. `acks_at_once`: the server acks each message as it reads it, as the
        reference server does (else a step acks the oldest). `handshake` reads (after them, all of
        the login's bytes) let half the runs start in the session, so that the steps reach deep into it.
        `limits`: the deadlines, in seconds of the fake clock (a tick is 1-6 of them)."""
        self.faults_left = faults
        self.acks_at_once = acks_at_once
        self.limits = limits
        self.client = new_client(CLIENT_UIN, PASSWORD if right_password else "zle", clock=self._clock,
                                 monotonic=self._clock, login_timeout=limits["client_login"],
                                 ping_interval=limits["ping"], close_timeout=limits["close"])
        self.server, welcome = new_server(PASSWORDS.get, seed, self._clock, login_timeout=limits["server_login"],
                                          idle_timeout=limits["idle"])
        self.login_deadlines = (self.now + limits["client_login"], self.now + limits["server_login"])
        self.s2c.write(welcome)
        if handshake:
            self._read([*handshake, (True, 1 << 16), (False, 1 << 16), (True, 1 << 16)])

    # --- the wire --------------------------------------------------------------------------------

    def _hang_up(self, pipe: Pipe) -> None:
        """A side that saw the end of its input, or gave up on it, closes its socket."""
        pipe.closed = True

    def _client_got(self, events: List[ev.Event], error: Optional[BaseException], answer: bytes, how: str) -> None:
        """What one receive_data() (how: "read" or "EOF") or handle_timer() ("tick") of the client gave."""
        self.client_events += events
        if answer and not self.c2s.closed:
            self.c2s.write(answer)
        for e in events:
            if isinstance(e, (ev.LoginFailed, ev.Disconnecting)) and self.client_goodbye_at is None:
                self.client_goodbye_at = self.now
        closed = closing_event(events)
        if closed is None:
            assert how != "EOF" and self.client.state is not ClientState.CLOSED, (how, events)
            assert error is None
            return
        assert error is closed.error and self.client.state is ClientState.CLOSED
        assert error is None or (not closed.clean and closed.reason == str(error)), closed
        if how == "tick":
            assert isinstance(error, (LoginTimeout, CloseTimeout)), repr(error)
        else:
            assert error is None or isinstance(error, RemoteProtocolError), repr(error)
            assert error is not None or how == "EOF", "an end without an error or an EOF"
        event(f"client ended by {type(error).__name__ if error else 'EOF'}")
        self.s2c.done = True
        self._hang_up(self.c2s)

    def _client_reads(self, size: int) -> None:
        data = self.s2c.take(size)
        self._client_got(*client_receive(self.client, data), "read" if data else "EOF")

    def _server_got(self, events: List[ss.ServerEvent], error: Optional[BaseException], answer: bytes,
                    how: str) -> None:
        self.server_events += events
        self.to_ack += [e.message for e in events if isinstance(e, ss.SendMessage)]
        if answer and not self.s2c.closed:
            self.s2c.write(answer)
        while self.acks_at_once and self.to_ack:
            self._server_ack(pk.GG_ACK_DELIVERED)
        closed = closing_event(events)
        if closed is None:
            assert how != "EOF" and error is None, (how, events)
            if any(isinstance(e, ss.LoginRejected) for e in events):
                assert self.server.state is ServerState.CLOSED
                self.c2s.done = True  # the verdict is written; a real server closes after it
                self._hang_up(self.s2c)
            else:
                assert self.server.state is not ServerState.CLOSED
            return
        assert error is closed.error and self.server.state is ServerState.CLOSED
        assert error is None or (not closed.clean and closed.reason == str(error)), closed
        if how == "tick":
            assert error is None and not closed.clean, closed
            self.server_timed_out = True
        else:
            assert error is None or isinstance(error, RemoteProtocolError), repr(error)
            assert error is not None or how == "EOF", "an end without an error or an EOF"
        event(f"server ended by {type(error).__name__ if error else how if how != 'tick' else closed.reason[:16]}")
        self.c2s.done = True
        self._hang_up(self.s2c)

    def _server_reads(self, size: int) -> None:
        data = self.c2s.take(size)
        if data:
            self.server_heard_at = self.now
        self._server_got(*server_receive(self.server, data), "read" if data else "EOF")

    def _tick(self, seconds: int) -> None:
        """The clock moves for both sides; each is woken, as a loop wakes it: an early call does nothing."""
        self.now += seconds
        for conn, got, timer in ((self.client, self._client_got, client_timer),
                                 (self.server, self._server_got, server_timer)):
            deadline = next_deadline(conn)
            events, error, answer = timer(conn, self.now)
            if deadline is None or deadline > self.now:
                assert (events, error, answer) == ([], None, b""), "handle_timer acted before its deadline"
            else:
                event(f"{type(conn).__name__} timer")
                got(events, error, answer, "tick")

    def _read(self, reads: Reads) -> None:
        """Reads in the order given, each of the given size by the given side, when it has input."""
        for to_client, size in reads:
            if self.s2c.readable and (to_client or not self.c2s.readable):
                self._client_reads(size)
            elif self.c2s.readable:
                self._server_reads(size)

    # --- one step ----------------------------------------------------------------------------------
    # One rule, not one per action: hypothesis leaves a random set of rules out of each run (swarm
    # testing), and a run without the reads or without one side's sends would test nothing.

    @rule(action=st.sampled_from(ACTIONS), data=st.data(), then=reads)
    def step(self, action: str, data: st.DataObject, then: Reads) -> None:
        """An action (a read, a tick of the clock, a send by either application, a fault), then reads."""
        if action == "read":
            self._read([data.draw(one_read, label="read")])
        elif action == "tick":
            self._tick(data.draw(st.integers(1, 6), label="seconds"))
        elif action.startswith("client "):
            self._client_acts(action[7:], data)
        elif action.startswith("server "):
            self._server_acts(action[7:], data)
        else:
            self._fault(data.draw(st.sampled_from(FAULTS), label="fault"), data.draw(st.booleans(), label="to client"),
                        data)
        self._read(then)

    def _server_ended(self) -> bool:
        """Whether the client has learnt that the server ended the session (its sends are then dropped)."""
        if any(isinstance(e, (ev.LoginFailed, ev.Disconnecting)) for e in self.client_events):
            return True
        return self.client.state is ClientState.CLOSED and not self.client_logged_off

    def _client_try(self, what: str, *args: object) -> object:
        """A send the client application makes: sent, dropped or refused exactly as the core's rule says."""
        expected = client_send_outcome(self.client.state, self._server_ended())
        state = self.client.state
        result = client_send(self.client, what, *args)
        frame = result[0] if isinstance(result, tuple) else result
        got = "refused" if result is None else "sent" if frame else "dropped"
        assert got == expected, f"{what} {got} in {state}, expected {expected}"
        return result if got == "sent" else None

    def _server_try(self, what: str, *args: object) -> object:
        allowed = self.server.state in server_sends_allowed(what)
        result = server_send(self.server, what, *args)
        assert (result is not None) == allowed, f"{what} {'refused' if allowed else 'accepted'} in {self.server.state}"
        return result

    def _client_acts(self, what: str, data: st.DataObject) -> None:
        """The application sends even after its socket closed (its Closed may be unread): the core's
        answer is checked, and what it sent goes nowhere."""
        args = CLIENT_SENDS[what](data.draw)
        if what == "message":
            sent = self._client_try(what, PEER_UIN, *args)
            if sent is not None:
                frame, seq = sent
                assert not self.client_seqs or seq > self.client_seqs[-1], "message seqs must increase"
                self.client_seqs.append(seq)
                if not self.c2s.closed:
                    self.c2s.write_message(seq, args[0], frame)
            return
        sent = self._client_try(what, *args)
        if sent is not None:
            if what == "logoff":
                self.client_logged_off = True
                self.client_goodbye_at = self.now if self.client_goodbye_at is None else self.client_goodbye_at
            if not self.c2s.closed:
                self.c2s.write(sent)

    def _server_acts(self, what: str, data: st.DataObject) -> None:
        if what == "message":
            text = data.draw(texts, label="text")
            message = pk.SendMsg80.from_text(CLIENT_UIN, self.server_seq, text)
            sent = self._server_try(what, pk.RecvMsg80.from_send(message, PEER_UIN, self.now))
            if sent is not None and not self.s2c.closed:
                self.s2c.write_message(self.server_seq, text, sent)
                self.server_seq += 1
        elif what == "ack":  # the oldest message the server got was routed: its sender gets the verdict
            if self.to_ack:
                self._server_ack(data.draw(st.sampled_from([pk.GG_ACK_DELIVERED, pk.GG_ACK_QUEUED]), label="status"))
        else:
            sent = self._server_try(what, *SERVER_SENDS[what](data.draw))
            if sent is not None and not self.s2c.closed:
                self.s2c.write(sent)

    def _server_ack(self, status: int) -> None:
        message = self.to_ack.pop(0)
        sent = self._server_try("ack", status, message.recipient, message.seq)
        if sent is not None and not self.s2c.closed:
            self.s2c.write(sent)

    def _fault(self, kind: str, to_client: bool, data: st.DataObject) -> None:
        """Into an open direction: garbage, an oversized length, a packet the receiver's state does
        not allow or that does not decode, a cut (EOF at any point, mid-frame included: the last
        unread bytes never arrive) or a hang-up (EOF after all that was written)."""
        pipe = self.s2c if to_client else self.c2s
        if pipe.closed:
            pipe = self.c2s if to_client else self.s2c
        if pipe.closed or not self.faults_left:
            return
        self.faults_left -= 1
        event(f"fault: {kind}")
        if kind == "garbage":
            pipe.write_fault(data.draw(st.binary(min_size=1, max_size=24), label="garbage"), garbage=True)
        elif kind == "oversized":
            length = data.draw(st.integers(MAX_FRAME + 1, 0xFFFFFFFF), label="length")
            pipe.write_fault(struct.pack("<II", data.draw(st.integers(0, 0x60), label="type"), length), garbage=False)
        elif kind == "out of state":
            frames = S2C_OUT_OF_STATE if pipe is self.s2c else C2S_OUT_OF_STATE
            pipe.write_fault(data.draw(st.sampled_from(frames), label="packet"), garbage=False)
        elif kind == "malformed":
            pipe.write_fault(data.draw(st.sampled_from(MALFORMED), label="packet"), garbage=False)
        elif kind == "cut":
            pipe.cut(data.draw(st.integers(0, 40), label="bytes lost"))
        else:
            self._hang_up(pipe)

    # --- what must hold ------------------------------------------------------------------------

    @invariant()
    def client_state_agrees_with_its_events(self) -> None:
        if not hasattr(self, "client"):
            return
        kinds = [type(e) for e in self.client_events]
        verdicts = [k for k in kinds if k in (ev.LoginOk, ev.LoginFailed)]
        assert (len(verdicts) <= 1 and kinds[:1] in ([], [ev.LoginOk], [ev.LoginFailed])) or kinds == [ev.Closed], kinds
        assert ev.Closed not in kinds[:-1], "an event after Closed"
        state = self.client.state
        if state is ClientState.CONNECTING:
            assert not kinds
        elif state is ClientState.LOGGING_IN:
            assert not kinds
        elif state is ClientState.CONNECTED:
            assert kinds[0] is ev.LoginOk and ev.Disconnecting not in kinds and not self.client_logged_off
        elif state is ClientState.DISCONNECTING:
            assert self.client_logged_off or {ev.LoginFailed, ev.Disconnecting} & set(kinds), kinds
        else:
            assert self.s2c.done, "CLOSED without an EOF, a protocol error or a deadline"
        if self.s2c.done:
            assert state is ClientState.CLOSED

    @invariant()
    def server_state_agrees_with_its_events(self) -> None:
        if not hasattr(self, "server"):
            return
        kinds = [type(e) for e in self.server_events]
        verdicts = [k for k in kinds if k in (ss.LoggedIn, ss.LoginRejected)]
        assert (len(verdicts) <= 1 and kinds[:1] in ([], [ss.LoggedIn], [ss.LoginRejected])) or kinds == [
            ss.ConnectionClosed], kinds
        assert ss.ConnectionClosed not in kinds[:-1] and kinds.count(ss.Logoff) <= 1, kinds
        state = self.server.state
        if state is ServerState.AWAITING_LOGIN:
            assert not kinds
        elif state is ServerState.CONNECTED:
            assert kinds[0] is ss.LoggedIn and ss.Logoff not in kinds
        elif state is ServerState.DISCONNECTING:
            assert ss.Logoff in kinds
        else:
            assert state is ServerState.CLOSED, state
            assert self.c2s.done or ss.LoginRejected in kinds
        if self.c2s.done:
            assert state is ServerState.CLOSED

    @invariant()
    def client_deadlines_are_kept(self) -> None:
        if not hasattr(self, "client"):
            return
        deadline = next_deadline(self.client)
        assert deadline is None or deadline > self.now, "a deadline was left overdue"
        closed = closing_event(self.client_events)
        assert (deadline is None) == (closed is not None or (self.client.state is ClientState.CONNECTED
                                      and self.limits["ping"] is None)), (self.client.state, deadline)
        verdict = any(isinstance(e, (ev.LoginOk, ev.LoginFailed)) for e in self.client_events)
        login_passed = not verdict and self.now >= self.login_deadlines[0]
        if login_passed:
            assert closed is not None, "the login deadline passed and the client is still waiting"
        if closed is not None and isinstance(closed.error, LoginTimeout):
            assert login_passed and self.client_events == [closed], self.client_events
        goodbye = self.client_goodbye_at
        close_passed = goodbye is not None and self.now >= goodbye + self.limits["close"]
        if close_passed:
            assert closed is not None, "the close wait passed and the client is still waiting"
        if closed is not None and isinstance(closed.error, CloseTimeout):
            assert close_passed, (goodbye, self.now)

    @invariant()
    def server_deadlines_are_kept(self) -> None:
        if not hasattr(self, "server"):
            return
        deadline = next_deadline(self.server)
        assert deadline is None or deadline > self.now, "a deadline was left overdue"
        state = self.server.state
        assert (deadline is None) == (state in (ServerState.CLOSED, ServerState.DISCONNECTING)
                                      or (state is ServerState.CONNECTED and self.limits["idle"] is None)), state
        verdict = any(isinstance(e, (ss.LoggedIn, ss.LoginRejected)) for e in self.server_events)
        login_passed = not verdict and self.now >= self.login_deadlines[1]
        idle = self.limits["idle"]
        idle_passed = idle is not None and self.now >= self.server_heard_at + idle
        if login_passed or (state is ServerState.CONNECTED and idle_passed):
            assert state is ServerState.CLOSED, "a server limit passed and the session is still open"
        if self.server_timed_out:
            closed = self.server_events[-1]
            if verdict:
                assert idle_passed and closed.reason.startswith("nothing received"), closed
            else:
                assert login_passed and self.server_events == [closed] and closed.reason.startswith("no login"), closed

    @invariant()
    def without_a_fault_the_two_sides_agree_on_the_login(self) -> None:
        if not hasattr(self, "client") or self.s2c.fault_at < self.s2c.fed or self.c2s.fault_at < self.c2s.fed:
            return
        client_kinds = {type(e) for e in self.client_events}
        server_kinds = {type(e) for e in self.server_events}
        assert (ev.LoginOk in client_kinds) <= (ss.LoggedIn in server_kinds)
        assert (ev.LoginFailed in client_kinds) <= (ss.LoginRejected in server_kinds)

    @invariant()
    def messages_to_the_client_arrive_once_and_whole(self) -> None:
        received = [(e.seq, e.text) for e in self.client_events if isinstance(e, ev.MessageReceived)]
        seqs = Counter(seq for seq, _ in received)
        sent = self.s2c.messages
        if not self.s2c.garbage:
            assert all(seq in sent and sent[seq][1] == text for seq, text in received), "a message was forged"
            assert max(seqs.values(), default=1) == 1, f"a message was delivered twice: {seqs}"
            assert [seq for seq, _ in received] == sorted(seqs), "messages arrived out of order"
        for seq in self.s2c.due():
            assert seqs[seq] == 1, f"message {seq}, whole before any fault, was delivered {seqs[seq]} times"
        # The server's receipts (GG_RECV_MSG_ACK) say "delivered": each is for one real delivery.
        acked = Counter(e.seq for e in self.server_events if isinstance(e, ss.MessageAcked))
        for seq, count in acked.items():
            if seq in sent:
                assert count == 1 and seqs[seq] == 1 and (seq, sent[seq][1]) in received, (seq, count)
            else:
                assert self.c2s.garbage or self.s2c.garbage, f"the server got a receipt for {seq}, never sent"

    @invariant()
    def messages_from_the_client_arrive_once_and_whole(self) -> None:
        got = [(e.message.seq, e.message.text) for e in self.server_events if isinstance(e, ss.SendMessage)]
        seqs = Counter(seq for seq, _ in got)
        sent = self.c2s.messages
        if not self.c2s.garbage:
            assert all(seq in sent and sent[seq][1] == text for seq, text in got), "a message was forged"
            assert max(seqs.values(), default=1) == 1, f"a message reached the server twice: {seqs}"
        for seq in self.c2s.due():
            assert seqs[seq] == 1, f"message {seq}, whole before any fault, reached the server {seqs[seq]} times"
        # GG_SEND_MSG_ACK says the server took the message: it took it once, as it was written.
        for e in self.client_events:
            if isinstance(e, ev.MessageAck):
                if e.seq in sent:
                    assert seqs[e.seq] == 1 and (e.seq, sent[e.seq][1]) in got, e
                else:
                    assert self.c2s.garbage or self.s2c.garbage, f"an ack for {e.seq}, never sent"

    def teardown(self) -> None:
        """Both sides read everything and hang up: both end CLOSED, clean exactly after a goodbye."""
        if not hasattr(self, "client"):
            return
        for _ in range(1000):
            if self.s2c.readable:
                self._client_reads(1 << 16)
            elif self.c2s.readable:
                self._server_reads(1 << 16)
            elif not self.s2c.done:
                self._hang_up(self.s2c)
            elif not self.c2s.done:
                self._hang_up(self.c2s)
            else:
                break
        assert (self.client.state, self.server.state) == (ClientState.CLOSED, ServerState.CLOSED)
        delivered = sum(isinstance(e, ev.MessageReceived) for e in self.client_events)
        acked = sum(isinstance(e, ev.MessageAck) for e in self.client_events)
        event(f"messages to the client: {min(delivered, 3)}{'+' if delivered >= 3 else ''}")
        event(f"acks to the client: {min(acked, 3)}{'+' if acked >= 3 else ''}")
        self.client_state_agrees_with_its_events()
        self.server_state_agrees_with_its_events()
        self.messages_to_the_client_arrive_once_and_whole()
        self.messages_from_the_client_arrive_once_and_whole()
        # One way out: each side ended with exactly one closing event (a refused login's LoginRejected
        # says it alone), clean exactly when the peer closed after a goodbye.
        closed = [e for e in self.client_events if isinstance(e, ev.Closed)]
        assert len(closed) == 1 and self.client_events[-1] is closed[0], self.client_events
        goodbye = self.client_logged_off or any(isinstance(e, (ev.LoginFailed, ev.Disconnecting))
                                                for e in self.client_events)
        assert closed[0].clean == (goodbye and closed[0].error is None), (closed, closed[0].error, self.client_events)
        ended = [e for e in self.server_events if isinstance(e, ss.ConnectionClosed)]
        if any(isinstance(e, ss.LoginRejected) for e in self.server_events):
            assert not ended
        else:
            assert len(ended) == 1 and self.server_events[-1] is ended[0], self.server_events
            logoff = any(isinstance(e, ss.Logoff) for e in self.server_events)
            assert ended[0].clean == (logoff and ended[0].error is None and not self.server_timed_out), ended
        # An ended side has no deadline, its timer does nothing, a second EOF is a no-op, and bytes
        # fed after the end are the caller's mistake: LocalProtocolError.
        for conn, receive, timer in ((self.client, client_receive, client_timer),
                                     (self.server, server_receive, server_timer)):
            assert next_deadline(conn) is None and timer(conn, self.now + 10**6) == ([], None, b"")
            assert receive(conn, b"") == ([], None, b"")
            try:
                receive(conn, b"\x07\x00\x00\x00\x00\x00\x00\x00")
            except LocalProtocolError:
                continue
            raise AssertionError(f"{type(conn).__name__} took bytes after its end")


SessionPair.TestCase.settings = settings(
    max_examples=int(os.environ.get("GG_FUZZ_EXAMPLES", "40")),
    stateful_step_count=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
test_session_pair = SessionPair.TestCase
