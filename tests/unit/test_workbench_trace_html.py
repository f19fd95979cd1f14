"""`gg-workbench trace EXAMPLE --html FILE`: the talk's two subjects drawn on one page, and the limit said aloud.

The subjects: the raw-loop echo server (docs/talk.md#slide-12) and the GG echo bot's login.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import cli
from workbench.trace import trace_example

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "modern" / "yieldfrom" / "examples"


def page_data(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
                      .group(1))


def tips(page: str, kind: str) -> list:
    return re.findall(rf'<(?:rect|circle) class="mark {kind}[^"]*"[^>]*data-tip="([^"]*)"', page)


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_echo_server_with_two_clients(tmp_path, capsys):
    """One lane for the accepting task and one per client; the accept and the reads are named with their lines."""
    target = tmp_path / "echo.html"
    assert trace_example("echo_server", html=target) == 0
    out = capsys.readouterr().out
    page = target.read_text(encoding="utf-8")
    passes = int(re.search(r"^trace: (\d+) passes ran \d+ callbacks", out, re.M).group(1))
    assert "served 2 client(s)" in out and f"wrote {target}" in out
    assert len(re.findall(r'<rect class="col', page)) == passes == len(page_data(page)["passes"])
    lanes = re.findall(r'<text class="label"[^>]*>(Task-\d+) <tspan[^>]*>(\w+)\(\)</tspan>', page)
    assert [coro for _, coro in lanes] == ["echo_server", "serve", "serve"]
    accept = line_of(EXAMPLES / "echo_server.py", "sock_accept(")
    assert any("scheduled by sock_accept at " in tip and f"echo_server.py:{accept} in echo_server" in tip
               for tip in tips(page, "callback"))
    assert len(tips(page, "done result")) == 3, "every task returned"
    assert "id=\"note\"" not in page
    assert f'id="L{accept}"' in page, "the example's source is on the page"


def test_the_echo_bot_logs_in_on_modern_loop_with_the_servers_packets_above(tmp_path, capsys):
    target = tmp_path / "bot.html"
    assert trace_example("echo_bot", html=target) == 0
    page = target.read_text(encoding="utf-8")
    wire = [tip.split(": ", 1)[1] for tip in tips(page, "wire")]
    # "the server sent GG_WELCOME to ...", "the server received GG_LOGIN80 (hash zeroed) from ...": both sessions.
    names = [text.split()[3] for text in wire]
    assert names.index("GG_WELCOME") < names.index("GG_LOGIN80") < names.index("GG_LOGIN80_OK")
    assert any("it now waits on" in tip and "client.py:" in tip for tip in tips(page, "step")), \
        "the bot's task is seen waiting inside the yield-from client"


def test_a_limit_cuts_the_page_and_says_so(tmp_path):
    target = tmp_path / "cut.html"
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "trace", "echo_bot", "--limit", "6", "--html",
                           str(target)], capture_output=True, text=True, encoding="utf-8", timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trace: cut at the limit of 6 passes" in done.stdout
    page = target.read_text(encoding="utf-8")
    assert len(re.findall(r'<rect class="col', page)) == 6
    assert re.search(r'<p class="note" id="note">Cut at the limit of 6 passes', page)


def test_only_the_yieldfrom_style_runs_on_modern_loop(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["trace", "echo_bot", "--style", "aio"])
    assert exited.value.code == 2
    assert "invalid choice: 'aio'" in capsys.readouterr().err


def test_a_page_that_cannot_be_written_is_a_clear_failure(tmp_path, capsys):
    assert trace_example("echo_server", html=tmp_path / "no such folder" / "echo.html") == 1
    assert "trace: cannot write " in capsys.readouterr().out
