"""`gg-workbench bench --compare A.json B.json`: the goals that need two runs, judged on their JSON.

Two runs on one Python are a before and an after: the reference server's CPU per routed message (F)
at least halved, nothing slower beyond 5% in A, C, D3 and E2, RSS per idle session at or under 4 KiB.
Two runs on different Pythons compare the same rows: the later Python within 1.15x of the earlier.
Either file may be a full bench's JSON (`--json`/`--output`) or the core bench's (`--core --json`).
"""
from __future__ import annotations

import json
import sys
from typing import Any, Dict, List, Optional, Tuple

__all__ = ["compare", "load", "main"]

#: Issue 13's limits.
F_FACTOR = 0.5
SLOWER_LIMIT = 1.05
RSS_LIMIT = 4096
PYTHON_LIMIT = 1.15
#: The figure that says "slower" in each scenario the no-regression goal names, and which way is worse.
_SPEED_FIGURES = {"A": ("cpu_us_per_rt", "up"), "C": ("cpu_us_per_rt", "up"), "E2": ("rate", "down"),
                  "D3": ("ping_round_ms", "up")}
#: Rows compared across Pythons: the GG variants' CPU per round trip, and the server's per message.
_PYTHON_ROWS = (("A", "cpu_us_per_rt"), ("B1", "cpu_us_per_rt"), ("F", "server_cpu_us_per_msg"))

Goal = Dict[str, Any]


def load(path: str) -> Dict[str, Any]:
    """A bench JSON file; ValueError naming the file when it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or ("results" not in data and data.get("kind") != "core"):
        raise ValueError(f"{path} is not the JSON of gg-workbench bench (--json or --core --json)")
    if data.get("options", {}).get("quick"):
        raise ValueError(f"{path} is a --quick run: its sizes are not the goals' sizes")
    return data


def _version(data: Dict[str, Any]) -> Tuple[int, ...]:
    return tuple(int(part) for part in str(data["python"]).split(".")[:2])


def _median(data: Dict[str, Any], variant: str, scenario: str, figure: str) -> Optional[float]:
    cell = data.get("results", {}).get(variant, {}).get(scenario)
    stats = cell["figures"].get(figure) if cell else None
    return stats["median"] if stats else None


def _gg_variants(data: Dict[str, Any]) -> List[str]:
    return [v["name"] for v in data.get("variants", []) if v["family"] == "gg" and v["available"]]


def _route_driver(data: Dict[str, Any]) -> str:
    return str(data.get("setup", {}).get("route_driver", ""))


def _goal(text: str, value: Optional[float], target: str, met: Optional[bool]) -> Goal:
    return {"goal": text, "value": value, "target": target, "met": met}


def _before_after(before: Dict[str, Any], after: Dict[str, Any]) -> List[Goal]:
    found = []
    for key in ("F", "G"):
        old = _median(before, _route_driver(before), key, "server_cpu_us_per_msg")
        new = _median(after, _route_driver(after), key, "server_cpu_us_per_msg")
        ratio = new / old if old and new is not None else None
        if key == "F":
            found.append(_goal("F: reference server CPU per routed message, after as a multiple of before",
                               ratio, f"<= {F_FACTOR:g}", None if ratio is None else ratio <= F_FACTOR))
        else:
            found.append(_goal("G: reference server CPU per queued message, after as a multiple of before",
                               ratio, f"<= {SLOWER_LIMIT:g}", None if ratio is None else ratio <= SLOWER_LIMIT))
    variants = [v for v in _gg_variants(after) if v in _gg_variants(before)]
    for key, (figure, worse) in _SPEED_FIGURES.items():
        for variant in variants:
            old, new = _median(before, variant, key, figure), _median(after, variant, key, figure)
            if not old or not new:  # missing (None) or zero: nothing to compare
                continue
            ratio = new / old if worse == "up" else old / new
            found.append(_goal(f"{key}: {variant} {figure}, {'after/before' if worse == 'up' else 'before/after'}"
                               " (above 1: slower)", ratio, f"<= {SLOWER_LIMIT:g}", ratio <= SLOWER_LIMIT))
    for variant in _gg_variants(after):
        rss = _median(after, variant, "D3", "rss_per_session_bytes")
        if rss is not None:
            found.append(_goal(f"D3: {variant} client RSS per idle session after, bytes", rss,
                               f"<= {RSS_LIMIT}", rss <= RSS_LIMIT))
    return found


def _across_pythons(early: Dict[str, Any], late: Dict[str, Any]) -> List[Goal]:
    names = f"Python {late['python']} / {early['python']}"
    found = []
    if early.get("kind") == "core" or late.get("kind") == "core":
        if early.get("kind") != late.get("kind"):
            raise ValueError("compare a core JSON with a core JSON, a full bench's with a full bench's")
        for row in ("client core", "server core", "client floor", "server floor"):
            ratio = late["medians"][row] / early["medians"][row]
            found.append(_goal(f"core: {row} us per round trip, {names}", ratio, f"<= {PYTHON_LIMIT:g}",
                               ratio <= PYTHON_LIMIT))
        return found
    for key, figure in _PYTHON_ROWS:
        variants = [_route_driver(early)] if key == "F" else [v for v in _gg_variants(late) if v in _gg_variants(early)]
        for variant in variants:
            old, new = _median(early, variant, key, figure), _median(late, variant, key, figure)
            if not old or new is None:
                continue
            label = "reference server" if key == "F" else variant
            found.append(_goal(f"{key}: {label} {figure}, {names}", new / old, f"<= {PYTHON_LIMIT:g}",
                               new / old <= PYTHON_LIMIT))
    return found


def compare(first: Dict[str, Any], second: Dict[str, Any]) -> Tuple[str, List[Goal]]:
    """(what is compared, the goals): before/after on one Python, else the later Python against the earlier."""
    if _version(first) == _version(second):
        if first.get("kind") == "core" or second.get("kind") == "core":
            raise ValueError("two runs on one Python are compared as before and after: give two full bench JSONs")
        return f"before {first['date']} -> after {second['date']}, Python {second['python']}", \
            _before_after(first, second)
    early, late = sorted((first, second), key=_version)
    return f"Python {late['python']} against Python {early['python']}", _across_pythons(early, late)


def _shown(value: Optional[float]) -> str:
    if value is None:
        return "not measured"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def main(before_path: str, after_path: str) -> int:
    try:
        title, goals = compare(load(before_path), load(after_path))
    except ValueError as exc:
        print(f"gg-workbench bench --compare: {exc}", file=sys.stderr)
        return 2
    lines = [f"Goals (issue 13) that need two runs: {title}"]
    for entry in goals:
        mark = "not measured" if entry["met"] is None else "met" if entry["met"] else "MISSED"
        lines.append(f"  [{mark}] {entry['goal']}: {_shown(entry['value'])} (goal {entry['target']})")
    missed = sum(1 for entry in goals if entry["met"] is False)
    lines.append(f"{len(goals)} goal line(s), {missed} missed")
    print("\n".join(lines))
    return 0
