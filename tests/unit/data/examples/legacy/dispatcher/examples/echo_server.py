"""Echo server, dispatcher style: accept, read, send back (fixture)."""
from __future__ import annotations

from compat import asyncore


class EchoHandler(asyncore.dispatcher_with_send):
    def handle_read(self) -> None:
        self.send(self.recv(4096))


class EchoServer(asyncore.dispatcher):
    def handle_accepted(self, sock, address) -> None:
        EchoHandler(sock, map=self._map)


def main() -> None:
    socket_map = {}
    server = EchoServer(map=socket_map)
    server.listen(5)
    asyncore.loop(map=socket_map)
