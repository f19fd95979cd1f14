"""faux_sync in every style: the callback API, step after step (callbacks, handlers) or awaited as Futures."""
from __future__ import annotations

import pytest
from test_examples_common import STYLE_NAMES, reference_server, run_in_process, run_scenario

EXPECTED = [
    "logged in as 1001",
    "sent 'Dzień dobry!' to 1000: delivered",
    "1000 answered: Dzień dobry!",
    "ping: pong",
    "logged off",
]


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_every_step_answers_in_order(style):
    code, lines, _ = run_scenario("faux_sync", style)
    assert lines == EXPECTED
    assert code == 0


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_its_own_text_comes_back(style):
    code, lines, _ = run_scenario("faux_sync", style, "--text", "Pchnąć w tę łódź jeża")
    assert "1000 answered: Pchnąć w tę łódź jeża" in lines
    assert code == 0


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_an_error_from_a_callback_is_raised_where_the_call_was(style):
    """A refused login reaches the code that asked for it, as the error of that step."""
    with reference_server() as address:
        code, lines, _ = run_in_process("faux_sync", style, ["--server", f"{address[0]}:{address[1]}",
                                                             "--password", "wrong"])
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith("failed: ") and "refused" in lines[0], lines
