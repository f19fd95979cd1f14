"""The client process of the bench: runs one variant through the scenarios it is given and measures it.

It reads a job (JSON) on stdin, pins itself to its core, raises its file limit, and prints one JSON
line per scenario: round trips, wall time and this process's CPU time (getrusage, user + system) in
the measured window, or RSS and the ping round for idle sessions. Run as `python -m workbench.bench.worker`.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any, Dict, List, Optional, Tuple, Type

from .base import BenchError, NotPossible, Variant
from .machine import cpu_seconds, pin, process_cpu_seconds, raise_file_limit, rss_kib
from .raw import (
    RawBufferedVariant,
    RawModernLoopVariant,
    RawProtocolVariant,
    RawReactorVariant,
    RawStreamsVariant,
    RawUvloopVariant,
)
from .scenarios import IDLE, PIPELINE, ROUTE, Scenario
from .variants import (
    AioVariant,
    BridgedDispatcherVariant,
    CallbacksVariant,
    DispatcherVariant,
    NaiveStreamsVariant,
    SelectDispatcherVariant,
    YieldFromOnAsyncioVariant,
    YieldFromVariant,
)

__all__ = ["ROUTE_DRIVER", "VARIANTS", "main", "run_scenario"]

#: Every row of the table, in order: the GG variants, then the raw ceilings.
VARIANTS: Dict[str, Type[Variant]] = {
    cls.name: cls
    for cls in (
        SelectDispatcherVariant, DispatcherVariant, BridgedDispatcherVariant, CallbacksVariant,
        YieldFromVariant, YieldFromOnAsyncioVariant, AioVariant, NaiveStreamsVariant,
        RawProtocolVariant, RawBufferedVariant, RawStreamsVariant, RawReactorVariant,
        RawModernLoopVariant, RawUvloopVariant,
    )
}
#: The client that loads the reference server in scenario F (its figures are the server's).
ROUTE_DRIVER = "callbacks"


class _Meter:
    """Wall time and this process's CPU time over one measured window."""

    def __enter__(self) -> _Meter:
        self.cpu = cpu_seconds()
        self.wall = time.perf_counter()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = cpu_seconds() - self.cpu


def _rates(count: int, meter: _Meter) -> Dict[str, Any]:
    return {
        "round_trips": count,
        "seconds": meter.wall,
        "cpu_seconds": meter.cpu,
        "rate": count / meter.wall if meter.wall > 0 else None,
        "cpu_us_per_rt": meter.cpu / count * 1e6 if count else None,
    }


def _settled_rss() -> Optional[int]:
    gc.collect()
    return rss_kib()


def run_scenario(cls: Type[Variant], scenario: Scenario, address: Tuple[str, int],
                 server_pid: Optional[int] = None) -> Dict[str, Any]:
    """Run one scenario on a fresh instance of the variant; the figures, or why there are none."""
    result: Dict[str, Any] = {"variant": cls.name, "scenario": scenario.key}
    unavailable = cls.available()
    if unavailable:
        result["not_possible"] = unavailable
        return result
    variant = cls(address, route=scenario.kind == ROUTE)
    if scenario.offline:
        variant.offline_offset = scenario.busy
    try:
        if scenario.kind == IDLE:
            result.update(_idle(variant, scenario))
        elif scenario.kind == ROUTE:
            result.update(_route(variant, scenario, server_pid))
        else:
            variant.open(scenario.idle)  # they stay open in the variant, logged in, doing nothing
            busy = variant.open(scenario.busy)
            if scenario.kind == PIPELINE:
                variant.pipeline(busy[0], scenario.depth, scenario.warmup)
                with _Meter() as meter:
                    count = variant.pipeline(busy[0], scenario.depth, scenario.seconds)
            else:
                variant.round_trips(busy, scenario.warmup)
                with _Meter() as meter:
                    count = variant.round_trips(busy, scenario.seconds)
            result.update(_rates(count, meter))
    except NotPossible as exc:
        result["not_possible"] = str(exc)
    except BenchError as exc:
        result["error"] = str(exc)
    except Exception as exc:  # a bug in a variant: its cell says so, the run goes on
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            variant.close()
        except Exception as exc:
            result.setdefault("error", f"closing failed: {type(exc).__name__}: {exc}")
    return result


def _idle(variant: Variant, scenario: Scenario) -> Dict[str, Any]:
    before = _settled_rss()
    started = time.perf_counter()
    sessions = variant.open(scenario.idle)
    opened = time.perf_counter() - started
    after = _settled_rss()
    with _Meter() as meter:
        variant.ping_round(sessions)
    figures: Dict[str, Any] = {
        "sessions": len(sessions),
        "open_seconds": opened,
        "ping_round_ms": meter.wall * 1e3,
        "ping_round_cpu_ms": meter.cpu * 1e3,
    }
    if before is not None and after is not None:
        figures.update(rss_before_kib=before, rss_after_kib=after,
                       rss_per_session_bytes=(after - before) * 1024 / len(sessions))
    return figures


def _route(variant: Variant, scenario: Scenario, server_pid: Optional[int]) -> Dict[str, Any]:
    server_rss_before = rss_kib(server_pid) if server_pid else None
    sessions = variant.open(scenario.busy)
    server_rss_after = rss_kib(server_pid) if server_pid else None
    variant.round_trips(sessions, scenario.warmup)
    server_cpu = process_cpu_seconds(server_pid) if server_pid else None
    with _Meter() as meter:
        count = variant.round_trips(sessions, scenario.seconds)
    figures = _rates(count, meter)
    if server_cpu is not None and server_pid:
        spent = process_cpu_seconds(server_pid)
        if spent is not None and count:
            figures["server_cpu_us_per_msg"] = (spent - server_cpu) / count * 1e6
    if server_rss_before is not None and server_rss_after is not None:
        figures["server_rss_per_session_bytes"] = (server_rss_after - server_rss_before) * 1024 / len(sessions)
    return figures


def _scenario_from(data: Dict[str, Any]) -> Scenario:
    return Scenario(**data)


def main(argv: Optional[List[str]] = None) -> int:
    """Read the job from stdin: {"variant", "address", "client_cpu", "server_cpu", "server_pid", "scenarios"}."""
    job = json.loads(sys.stdin.read())
    cls = VARIANTS[job["variant"]]
    address = (job["address"][0], int(job["address"][1]))
    client_cpu, server_cpu, server_pid = job.get("client_cpu"), job.get("server_cpu"), job.get("server_pid")
    pin(0, client_cpu)
    raise_file_limit()
    for data in job["scenarios"]:
        scenario = _scenario_from(data)
        shared = scenario.one_core and server_pid and pin(server_pid, client_cpu)
        try:
            result = run_scenario(cls, scenario, address, server_pid)
        finally:
            if shared:
                pin(server_pid, server_cpu)
        result["pinned"] = client_cpu is not None
        result["one_core"] = bool(shared)
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
