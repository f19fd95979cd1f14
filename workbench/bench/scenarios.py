"""The bench's scenarios A-G (issue 7; G, the offline queue, issue 12): what each one asks of a client.

A scenario is data only: how many sessions do round trips, how many sit idle beside them, how deep the
pipeline is, whether the server shares the client's core. The worker (worker.py) turns it into calls.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, List

__all__ = [
    "FIGURES",
    "IDLE",
    "PIPELINE",
    "ROUND_TRIPS",
    "ROUTE",
    "SCENARIO_KEYS",
    "Scenario",
    "scenarios",
]

#: What a scenario measures: strict round trips, pipelined bursts, idle sessions and a ping round,
#: or the reference server routing messages between sessions.
ROUND_TRIPS = "round-trips"
PIPELINE = "pipeline"
IDLE = "idle"
ROUTE = "route"

#: The figures each kind of scenario reports (the worker's result keys); the JSON has every one.
FIGURES: Dict[str, List[str]] = {
    ROUND_TRIPS: ["rate", "cpu_us_per_rt"],
    PIPELINE: ["rate", "cpu_us_per_rt"],
    IDLE: ["rss_per_session_bytes", "ping_round_ms", "ping_round_cpu_ms", "open_seconds"],
    ROUTE: ["rate", "cpu_us_per_rt", "server_cpu_us_per_msg", "server_rss_per_session_bytes"],
}


@dataclass(frozen=True)
class Scenario:
    """One column of the table. `busy` sessions do round trips for `seconds` while `idle` others sit by."""

    key: str
    kind: str
    busy: int = 1
    idle: int = 0
    depth: int = 1
    one_core: bool = False
    #: ROUTE only: send to accounts that never log in, so that every message goes through the
    #: offline queue (a sqlite3 state file, a commit per message) and is acked GG_ACK_QUEUED.
    offline: bool = False
    seconds: float = 1.0
    warmup: float = 0.2

    @property
    def sessions(self) -> int:
        return self.busy + self.idle

    @property
    def title(self) -> str:
        if self.kind == IDLE:
            return f"{self.key}: {self.idle:,} idle sessions, then a ping round"
        if self.kind == PIPELINE:
            return f"{self.key}: one session, {self.depth} messages pipelined"
        if self.kind == ROUTE and self.offline:
            return f"{self.key}: reference server queueing from {self.busy:,} sessions for offline users"
        if self.kind == ROUTE:
            return f"{self.key}: reference server routing between {self.busy:,} sessions"
        if self.idle:
            return f"{self.key}: one busy session, {self.idle:,} idle"
        core = ", both on one core" if self.one_core else ""
        return f"{self.key}: {self.busy:,} session{'s' if self.busy > 1 else ''}{core}"


_FULL: List[Scenario] = [
    Scenario("A", ROUND_TRIPS),
    Scenario("A1", ROUND_TRIPS, one_core=True),
    Scenario("B1", ROUND_TRIPS, busy=100),
    Scenario("B2", ROUND_TRIPS, busy=1000),
    Scenario("C", PIPELINE, depth=100),
    Scenario("D1", IDLE, busy=0, idle=1000),
    Scenario("D2", IDLE, busy=0, idle=5000),
    Scenario("D3", IDLE, busy=0, idle=10000),
    Scenario("E1", ROUND_TRIPS, idle=1000),
    Scenario("E2", ROUND_TRIPS, idle=10000),
    Scenario("F", ROUTE, busy=1000),
    Scenario("G", ROUTE, busy=100, offline=True),
]

#: --quick: every scenario and every row, smaller and shorter. D3 keeps more sessions than select()
#: can watch, so that its limit shows in the quick table too.
_QUICK_SIZES: Dict[str, Dict[str, int]] = {
    "B1": {"busy": 20},
    "B2": {"busy": 100},
    "D1": {"idle": 100},
    "D2": {"idle": 300},
    "D3": {"idle": 1100},
    "E1": {"idle": 100},
    "E2": {"idle": 300},
    "F": {"busy": 100},
    "G": {"busy": 20},
}

SCENARIO_KEYS: List[str] = [scenario.key for scenario in _FULL]


def scenarios(quick: bool = False) -> List[Scenario]:
    """Every scenario in table order; with `quick`, the small and short versions."""
    if not quick:
        return list(_FULL)
    return [replace(s, seconds=0.1, warmup=0.03, **_QUICK_SIZES.get(s.key, {})) for s in _FULL]
