"""`gg-workbench trace`: the yield-from examples on modern.loop, one line per pass of _run_once."""
from __future__ import annotations

import gc
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from gadu.server import ServerThread
from gadu.server.config import ServerConfig
from workbench import cli
from workbench.examples import ExampleNotInStyle, Examples
from workbench.trace import trace_example

FIXTURES = Path(__file__).parent / "data" / "examples"
PASS = re.compile(r"^pass (\d+): select \d+\.\d{6}s \(fds (?:[\d, ]+|none)\), \d+ timer\(s\) due, "
                  r"ran \d+ in \d+\.\d{6}s: ")


def test_limit_prints_that_many_passes_and_stops_the_example():
    # Ten messages: more passes than 20, however the bytes happen to batch.
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "trace", "echo_bot", "--limit", "20", "--",
                           "--max-messages", "10"],
                          capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    passes = [line for line in done.stdout.splitlines() if line.startswith("pass ")]
    assert len(passes) == 20
    assert [int(PASS.match(line).group(1)) for line in passes] == list(range(1, 21))
    assert "trace: stopped after 20 passes" in done.stdout
    assert "Task._step()" in passes[0], "the first pass runs the example's task"


def test_a_whole_run_shows_the_example_between_the_passes(capsys):
    assert trace_example("fan_out") == 0
    out = capsys.readouterr().out.splitlines()
    passes = [line for line in out if line.startswith("pass ")]
    assert passes and all(PASS.match(line) for line in passes)
    assert "5 answered, 0 failed" in out
    # The five questions start together: one pass steps all their tasks.
    assert any(line.count("Task._step()") >= 5 for line in passes)
    assert any("SocketTransport._read_bytes()" in line and "(fds none)" not in line for line in passes)
    assert out[-1].startswith(f"trace: {len(passes)} passes ran ")


def test_the_echo_server_is_traced_with_its_client(capsys):
    """The counterpart reads the port from what the traced example prints."""
    assert trace_example("echo_server") == 0
    out = capsys.readouterr().out.splitlines()
    assert "served 2 client(s)" in out
    assert any("sock_accept" in line or "_accept" in line for line in out if line.startswith("pass "))


@pytest.mark.parametrize("limit", [1, 2, 4, 7, 10, 14, 19, 25])
def test_stopping_at_any_pass_closes_every_socket(limit, capsys):
    """Cancelled at any point, from connecting to logging off, the example leaves no socket open.

    The server is this test's own and stops after the check: its side is not what is checked here.
    """
    with ServerThread(ServerConfig(port=0)) as server:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            assert trace_example("echo_bot", limit=limit, server=("127.0.0.1", server.port)) == 0
            gc.collect()
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    out = capsys.readouterr().out
    assert sum(line.startswith("pass ") for line in out.splitlines()) <= limit


def test_unknown_example_is_a_usage_error(capsys):
    assert cli.main(["trace", "chat_bot"]) == 2
    assert "unknown example 'chat_bot'" in capsys.readouterr().err


def test_an_example_without_a_yieldfrom_version_cannot_be_traced():
    with pytest.raises(ExampleNotInStyle, match="no 'yieldfrom' version"):
        trace_example("echo_server", examples=Examples(FIXTURES))
