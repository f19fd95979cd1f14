"""A real asyncore server nobody here wrote, unedited: the standard library's smtpd, served through
compat.bridge on asyncio while smtplib clients in threads send mail and an asyncio task keeps ticking.

smtpd is in the standard library up to 3.11; from 3.12 the `standard-smtpd` package carries it,
installed with --no-deps (tox.ini) so that it runs on pyasyncore's asyncore rather than bringing its own.
"""
from __future__ import annotations

import asyncio
import collections
import importlib
import smtplib
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

from compat_echo import run_on_selector_loop

from compat import asyncore, bridge

CONNECTIONS = 10
MESSAGES_PER_CONNECTION = 100
WAIT = 120.0


def load_smtpd(require):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return importlib.import_module("smtpd")
    except ImportError:
        require(False, "smtpd", "on Python 3.12+ install it with: pip install --no-deps standard-smtpd")


def send_all(port: int, connection: int) -> int:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for n in range(MESSAGES_PER_CONNECTION):
            body = f"Subject: {connection}-{n}\r\nMessage-Id: <{connection}.{n}@bridge.test>\r\n\r\nhello {n}\r\n"
            client.sendmail(f"sender{connection}@bridge.test", ["rcpt@bridge.test"], body)
    return MESSAGES_PER_CONNECTION


def test_smtpd_serves_threads_of_smtplib_clients_beside_an_asyncio_task(require):
    smtpd = load_smtpd(require)
    assert not asyncore.socket_map
    received = collections.Counter()

    class Recording(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            for line in data.splitlines():
                if line.lower().startswith(b"message-id:"):
                    received[line.split(b":", 1)[1].strip().decode()] += 1

    async def main():
        loop = asyncio.get_running_loop()
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                await asyncio.sleep(0.001)
                ticks += 1

        with bridge.adopt():
            server = Recording(("127.0.0.1", 0), None)  # created the usual way: asyncore.socket_map
            port = server.socket.getsockname()[1]
            tick_task = asyncio.ensure_future(ticker())
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
                sends = [loop.run_in_executor(pool, send_all, port, c) for c in range(CONNECTIONS)]
                ticks_before = ticks
                sent = sum(await asyncio.wait_for(asyncio.gather(*sends), WAIT))
                ticks_during = ticks - ticks_before
            elapsed = time.perf_counter() - started
            stop.set()
            await tick_task
            server.close()
        asyncore.close_all(ignore_all=True)
        return sent, elapsed, ticks_during

    sent, elapsed, ticks_during = run_on_selector_loop(main())
    expected = {f"<{c}.{n}@bridge.test>" for c in range(CONNECTIONS) for n in range(MESSAGES_PER_CONNECTION)}
    assert sent == len(expected) == 1000
    assert set(received) == expected, f"missing: {sorted(expected - set(received))[:5]}"
    assert set(received.values()) == {1}, "a message arrived more than once"
    assert ticks_during > 0, "the asyncio task did not run while the mail went through"
    print(f"smtpd through compat.bridge: {sent} messages over {CONNECTIONS} connections in {elapsed:.2f} s "
          f"({sent / elapsed:.0f} messages/s); the asyncio task ticked {ticks_during} times meanwhile")
