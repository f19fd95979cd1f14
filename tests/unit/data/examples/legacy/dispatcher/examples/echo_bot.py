"""Echo bot, dispatcher style: answers every message with its own text (fixture)."""
from __future__ import annotations

import threading

from compat import asyncore
from legacy.dispatcher.client import GaduClient

HOST, PORT = "127.0.0.1", 8074
MAX_ECHO = 200


class EchoBot(GaduClient):
    def handle_connect(self) -> None:
        self.set_terminator(8)
        self.login(1001, "alice")

    def on_login_ok(self) -> None:
        self.send_contacts([])

    def on_message(self, event) -> None:
        if len(event.text) < MAX_ECHO and "&" not in event.text:  # a < b & c > d
            self.push(self.reply(event.sender, event.text))


def main() -> None:
    socket_map = {}
    bot = EchoBot(map=socket_map)
    bot.connect_to((HOST, PORT))
    thread = threading.Thread(target=asyncore.loop, kwargs={"map": socket_map})
    thread.start()
    thread.join()


if __name__ == "__main__":
    main()
