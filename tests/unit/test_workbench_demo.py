"""`gg-workbench demo`: four echo bots, a scripted user, a transcript and a table; --keep-running stays up."""
from __future__ import annotations

import asyncio
import io
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from typing import List

import pytest

from gadu.server.config import ServerConfig
from workbench import demo
from workbench.run import ECHO_TEXTS, ScriptedUser

TIMEOUT = 60
ROW = re.compile(r"^(dispatcher|callbacks|yieldfrom|aio) +(\d+) +(\d+)/(\d+) +(\d+\.\d\d) ms$")


def test_the_demo_runs_end_to_end_and_prints_a_table_of_four_rows():
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "demo"], capture_output=True, text=True,
                          encoding="utf-8", timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    rows = [ROW.match(line) for line in lines if ROW.match(line)]
    assert [row.group(1) for row in rows] == ["dispatcher", "callbacks", "yieldfrom", "aio"]
    for row in rows:
        assert int(row.group(2)) > 20, "lines of code of the example file"
        assert row.group(3) == row.group(4) == str(len(ECHO_TEXTS))
        assert float(row.group(5)) > 0
    # The transcript: who said what to whom, Polish letters and all, in both directions.
    assert "  ola (3000) -> aio bot (2004): Zażółć gęślą jaźń" in lines
    assert any(line.startswith("  callbacks bot (2002) -> ola (3000): Zażółć gęślą jaźń   (") for line in lines)
    assert sum(" -> ola (3000): " in line for line in lines) == 4 * len(ECHO_TEXTS)
    # Progress while it starts, and the verdict last.
    assert lines[0].startswith("demo: reference server on 127.0.0.1:")
    assert any(line.startswith("demo: dispatcher bot (2001) is online after ") for line in lines)
    assert lines[-1].startswith("demo: all 4 bots echoed all 3 lines and logged off, in ")


def test_a_bot_that_cannot_log_in_fails_the_demo_with_its_reason(monkeypatch):
    """The aio bot's account is missing from the server: the demo says so at once and exits 1."""
    def without_the_aio_bot(users, port):
        return ServerConfig(users={uin: pw for uin, pw in users.items() if uin != 2004}, port=port)

    monkeypatch.setattr(demo, "ServerConfig", without_the_aio_bot)
    out = io.StringIO()
    assert demo.run_demo(stream=out) == 1
    text = out.getvalue()
    assert "demo: FAILED\n  aio bot (2004) stopped before it came online\n" in text
    assert "failed: the server refused the login of uin 2004: wrong password or unknown uin" in text


def _lines_of(process: subprocess.Popen) -> queue.Queue[str]:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _until(lines: queue.Queue[str], prefix: str, seen: List[str]) -> str:
    while True:
        line = lines.get(timeout=TIMEOUT)
        seen.append(line)
        if line.startswith(prefix):
            return line


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to the demo, as Ctrl-C in a terminal does")
def test_keep_running_leaves_the_bots_up_until_ctrl_c():
    process = subprocess.Popen([sys.executable, "-m", "workbench.cli", "demo", "--keep-running"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8")
    try:
        lines, seen = _lines_of(process), []
        port = int(_until(lines, "demo: reference server on ", seen).rsplit(":", 1)[1])
        _until(lines, "The server and the bots keep running", seen)
        _until(lines, "What the bots print follows.", seen)
        text = "\n".join(seen)
        for style, (uin, password) in demo.BOT_ACCOUNTS.items():
            assert f"{style} bot ({uin}): uin {uin}, password {password!r}" in text
        assert f".server_port = {port}" in text and "GG_PROTOCOL_VERSION_100" in text

        async def talk_to_the_callbacks_bot() -> float:
            user = await ScriptedUser.login(("127.0.0.1", port), 1001, "alice")
            try:
                return await user.say(2002, "Czy ktoś tu jest?")
            finally:
                await user.close()

        assert asyncio.run(talk_to_the_callbacks_bot()) > 0
        _until(lines, "  [callbacks bot] echoed to 1001: Czy ktoś tu jest?", seen)
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0
        _until(lines, "demo: stopping the bots and the server", seen)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
