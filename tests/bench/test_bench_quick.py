"""`gg-workbench bench --quick`: every row in the table, every figure in the JSON, a chart; nothing about speed.

It starts the bench's own server and client processes (about half a minute), so tox runs this folder
in the py311 env only.
"""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from workbench.bench.scenarios import FIGURES, ROUTE, scenarios
from workbench.bench.worker import ROUTE_DRIVER, VARIANTS

ROOT = Path(__file__).resolve().parents[2]


def _block(table: str, title: str) -> str:
    """The lines of the table under one scenario's title, up to the next blank line."""
    start = table.index(title + "\n")
    end = table.find("\n\n", start)
    return table[start:end if end >= 0 else None]


def test_quick_bench_has_every_row_and_every_figure(tmp_path: Path) -> None:
    """The table has a line for every variant under every scenario; the JSON has every figure of every
    cell (or says why a cell cannot exist: select()'s limit, a missing uvloop), the machine and the date."""
    json_path, svg_path = tmp_path / "bench.json", tmp_path / "bench.svg"
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "bench", "--quick", "--json", str(json_path), "--svg", str(svg_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    table = done.stdout
    data = json.loads(json_path.read_text(encoding="utf-8"))

    assert data["machine"]["cpu_model"] and data["machine"]["cores"] >= 1
    assert data["python"] == sys.version.split()[0]
    assert datetime.datetime.fromisoformat(data["date"]).tzinfo is not None
    assert [v["name"] for v in data["variants"]] == list(VARIANTS)
    assert "bench [" in done.stderr, "no progress bar on stderr"

    for scenario in scenarios(quick=True):
        block = _block(table, scenario.title)
        if scenario.kind == ROUTE:
            assert f"reference server, driven by {ROUTE_DRIVER}" in block
            figures = data["results"][ROUTE_DRIVER][scenario.key]["figures"]
            assert set(figures) == set(FIGURES[ROUTE]), scenario.key
            continue
        for name, cls in VARIANTS.items():
            row = [line for line in block.splitlines() if line.startswith(f"  {name} ")]
            assert len(row) == 1, f"{scenario.key}: no single row for {name}"
            cell = data["results"][name][scenario.key]
            if cls.available() is not None:
                assert "not installed" in row[0] and "not installed" in cell["note"]
            elif name == "dispatcher-select" and scenario.sessions > 1024:
                assert cell["not_possible"] and "select() limit" in cell["note"] and "select() limit" in row[0]
            else:
                assert cell["note"] is None, f"{name} {scenario.key}: {cell['note']}"
                assert set(cell["figures"]) == set(FIGURES[scenario.kind]), f"{name} {scenario.key}"
                for stats in cell["figures"].values():
                    assert stats["min"] <= stats["median"] <= stats["max"]

    assert {entry["goal"] for entry in data["goals"]} and all("met" in entry for entry in data["goals"])
    chart = ET.parse(svg_path).getroot()
    assert chart.tag.endswith("svg")
    labels = {element.text for element in chart.iter() if element.tag.endswith("text")}
    assert set(VARIANTS) <= labels
