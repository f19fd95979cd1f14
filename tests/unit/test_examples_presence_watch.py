"""presence_watch in every style: prints the contact's status on arrival and every change after, with descriptions."""
from __future__ import annotations

import pytest
from test_examples_common import STYLE_NAMES, run_scenario

EXPECTED = [
    "logged in as 1001, watching 1002",
    "1002 is available: dzień dobry",  # in the answer to the contact list: online before the watcher
    "1002 is busy: zajęty, piszę kod",
    "1002 is available: już jestem",
    "1002 is offline: do jutra",  # a logoff with a description keeps it
    "logged off after 4 change(s)",
]


@pytest.mark.parametrize("style", STYLE_NAMES)
def test_prints_every_change_a_scripted_contact_makes(style):
    code, lines, counterpart = run_scenario("presence_watch", style)
    assert lines == EXPECTED
    assert code == 0
    assert counterpart is not None and counterpart.error is None, counterpart.error


@pytest.mark.parametrize("style", ["dispatcher", "callbacks", "yieldfrom", "aio"])
def test_max_changes_ends_the_watch_early(style):
    """With --max-changes 2 it logs off after the second change, whatever the contact does next."""
    code, lines, _ = run_scenario("presence_watch", style, "--max-changes", "2")
    assert lines == [*EXPECTED[:3], "logged off after 2 change(s)"]
    assert code == 0
