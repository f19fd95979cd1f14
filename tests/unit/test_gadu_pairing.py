"""Our client and our server session wired together in memory (h11's habit): each one's bytes are
the other's input, in pieces of any size."""
from __future__ import annotations

from typing import List

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gadu import events as ev
from gadu import packets as p
from gadu import server_session as ss
from gadu.client import ClientConnection, ClientState
from gadu.hashing import GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1
from gadu.server_session import ServerSession, ServerState

PASSWORDS = {1001: b"ala ma kota", 1002: "zażółć".encode()}


class Link:
    """One client and its server session; bytes cross in chunks of `chunk` bytes."""

    def __init__(self, uin: int, password: str, chunk: int = 1 << 20, **options) -> None:
        self.client = ClientConnection(uin, password, **options)
        self.server = ServerSession(PASSWORDS.get)
        self.chunk = chunk
        self.replies: List[ss.ServerEvent] = []  # the server's events for the client's automatic answers

    def _pieces(self, data: bytes) -> List[bytes]:
        return [data[i : i + self.chunk] for i in range(0, len(data), self.chunk)]

    def to_server(self, data: bytes) -> List[ss.ServerEvent]:
        events = [e for piece in self._pieces(data) for e in self.server.receive_data(piece)]
        assert self.client.data_to_send() == b""
        return events

    def to_client(self, data: bytes) -> List[ev.Event]:
        events = [e for piece in self._pieces(data) for e in self.client.receive_data(piece)]
        pending = self.client.data_to_send()
        self.replies = self.to_server(pending) if pending else []
        return events

    def login(self):
        client_events = self.to_client(self.server.start())
        assert client_events == []
        server_events = self.replies
        client_events = self.to_client(self.server.data_to_send())
        return server_events, client_events


@pytest.mark.parametrize("hash_type", [GG_LOGIN_HASH_SHA1, GG_LOGIN_HASH_GG32])
@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_login(hash_type, chunk):
    """WELCOME, the automatic LOGIN80, LOGIN80_OK: both sides CONNECTED, whatever the write sizes."""
    link = Link(1002, "zażółć", chunk, hash_type=hash_type, status=p.GG_STATUS_AVAIL_DESCR, description="hej")
    server_events, client_events = link.login()
    assert server_events == [
        ss.LoggedIn(1002, p.GG_STATUS_AVAIL_DESCR, "hej", p.GG8_FEATURES, p.GG8_FLAGS, p.GG8_VERSION)
    ]
    assert client_events == [ev.LoginOk()]
    assert (link.client.state, link.server.state) == (ClientState.CONNECTED, ServerState.CONNECTED)


@pytest.mark.parametrize("uin,password", [(1002, "zle"), (4242, "zażółć")], ids=["password", "uin"])
def test_refused_login(uin, password):
    """Wrong password or unknown uin: LoginFailed, then the server's close is a clean Closed."""
    link = Link(uin, password)
    server_events, client_events = link.login()
    assert [type(e) for e in server_events] == [ss.LoginRejected]
    assert client_events == [ev.LoginFailed()]
    assert link.server.state is ServerState.CLOSED
    assert link.client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]


def route(sender: Link, recipient: Link, data: bytes, now: int = 1400000000):
    """What the reference server does with one SEND_MSG80: deliver it, relay the receipt, ack the sender."""
    (sent,) = sender.to_server(data)
    assert isinstance(sent, ss.SendMessage)
    delivered = recipient.to_client(
        recipient.server.send_message(p.RecvMsg80.from_send(sent.message, sender.server.uin, now))
    )
    assert recipient.replies == [ss.MessageAcked(sent.message.seq)]
    acks = sender.to_client(sender.server.send_ack(p.GG_ACK_DELIVERED, sent.message.recipient, sent.message.seq))
    return delivered, acks


def test_messages_both_ways():
    """Polish text and markup-like characters arrive intact both ways, with receipts and acks."""
    ala, ola = Link(1001, "ala ma kota", 5), Link(1002, "zażółć")
    ala.login()
    ola.login()
    data, seq = ala.client.send_message(1002, "Zażółć gęślą jaźń <b>&</b>")
    delivered, acks = route(ala, ola, data)
    assert delivered == [
        ev.MessageReceived(
            1001, seq, 1400000000, p.GG_CLASS_CHAT, p.html_from_text("Zażółć gęślą jaźń <b>&</b>"),
            "Zażółć gęślą jaźń <b>&</b>", "Zażółć gęślą jaźń <b>&</b>",
        )
    ]
    assert acks == [ev.MessageAck(1002, seq, p.GG_ACK_DELIVERED)]
    data, seq = ola.client.send_message(1001, "Cześć 😀\ndruga linia")
    delivered, acks = route(ola, ala, data)
    assert delivered[0].text == "Cześć 😀\ndruga linia"
    assert delivered[0].plain == "Cześć ?\ndruga linia"
    assert acks == [ev.MessageAck(1001, seq, p.GG_ACK_DELIVERED)]


@given(st.text(alphabet=st.characters(blacklist_characters="\x00\r", blacklist_categories=("Cs",)), max_size=80),
       st.integers(1, 64))
def test_any_text_survives_the_trip(text, chunk):
    ala, ola = Link(1001, "ala ma kota", chunk), Link(1002, "zażółć", chunk)
    ala.login()
    ola.login()
    data, _ = ala.client.send_message(1002, text)
    delivered, _ = route(ala, ola, data)
    assert delivered[0].text == text


def test_contact_list_of_more_than_400_and_a_split_reply():
    """1000 contacts go as FIRST, FIRST, LAST and arrive as one list; 600 online contacts with long
    descriptions come back in several NOTIFY_REPLY80 packets, every entry once, in order."""
    link = Link(1002, "zażółć", 4096)
    link.login()
    contacts = list(range(10000, 11000))
    (notify,) = link.to_server(link.client.send_contacts(contacts))
    assert [e.uin for e in notify.entries] == contacts
    online = [p.StatusEntry(uin, p.GG_STATUS_AVAIL_DESCR, "opis " * 50) for uin in contacts[:600]]
    replies = link.to_client(link.server.send_notify_reply(online))
    assert len(replies) > 1 and all(isinstance(r, ev.ContactsReply) for r in replies)
    assert [e.uin for r in replies for e in r.entries] == contacts[:600]
    assert replies[0].entries[0] == ev.StatusChanged(10000, p.GG_STATUS_AVAIL_DESCR, "opis " * 50)


def test_empty_list_add_remove_status_typing_ping():
    link = Link(1002, "zażółć")
    link.login()
    assert link.to_server(link.client.send_contacts([])) == [ss.NotifyList(())]
    assert link.to_server(link.client.send_add_contact(1001)) == [ss.ContactAdded(1001, p.GG_USER_NORMAL)]
    assert link.to_server(link.client.send_remove_contact(1001)) == [ss.ContactRemoved(1001, p.GG_USER_NORMAL)]
    assert link.to_server(link.client.send_status(p.GG_STATUS_BUSY_DESCR, "zaraz")) == [
        ss.StatusChange(p.GG_STATUS_BUSY_DESCR, p.GG8_FLAGS, "zaraz")
    ]
    assert link.to_server(link.client.send_typing(1001, 3)) == [ss.TypingSent(1001, 3)]
    assert link.to_server(link.client.send_ping()) == [ss.PingRequest()]
    assert link.to_client(link.server.send_pong()) == [ev.Pong()]
    entry = p.StatusEntry(1001, p.GG_STATUS_AVAIL_DESCR, "wróciłam")
    assert link.to_client(link.server.send_status(entry)) == [ev.StatusChanged(1001, 4, "wróciłam")]
    assert link.to_client(link.server.send_typing(1001, 0)) == [ev.Typing(1001, 0)]


def test_logoff():
    """NOT_AVAIL_DESCR, DISCONNECT_ACK, close: both sides end cleanly."""
    link = Link(1002, "zażółć")
    link.login()
    assert link.to_server(link.client.send_logoff("do jutra")) == [ss.Logoff(p.GG_STATUS_NOT_AVAIL_DESCR, "do jutra")]
    assert link.to_client(link.server.send_disconnect_ack()) == []
    # The server closes its end; each side sees the other's EOF.
    assert link.client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]
    assert link.server.receive_data(b"") == [ss.ConnectionClosed(True, "the client logged off and closed")]
    assert (link.client.state, link.server.state) == (ClientState.CLOSED, ServerState.CLOSED)


def test_server_disconnecting():
    link = Link(1002, "zażółć")
    link.login()
    assert link.to_client(link.server.send_disconnecting()) == [ev.Disconnecting()]
    assert link.client.receive_data(b"") == [ev.Closed(True, "the connection closed as expected")]
