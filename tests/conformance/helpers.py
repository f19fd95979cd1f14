"""Small steps the cases share: open a session on the scripted peer or the reference server."""
from __future__ import annotations

from typing import Tuple

from gadu import events as ev
from gadu import packets as pk

from .drivers.base import Driver, Session
from .peer import PeerConnection, ScriptedPeer

__all__ = ["MANY_BASE", "SEED", "logged_in_on_peer", "logged_in_on_server", "many_users", "recv_msg"]

SEED = 0x1234ABCD
#: Users of the reference server in the suite: the demo users and a block for the many-session cases.
MANY_BASE = 50000
MANY_COUNT = 400


def many_users():
    return [(MANY_BASE + n, f"pw{MANY_BASE + n}") for n in range(MANY_COUNT)]


def logged_in_on_peer(driver: Driver, peer: ScriptedPeer, uin: int = 1001, password: str = "alice",
                      **options) -> Tuple[Session, PeerConnection]:
    """A session logged in to the scripted peer: WELCOME, LOGIN80, LOGIN80_OK, LoginOk."""
    session = driver.open(peer.address, uin, password, **options)
    wire = peer.accept()
    wire.accept_login(SEED)
    session.wait(ev.LoginOk)
    return session, wire


def logged_in_on_server(driver: Driver, address, uin: int = 1001, password: str = "alice", **options) -> Session:
    session = driver.open(address, uin, password, **options)
    session.wait(ev.LoginOk)
    return session


def recv_msg(text: str, sender: int = 1002, seq: int = 7, msgclass: int = pk.GG_CLASS_CHAT) -> pk.RecvMsg80:
    sent = pk.SendMsg80.from_text(1001, seq, text, msgclass)
    return pk.RecvMsg80.from_send(sent, sender, 1_700_000_000)
