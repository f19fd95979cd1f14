"""echo_bot in every style: logs in, answers every message with its own text, logs off after N."""
from __future__ import annotations

import socket

import pytest
from test_examples_common import STYLE_NAMES, reference_server, run_in_process, run_scenario

from workbench.run import ECHO_TEXTS

EXPECTED = [
    "logged in as 1001",
    *(f"echoed to 1002: {text}" for text in ECHO_TEXTS),
    f"logged off after {len(ECHO_TEXTS)} message(s)",
]


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_echoes_what_a_scripted_user_says_then_logs_off(style):
    """Every message comes back with its own text, in order, Polish letters intact; then a clean logoff."""
    code, lines, counterpart = run_scenario("echo_bot", style)
    assert lines == EXPECTED
    assert code == 0
    assert counterpart is not None and counterpart.error is None
    assert counterpart.summary == f"scripted user 1002 got {len(ECHO_TEXTS)} of {len(ECHO_TEXTS)} echoes from 1001"


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_a_refused_login_is_reported_and_ends_with_1(style):
    with reference_server() as address:
        code, lines, _ = run_in_process("echo_bot", style, ["--server", f"{address[0]}:{address[1]}",
                                                            "--password", "not-alice", "--max-messages", "1"])
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("failed: ") and "wrong password or unknown uin" in lines[0]


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_no_server_is_reported_and_ends_with_1(style):
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        code, lines, _ = run_in_process("echo_bot", style, ["--server", f"127.0.0.1:{port}"])
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("failed: "), lines
