"""The offline queue survives kill -9 of a real server process (`gg-workbench serve --state FILE`).

Every message acknowledged with GG_ACK_QUEUED is delivered after a restart; one comes twice only if
the server had written it to carol and not yet taken her GG_RECV_MSG_ACK for it when it died. The
rounds are in durability_rounds.py, which also runs alone for more rounds than the suite affords.
"""
from __future__ import annotations

import os
import random

import pytest
from durability_rounds import Tally, delivery_round, queueing_round, serve_args
from server_process import ServeProcess

#: Kills per phase (each restart is a new Python process, about 0.5 s on an idle machine); more with
#: GG_DURABILITY_ROUNDS, or `python tests/unit/durability_rounds.py --rounds N` for the figures.
ROUNDS = int(os.environ.get("GG_DURABILITY_ROUNDS", "3"))
MESSAGES = 200

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a server process with SIGKILL")


@pytest.mark.parametrize("phase", [queueing_round, delivery_round], ids=["while-queueing", "while-delivering"])
def test_every_acknowledged_message_survives_kill_9(tmp_path, phase):
    rng = random.Random(os.environ.get("GG_DURABILITY_SEED", "12"))

    def start() -> ServeProcess:
        return ServeProcess(serve_args(tmp_path / "state.db"), tmp_path / "serve.log")

    tally = Tally()
    server = start()
    try:
        for round_number in range(ROUNDS):
            server = phase(start, server, rng, 1 + round_number * MESSAGES, MESSAGES, tally)
    finally:
        server.kill()
    assert tally.problems == []
    assert tally.rounds == ROUNDS and tally.acked > 0
