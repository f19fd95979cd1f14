"""`gg-workbench bench`: every client variant side by side with asyncio and uvloop, 1 to 10,000 sessions.

The command line is here; scenarios.py says what is measured, variants.py and raw.py how each row
does it, worker.py measures in the client process, runner.py runs the processes, report.py writes
the table, the JSON and the SVG.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

__all__ = ["add_parser", "run"]

_EPILOG = """\
Scenarios: A one session (A1: both processes on one core), B1/B2 100 and 1,000 sessions at once,
C 100 messages pipelined, D1-D3 1,000/5,000/10,000 idle sessions and a ping round, E1/E2 one busy
session beside 1,000/10,000 idle ones, F the reference server routing between 1,000 sessions,
G the reference server queueing from 100 sessions for offline users (a state file, a commit per message).
A round trip is SEND_MSG80 out, SEND_MSG_ACK and the echoed RECV_MSG80 in (raw rows: one 48-byte
frame echoed). The full run (3 runs of every cell) takes about ten minutes on 2 cores; --quick
about half a minute."""


def _names(text: Optional[str]) -> Optional[List[str]]:
    return [name.strip() for name in text.split(",") if name.strip()] if text else None


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "bench",
        help="measure every variant against asyncio and uvloop, from one session to 10,000",
        description="Measure every client variant and the raw ceilings (asyncio Protocol, BufferedProtocol, "
        "streams, a selectors reactor, modern.loop, uvloop): round trips per second and the client's CPU time "
        "per round trip, RSS per idle session, and the reference server's routing rate.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="every row and scenario, small and short, one run")
    parser.add_argument("--runs", type=int, metavar="N", help="runs per cell (default 3; 1 with --quick)")
    parser.add_argument("--scenarios", metavar="KEYS", help="comma-separated subset, e.g. A,B1,D3")
    parser.add_argument("--variants", metavar="NAMES", help="comma-separated subset, e.g. aio,raw-uvloop")
    parser.add_argument("--json", metavar="FILE", help="write every figure, the machine and the date as JSON")
    parser.add_argument("--svg", metavar="FILE", help="write the chart as SVG")
    parser.add_argument("--output", metavar="DIR", help="write bench.txt, bench.json and bench.svg into DIR")
    parser.add_argument("--list", action="store_true", help="list the scenarios and variants, then exit")
    parser.add_argument("--core", action="store_true", help="only the protocol core per round trip against "
                        "a hand-written struct floor, in this process (issue 13)")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE.json", "AFTER.json"),
                        help="judge the goals that need two runs on their JSON files: before and after on one "
                        "Python, or the same rows on two Pythons (issue 13)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # --compare and --core need no client variant: they run on a Python without pyasyncore (3.12+).
    if args.compare:
        from .compare import main as compare_main
        return compare_main(*args.compare)
    if args.core:
        from .core import main as core_main
        return core_main(args.quick, args.runs, args.json)
    from . import report
    from .runner import BenchOptions, run_bench
    from .scenarios import scenarios
    from .worker import VARIANTS

    if args.list:
        for scenario in scenarios(args.quick):
            print(f"{scenario.key:4} {scenario.title}")
        for name, cls in VARIANTS.items():
            print(f"{name:20} {cls.family:4} {cls.available() or 'available'}")
        return 0
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    if runs < 1:
        print("gg-workbench bench: --runs must be at least 1", file=sys.stderr)
        return 2
    options = BenchOptions(quick=args.quick, runs=runs, scenario_keys=_names(args.scenarios),
                           variant_names=_names(args.variants))
    try:
        results = run_bench(options)
    except ValueError as exc:
        print(f"gg-workbench bench: {exc}", file=sys.stderr)
        return 2
    text = report.table(results)
    sys.stdout.write(text)
    outputs = []
    if args.output:
        os.makedirs(args.output, exist_ok=True)
        with open(os.path.join(args.output, "bench.txt"), "w", encoding="utf-8") as handle:
            handle.write(text)
        outputs += [(report.write_json, os.path.join(args.output, "bench.json")),
                    (report.write_svg, os.path.join(args.output, "bench.svg"))]
    if args.json:
        outputs.append((report.write_json, args.json))
    if args.svg:
        outputs.append((report.write_svg, args.svg))
    for write, path in outputs:
        write(results, path)
    failed = [key for key, runs_ in results.runs.items() if any(r.get("error") for r in runs_)]
    if failed:
        print(f"gg-workbench bench: {len(failed)} cell(s) failed; their rows say why", file=sys.stderr)
        return 1
    return 0
