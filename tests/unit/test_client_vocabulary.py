"""One action, one name: the four clients' public names are the same but for each era's idiom.

A name only some clients have must be in IDIOM below, with the reason; anything else is a rename the
diff between two styles would show as a migration step (issue 15). The sends also take the same
parameters, and the session options the same names, wherever each style puts them.
"""
from __future__ import annotations

import inspect
from typing import Dict, Set

import pytest

from legacy.callbacks import GGClient as CallbacksClient
from legacy.dispatcher import GaduClient
from modern.aio import GGClient as AioClient
from modern.yieldfrom import GGClient as YieldFromClient

CLIENTS = {"dispatcher": GaduClient, "callbacks": CallbacksClient, "yieldfrom": YieldFromClient, "aio": AioClient}

#: What every client has under the same name.
COMMON = {"abort", "add_contact", "change_status", "is_closed", "logoff", "ping", "remove_contact",
          "send_contacts", "send_message", "send_typing", "state"}

#: Names of one era's idiom, and why they have no counterpart elsewhere.
IDIOM: Dict[str, Set[str]] = {
    # asynchat: a subclass overrides handlers and asyncore's own hooks; connect() is asyncore's
    # socket call, so the GG connection is connect_to(); close() is asyncore's.
    "dispatcher": {"connect_to", "close", "collect_incoming_data", "found_terminator", "handle_close",
                   "handle_connect", "handle_error", "handle_expt", "push", "recv", "send",
                   "on_ack", "on_contacts", "on_disconnect", "on_disconnecting", "on_login_failed",
                   "on_login_ok", "on_message", "on_pong", "on_status", "on_typing"},
    # callbacks: login() connects too (one request, one callback); unsolicited events go to handlers.
    "callbacks": {"login", "on_event", "remove_handler"},
    # generator coroutines: events and answers are waited for with yield from; drain() is the
    # flow control that await-based sends do inside themselves.
    "yieldfrom": {"connect", "login", "next_event", "wait_ack", "wait_closed", "drain", "close"},
    # async/await: connect() is a classmethod factory, open() the same on an instance (async with);
    # aclose() is the async close; events() the async iterator; transport is asyncio's.
    "aio": {"connect", "open", "login", "next_event", "events", "wait_ack", "wait_closed", "aclose", "transport"},
}

#: Parameters of an idiom: how a result comes back, or where the loop comes from.
IDIOM_PARAMETERS = {"self", "callback", "map", "timers", "reactor", "loop", "host", "port", "address", "uin",
                    "password", "log_packets", "label",
                    # the coroutine clients queue events for the application; the others call it at once
                    "event_backlog",
                    # aio connects apart from its login, under its own bound (asyncio.wait_for)
                    "connect_timeout"}

#: The options of a session, whichever of the constructor or the login takes them.
SESSION_OPTIONS = {"hash_type", "status", "description", "login_timeout", "close_timeout", "ping_interval"}


def public_names(cls: type) -> Set[str]:
    """Names the client's own classes define (not asyncore's or object's)."""
    names: Set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] in ("legacy", "modern"):
            names |= {name for name in vars(klass) if not name.startswith("_")}
    return names


def parameters(function: object) -> list:
    return [name for name in inspect.signature(function).parameters if name not in IDIOM_PARAMETERS]


@pytest.mark.parametrize("style", CLIENTS)
def test_public_names_are_common_or_idiom(style):
    names = public_names(CLIENTS[style])
    assert COMMON <= names, f"{style} lacks {sorted(COMMON - names)}"
    assert names - COMMON == IDIOM[style], (
        f"{style}: not in the idiom list: {sorted(names - COMMON - IDIOM[style])}; "
        f"listed but gone: {sorted(IDIOM[style] - names)}"
    )


@pytest.mark.parametrize("action", sorted(COMMON - {"abort", "is_closed", "state"}))
def test_an_action_takes_the_same_parameters_in_every_style(action):
    signatures = {style: parameters(getattr(cls, action)) for style, cls in CLIENTS.items()}
    assert len({tuple(names) for names in signatures.values()}) == 1, signatures


@pytest.mark.parametrize("style", CLIENTS)
def test_session_options_have_the_same_names(style):
    cls = CLIENTS[style]
    names = set(parameters(cls.__init__))
    if hasattr(cls, "login"):
        names |= set(parameters(cls.login))
    assert names == SESSION_OPTIONS, f"{style}: {sorted(names ^ SESSION_OPTIONS)}"
