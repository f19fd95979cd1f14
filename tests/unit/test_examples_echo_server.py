"""echo_server in every style: every byte comes back, clients come and go, it ends after --max-clients."""
from __future__ import annotations

import asyncio
import re
import socket

import pytest
from test_examples_common import STYLE_NAMES, run_in_process

from workbench.run import ECHO_SERVER_LINES, SCENARIOS

SENT = sum(map(len, ECHO_SERVER_LINES))


def _normalized(lines):
    return [re.sub(r"^listening on 127\.0\.0\.1:\d+$", "listening on 127.0.0.1:PORT", line) for line in lines]


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_echoes_every_byte_to_each_client_in_turn(style):
    scenario = SCENARIOS["echo_server"]
    code, lines, counterpart = run_in_process("echo_server", style, scenario.arguments(("127.0.0.1", 0)),
                                              counterpart=scenario.counterpart)
    assert _normalized(lines) == [
        "listening on 127.0.0.1:PORT",
        "client 1 connected",
        f"client 1 left after {SENT} bytes",
        "client 2 connected",
        f"client 2 left after {SENT} bytes",
        "served 2 client(s)",
    ]
    assert code == 0
    assert counterpart is not None and counterpart.error is None, counterpart.error


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_the_port_it_prints_is_the_one_it_listens_on(style):
    """--port 0 takes a free port and says which; a client that only connects and leaves counts too."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def connect_once(address, args, watch, console, ready):
        ready()
        match = await watch.wait_for(r"listening on 127\.0\.0\.1:(\d+)")
        _, writer = await asyncio.open_connection("127.0.0.1", int(match.group(1)))
        writer.close()
        await writer.wait_closed()
        return match.group(1)

    code, lines, counterpart = run_in_process("echo_server", style, ["--port", str(port), "--max-clients", "1"],
                                              counterpart=connect_once)
    assert lines == [f"listening on 127.0.0.1:{port}", "client 1 connected", "client 1 left after 0 bytes",
                     "served 1 client(s)"]
    assert counterpart is not None and counterpart.summary == str(port)
    assert code == 0
