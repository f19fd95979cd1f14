"""Runs the bench: the servers in their own processes, one client process per job, pinned apart.

A job is one variant through one scenario (the full run) or through all of them (--quick, where a
process start costs more than the scenario). Servers live for the whole run, except scenario F's,
which starts fresh each time so that its RSS per session is its own. Runs repeat the whole table,
so that drift on the machine spreads over every row; the figures are then median, min and max.
"""
from __future__ import annotations

import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .base import OPEN_CONCURRENCY
from .echo_server import BACKLOG
from .machine import machine_info, pin, usable_cpus
from .progress import Progress
from .scenarios import FIGURES, ROUTE, Scenario, scenarios
from .worker import ROUTE_DRIVER, VARIANTS

__all__ = ["BenchOptions", "BenchResults", "ServerProcess", "run_bench"]

#: Environment variables that would put the measured processes in a debug mode (tox sets the first).
_DEBUG_VARIABLES = ("PYTHONDEVMODE", "PYTHONASYNCIODEBUG", "GG_LOOP_DEBUG", "PYTHONTRACEMALLOC", "PYTHONWARNINGS")
#: Seconds a server gets to say which port it listens on.
_SERVER_START_TIMEOUT = 30.0
#: A job's allowance beyond its windows: process start, plus this much per session it opens.
_JOB_BASE_SECONDS = 60.0
_JOB_SECONDS_PER_SESSION = 0.02


@dataclass
class BenchOptions:
    quick: bool = False
    runs: int = 3
    scenario_keys: Optional[List[str]] = None
    variant_names: Optional[List[str]] = None


@dataclass
class BenchResults:
    """Everything one run of the bench found; report.py renders it."""

    options: BenchOptions
    machine: Dict[str, Any]
    setup: Dict[str, Any]
    scenarios: List[Scenario]
    variants: List[str]
    #: (variant, scenario key) -> one result dict per run, as the worker printed it.
    runs: Dict[Tuple[str, str], List[Dict[str, Any]]] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    def summary(self, variant: str, key: str) -> Dict[str, Any]:
        """Median, min and max of each figure over the runs that produced it, and a note if any failed."""
        runs = self.runs.get((variant, key), [])
        kinds = [s.kind for s in self.scenarios if s.key == key]
        figures: Dict[str, Dict[str, float]] = {}
        for name in FIGURES[kinds[0]] if kinds else ():
            values = [run[name] for run in runs if run.get(name) is not None]
            if values:
                figures[name] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        notes = [run.get("not_possible") or run.get("error") for run in runs]
        note = next((n for n in notes if n), None)
        return {"figures": figures, "note": note, "runs": len(runs),
                "not_possible": any(run.get("not_possible") for run in runs)}


def bench_environment() -> Dict[str, str]:
    """The measured processes' environment: no debug modes, and this checkout importable."""
    env = {k: v for k, v in os.environ.items() if k not in _DEBUG_VARIABLES}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class ServerProcess:
    """A server in its own process (`python -m MODULE ARGS`), which prints `PORT n` once listening."""

    def __init__(self, module: str, args: List[str], cpu: Optional[int], description: str) -> None:
        self.module = module
        self.args = args
        self.cpu = cpu
        self.description = description
        self.port = 0
        self._log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self._log, env=bench_environment(), text=True,
        )
        try:
            self.port = self._read_port()
        except BaseException:
            self.stop()
            raise
        self.pinned = pin(self.process.pid, cpu)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read_port(self) -> int:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(_SERVER_START_TIMEOUT):
                raise RuntimeError(f"{self.module} did not start within {_SERVER_START_TIMEOUT:g} s{self._tail()}")
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"{self.module} failed to start{self._tail()}")
        return int(line.split()[1])

    def _tail(self) -> str:
        self._log.seek(0)
        text = self._log.read().strip()
        return f": {text[-500:]}" if text else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def _job_timeout(scenario_list: List[Scenario]) -> float:
    return _JOB_BASE_SECONDS + sum(s.seconds + s.warmup + _JOB_SECONDS_PER_SESSION * s.sessions
                                   for s in scenario_list)


def run_job(variant: str, scenario_list: List[Scenario], server: ServerProcess, client_cpu: Optional[int],
            on_result: Callable[[Dict[str, Any]], None]) -> None:
    """One client process: the variant through the scenarios; a result for each, even when it dies."""
    job = {
        "variant": variant,
        "address": ["127.0.0.1", server.port],
        "client_cpu": client_cpu,
        "server_cpu": server.cpu,
        "server_pid": server.pid,
        "scenarios": [asdict(s) for s in scenario_list],
    }
    timeout = _job_timeout(scenario_list)
    reported = set()
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen([sys.executable, "-m", "workbench.bench.worker"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=errors, env=bench_environment(), text=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(json.dumps(job))
            process.stdin.close()
            for line in process.stdout:
                result = json.loads(line)
                reported.add(result["scenario"])
                on_result(result)
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        errors.seek(0)
        tail = errors.read().strip().splitlines()[-3:]
    for scenario in scenario_list:
        if scenario.key not in reported:
            why = (f"the client process was stopped after {timeout:.0f} s" if timed_out.is_set()
                   else f"the client process died (exit {process.returncode})")
            detail = f": {' / '.join(tail)}" if tail else ""
            on_result({"variant": variant, "scenario": scenario.key, "error": why + detail})


def _plan(options: BenchOptions) -> Tuple[List[Scenario], List[str]]:
    chosen = scenarios(options.quick)
    if options.scenario_keys:
        unknown = set(options.scenario_keys) - {s.key for s in chosen}
        if unknown:
            raise ValueError(f"unknown scenario {sorted(unknown)}: choose from {[s.key for s in chosen]}")
        chosen = [s for s in chosen if s.key in options.scenario_keys]
    names = list(VARIANTS)
    if options.variant_names:
        unknown = set(options.variant_names) - set(names)
        if unknown:
            raise ValueError(f"unknown variant {sorted(unknown)}: choose from {names}")
        names = [n for n in names if n in options.variant_names]
    return chosen, names


def run_bench(options: BenchOptions, progress_stream: Any = None) -> BenchResults:
    """Run every planned cell `options.runs` times; the results, ready for report.py."""
    chosen, names = _plan(options)
    cpus = usable_cpus()
    client_cpu, server_cpu = (cpus[0], cpus[1]) if len(cpus) >= 2 else (None, None)
    per_variant = [s for s in chosen if s.kind != ROUTE]
    route = [s for s in chosen if s.kind == ROUTE]
    needs_gg = any(VARIANTS[n].family == "gg" for n in names) and per_variant
    needs_echo = any(VARIANTS[n].family == "raw" for n in names) and per_variant
    results = BenchResults(options, machine_info(), {}, chosen, names, started=time.time())
    progress = Progress(options.runs * (len(names) * len(per_variant) + len(route)), progress_stream)
    servers: Dict[str, ServerProcess] = {}
    gg_name = "the reference server (gadu.server) on asyncio, as `gg-workbench serve` runs it"

    def gg_args(sessions: int) -> List[str]:
        return ["--users", str(sessions + 10)]

    def route_args(scenario: Scenario, state_folder: str) -> List[str]:
        if not scenario.offline:
            return gg_args(scenario.busy)
        # Every session's offline partner is an account too; the queue is a real state file.
        return [*gg_args(2 * scenario.busy), "--state", os.path.join(state_folder, "queue.db")]

    def server_for(family: str) -> ServerProcess:
        current = servers.get(family)
        if current is not None and current.alive():
            return current
        if current is not None:
            current.stop()
        if family == "gg":
            largest = max(s.sessions for s in per_variant)
            servers[family] = ServerProcess("workbench.bench.gg_server", gg_args(max(largest, 1)), server_cpu, gg_name)
        else:
            servers[family] = ServerProcess("workbench.bench.echo_server", [], server_cpu,
                                            "a byte echo on select.epoll (echo_server.py)")
        return servers[family]

    def record(result: Dict[str, Any]) -> None:
        results.runs.setdefault((result["variant"], result["scenario"]), []).append(result)
        progress.advance(f"{result['variant']} {result['scenario']}")

    try:
        if needs_gg:
            server_for("gg")
        if needs_echo:
            server_for("raw")
        results.setup = _setup(servers, client_cpu, server_cpu, gg_name)
        for _ in range(options.runs):
            for name in names:
                family = VARIANTS[name].family
                jobs = [per_variant] if options.quick else [[s] for s in per_variant]
                for job in jobs:
                    if job:
                        progress.show(f"{name} {', '.join(s.key for s in job)}")
                        run_job(name, job, server_for(family), client_cpu, record)
            for scenario in route:
                progress.show(f"{ROUTE_DRIVER} {scenario.key}")
                with tempfile.TemporaryDirectory() as state_folder:
                    server = ServerProcess("workbench.bench.gg_server", route_args(scenario, state_folder),
                                           server_cpu, gg_name)
                    try:
                        run_job(ROUTE_DRIVER, [scenario], server, client_cpu, record)
                    finally:
                        server.stop()
        if route and not results.setup:
            results.setup = _setup(servers, client_cpu, server_cpu, gg_name)
    finally:
        for server in servers.values():
            server.stop()
        progress.done()
    results.finished = time.time()
    return results


def _setup(servers: Dict[str, ServerProcess], client_cpu: Optional[int], server_cpu: Optional[int],
           gg_name: str) -> Dict[str, Any]:
    pinned = client_cpu is not None and all(s.pinned for s in servers.values())
    somaxconn = machine_info()["somaxconn"]
    return {
        "gg_server": gg_name,
        "listen_backlog": f"{BACKLOG} asked by both servers; the kernel grants at most net.core.somaxconn"
                          + (f" = {somaxconn}" if somaxconn else " (unknown here)"),
        "open_concurrency": OPEN_CONCURRENCY,
        "echo_server": servers["raw"].description if "raw" in servers else None,
        "client_cpu": client_cpu,
        "server_cpu": server_cpu,
        "pinning": (f"client on core {client_cpu}, servers on core {server_cpu} (os.sched_setaffinity); "
                    f"A1 moves the server to the client's core") if pinned
        else "not pinned: fewer than two usable cores, or sched_setaffinity refused",
        "route_driver": ROUTE_DRIVER,
    }
