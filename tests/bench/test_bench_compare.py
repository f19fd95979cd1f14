"""`gg-workbench bench --compare`: the goals that need two runs, judged on two JSON files.

The files are written here with chosen medians, so each goal is seen both met and missed; nothing is timed.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import pytest

from workbench.bench.compare import compare, load

ROOT = Path(__file__).resolve().parents[2]
GG = ("aio", "callbacks")


def bench_json(python: str, cpu: float, f_cpu: float, rss: float = 3500.0, e2_rate: float = 7000.0,
               quick: bool = False) -> Dict[str, Any]:
    """A full bench's JSON with the figures the goals read: every GG row alike, F and G driven by aio."""
    def cell(**figures: float) -> Dict[str, Any]:
        return {"figures": {k: {"median": v, "min": v, "max": v} for k, v in figures.items()}}

    results: Dict[str, Any] = {v: {"A": cell(cpu_us_per_rt=cpu), "B1": cell(cpu_us_per_rt=cpu),
                                   "C": cell(cpu_us_per_rt=cpu), "E2": cell(rate=e2_rate),
                                   "D3": cell(rss_per_session_bytes=rss, ping_round_ms=50.0)} for v in GG}
    results["aio"].update({"F": cell(server_cpu_us_per_msg=f_cpu), "G": cell(server_cpu_us_per_msg=100.0)})
    return {"python": python, "date": f"run on {python}", "options": {"quick": quick, "runs": 3},
            "setup": {"route_driver": "aio"}, "results": results,
            "variants": [{"name": v, "family": "gg", "available": True} for v in GG]
            + [{"name": "raw-uvloop", "family": "raw", "available": True}]}


def core_json(python: str, client: float) -> Dict[str, Any]:
    return {"kind": "core", "python": python, "date": "now", "options": {"quick": False},
            "medians": {"client core": client, "server core": 5.0, "client floor": 8.0, "server floor": 1.0}}


def marks(goals: Any, text: str) -> Dict[str, Optional[bool]]:
    return {g["goal"]: g["met"] for g in goals if text in g["goal"]}


def test_f_halved_and_nothing_slower_are_met_by_a_faster_after() -> None:
    title, goals = compare(bench_json("3.11.7", 20.0, 40.0), bench_json("3.11.9", 19.5, 19.0))
    assert title.startswith("before")
    assert marks(goals, "F:") == {"F: reference server CPU per routed message, after as a multiple of before": True}
    assert all(g["met"] for g in goals), [g for g in goals if not g["met"]]
    assert len(marks(goals, "A: ")) == len(GG) and len(marks(goals, "D3: ")) == 2 * len(GG)


def test_f_not_halved_a_slower_row_and_a_large_session_are_missed() -> None:
    _, goals = compare(bench_json("3.11.7", 20.0, 40.0), bench_json("3.11.7", 21.5, 21.0, rss=4200, e2_rate=6000))
    assert list(marks(goals, "F:").values()) == [False]  # 21 / 40 > 0.5
    assert set(marks(goals, "A: ").values()) == {False}  # 21.5 / 20 > 1.05
    assert set(marks(goals, "E2: ").values()) == {False}  # a rate down by 14%
    assert set(marks(goals, "RSS").values()) == {False}


def test_two_pythons_compare_the_same_rows_whichever_file_comes_first() -> None:
    for pair in ((bench_json("3.11.7", 20.0, 40.0), bench_json("3.13.0", 23.5, 44.0)),
                 (bench_json("3.13.0", 23.5, 44.0), bench_json("3.11.7", 20.0, 40.0))):
        title, goals = compare(*pair)
        assert title == "Python 3.13.0 against Python 3.11.7"
        assert set(marks(goals, "B1: ").values()) == {False}  # 23.5 / 20 = 1.175 > 1.15
        assert list(marks(goals, "F: ").values()) == [True]  # 44 / 40 = 1.1


def test_core_runs_compare_across_pythons() -> None:
    _, goals = compare(core_json("3.11.7", 10.0), core_json("3.13.0", 12.0))
    assert marks(goals, "client core") == {"core: client core us per round trip, Python 3.13.0 / 3.11.7": False}
    assert marks(goals, "server core") == {"core: server core us per round trip, Python 3.13.0 / 3.11.7": True}
    with pytest.raises(ValueError, match="core JSON with a core JSON"):
        compare(core_json("3.11.7", 10.0), bench_json("3.13.0", 1.0, 1.0))


def test_the_command_names_what_is_wrong_with_a_file(tmp_path: Path) -> None:
    good, quick, other = tmp_path / "good.json", tmp_path / "quick.json", tmp_path / "other.json"
    good.write_text(json.dumps(bench_json("3.11.7", 20.0, 40.0)))
    quick.write_text(json.dumps(bench_json("3.11.7", 20.0, 40.0, quick=True)))
    other.write_text(json.dumps({"hello": 1}))
    for path, error in ((quick, "--quick run"), (other, "not the JSON of gg-workbench bench"),
                        (tmp_path / "absent.json", "cannot read")):
        with pytest.raises(ValueError, match=error):
            load(str(path))
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "bench", "--compare", str(good), str(other)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "not the JSON of gg-workbench bench" in done.stderr
    after = tmp_path / "after.json"
    after.write_text(json.dumps(bench_json("3.11.7", 20.0, 10.0)))
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "bench", "--compare", str(good), str(after)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "[met] F: reference server CPU per routed message, after as a multiple of before: 0.25" in done.stdout
