"""`gg-workbench run`: one example per style in a subprocess, with the embedded server and its counterpart."""
from __future__ import annotations

import socket
import subprocess
import sys
from typing import List

import pytest

from workbench.run import ECHO_TEXTS, OutputWatch, parse_address, split_words

TIMEOUT = 60


def gg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", timeout=TIMEOUT)


def _lines(out: str) -> List[str]:
    return out.splitlines()


CASES = [
    ("dispatcher", "echo_bot", [], [*(f"echoed to 1002: {text}" for text in ECHO_TEXTS),
                                    "run: scripted user 1002 got 3 of 3 echoes from 1001"]),
    ("dispatcher@asyncio", "presence_watch", [], ["1002 is busy: zajęty, piszę kod", "1002 is offline: do jutra",
                                                  "logged off after 4 change(s)"]),
    ("callbacks", "echo_server", [], ["client 2 connected", "served 2 client(s)",
                                      "run: 2 echo client(s), every byte came back"]),
    ("yieldfrom", "fan_out", ["--", "--count", "3"], ["asking 3 questions at once", "3 answered, 0 failed"]),
    ("yieldfrom@asyncio", "faux_sync", ["--", "--text", "Źdźbło"], ["1000 answered: Źdźbło", "logged off"]),
    ("aio", "echo_bot", ["--", "--max-messages", "1"], ["echoed to 1002: Dzień dobry!", "logged off after 1 message(s)",
                                                        "run: scripted user 1002 got 1 of 1 echoes from 1001"]),
]


@pytest.mark.parametrize("style,name,extra,expected", CASES, ids=[case[0] for case in CASES])
def test_runs_one_example_per_style_to_its_end(style, name, extra, expected):
    done = gg("run", name, "--style", style, *extra)
    lines = _lines(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr
    for line in expected:
        assert line in lines, f"{line!r} missing from:\n{done.stdout}"
    assert lines[-1] == f"run: {name} ({style}) exited with 0"
    assert any(line.startswith("run: python -m ") for line in lines)


def test_the_example_arguments_after_the_double_dash_win_over_the_defaults():
    done = gg("run", "echo_bot", "--style", "callbacks", "--", "--max-messages", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sum(line.startswith("echoed to 1002: ") for line in _lines(done.stdout)) == 2


def test_an_unknown_style_lists_the_valid_ones():
    done = gg("run", "echo_bot", "--style", "twisted")
    assert done.returncode == 2
    assert "unknown style 'twisted'" in done.stderr
    assert "dispatcher, dispatcher@asyncio, callbacks, yieldfrom, yieldfrom@asyncio, aio" in done.stderr


def test_an_unknown_example_lists_the_valid_ones():
    done = gg("run", "chat_bot", "--style", "aio")
    assert done.returncode == 2
    assert "unknown example 'chat_bot'" in done.stderr
    assert "echo_bot, echo_server, fan_out, faux_sync, presence_watch" in done.stderr


def test_the_style_is_required_and_bad_options_are_usage_errors():
    assert gg("run", "echo_bot").returncode == 2
    done = gg("run", "echo_bot", "--style", "aio", "--server", "nowhere")
    assert done.returncode == 2 and "expected HOST:PORT" in done.stderr


def test_a_counterpart_that_cannot_play_stops_the_example():
    """The watched contact is not a demo account: nobody can play it, so the watcher is stopped, not left waiting."""
    done = gg("run", "presence_watch", "--style", "aio", "--", "--contacts", "4242")
    assert done.returncode == 1
    assert "lost its counterpart" in done.stdout
    assert "uin 4242 is not a demo account" in done.stdout


def test_an_example_that_does_not_end_is_stopped_at_the_timeout():
    """A server that accepts and never speaks: the example would wait 30 s for WELCOME; --timeout 1 ends it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        done = gg("run", "faux_sync", "--style", "aio", "--timeout", "1", "--server",
                  f"127.0.0.1:{silent.getsockname()[1]}")
    assert done.returncode == 1
    assert "faux_sync (aio) ran out of time; stopping it" in done.stdout


def test_split_words_and_parse_address():
    assert split_words(["x", "--style", "aio", "--", "--a", "--", "b"]) == (["x", "--style", "aio"], ["--a", "--", "b"])
    assert split_words(["x"]) == (["x"], [])
    assert parse_address("127.0.0.1:8074") == ("127.0.0.1", 8074)
    for bad in ("127.0.0.1", ":8074", "host:0", "host:99999", "host:x"):
        with pytest.raises(Exception, match="HOST:PORT"):
            parse_address(bad)


def test_output_watch_finds_lines_printed_before_and_after_the_wait():
    import asyncio

    watch = OutputWatch()
    watch.feed("listening on 127.0.0.1:5000")

    async def scenario():
        early = await watch.wait_for(r":(\d+)$")
        later = asyncio.ensure_future(watch.wait_for(r"client (\d+) left", timeout=5))
        await asyncio.sleep(0)
        watch.feed("client 7 left after 3 bytes")
        return early.group(1), (await later).group(1)

    assert asyncio.run(scenario()) == ("5000", "7")
