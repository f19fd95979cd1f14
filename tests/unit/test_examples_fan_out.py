"""fan_out in every style: N questions at once, every result reported in order, a failed one included."""
from __future__ import annotations

import asyncio

import pytest
from test_examples_common import STYLE_NAMES, reference_server, run_in_process, run_scenario

from workbench.run import ScriptedUser


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_asks_five_at_once_and_reports_five_answers(style):
    code, lines, _ = run_scenario("fan_out", style)
    assert lines == [
        "logged in as 1001",
        "asking 5 questions at once",
        *(f"question {n} to 1000: answered 'question {n}'" for n in range(1, 6)),
        "5 answered, 0 failed",
    ]
    assert code == 0


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_a_question_to_nobody_is_reported_not_lost(style):
    """One of the four goes to a uin the server does not know: its failure is in the report, in its place."""
    code, lines, _ = run_scenario("fan_out", style, "--count", "4", "--to", "1000", "1000", "4242", "1000")
    assert lines[2:] == [
        "question 1 to 1000: answered 'question 1'",
        "question 2 to 1000: answered 'question 2'",
        "question 3 to 4242: failed: not delivered (ack status 6)",
        "question 4 to 1000: answered 'question 4'",
        "3 answered, 1 failed",
    ]
    assert code == 1


async def _silent_contact(address, args, watch, console, ready):
    """1002 logs in and reads everything, answering nothing, until it is stopped."""
    user = await ScriptedUser.login(address, 1002, "bob")
    try:
        ready()
        await asyncio.Event().wait()
    finally:
        await user.close()


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_a_question_nobody_answers_times_out_alone(style):
    """The message to 1002 is delivered but never answered: that question times out, the other is answered."""
    with reference_server() as address:
        argv = ["--server", f"{address[0]}:{address[1]}", "--count", "2", "--to", "1000", "1002", "--timeout", "0.5"]
        code, lines, _ = run_in_process("fan_out", style, argv, counterpart=_silent_contact, address=address,
                                        counterpart_ends=False, starts_first=True)
    assert lines[2:] == [
        "question 1 to 1000: answered 'question 1'",
        "question 2 to 1002: failed: no answer in time",
        "1 answered, 1 failed",
    ]
    assert code == 1
