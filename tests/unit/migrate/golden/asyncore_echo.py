"""asyncore-era echo over 127.0.0.1: a dispatcher server, asynchat handlers, a client, asyncore.loop."""
from compat import asynchat
from compat import asyncore as core
import socket
import compat.bridge

LINES = [b"hello", b"asyncore", b"bye"]


class Handler(asynchat.async_chat):
    def __init__(self, sock, server):
        asynchat.async_chat.__init__(self, sock)
        self.server = server
        self.buffer = []
        self.set_terminator(b"\n")

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        line = b"".join(self.buffer)
        self.buffer = []
        self.push(line.upper() + b"\n")

    def handle_close(self):
        self.close()
        self.server.close()  # one client, then the loop runs out of sockets and ends


class Server(core.dispatcher):
    def __init__(self):
        core.dispatcher.__init__(self)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.bind(("127.0.0.1", 0))
        self.listen(5)

    def handle_accept(self):
        pair = self.accept()
        if pair is not None:
            Handler(pair[0], self)


class Client(asynchat.async_chat):
    def __init__(self, port, replies):
        asynchat.async_chat.__init__(self)
        self.create_socket(socket.AF_INET, socket.SOCK_STREAM)
        self.connect(("127.0.0.1", port))
        self.replies = replies
        self.buffer = []
        self.set_terminator(b"\n")
        self.push(LINES[0] + b"\n")

    def collect_incoming_data(self, data):
        self.buffer.append(data)

    def found_terminator(self):
        self.replies.append(b"".join(self.buffer).decode())
        self.buffer = []
        if len(self.replies) < len(LINES):
            self.push(LINES[len(self.replies)] + b"\n")
        else:
            self.close()


if __name__ == "__main__":
    replies = []
    server = Server()
    Client(server.socket.getsockname()[1], replies)
    compat.bridge.loop(timeout=0.05, count=400)
    for reply in replies:
        print("echo:", reply)
    print("sockets left:", len(core.socket_map))
