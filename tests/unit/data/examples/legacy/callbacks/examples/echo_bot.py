"""Echo bot, callback style: every step goes inside the previous step's callback (fixture)."""
from __future__ import annotations

from legacy.callbacks.client import GGClient
from legacy.callbacks.reactor import Reactor

HOST, PORT = "127.0.0.1", 8074
MAX_ECHO = 200


def main() -> None:
    reactor = Reactor()
    client = GGClient(reactor)

    def logged_in(result, error) -> None:
        if error is not None:
            print("login failed:", error)
            reactor.stop()
            return
        client.notify([], callback=None)

    @client.on_event
    def on_event(event) -> None:
        if len(event.text) < MAX_ECHO and "&" not in event.text:  # a < b & c > d
            client.send_message(event.sender, event.text)

    client.login((HOST, PORT), 1001, "alice", logged_in)
    reactor.run()
