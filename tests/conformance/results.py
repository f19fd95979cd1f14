"""A pytest plugin that writes this env's conformance verdicts to `conformance-<env>.json`.

Every conformance test carries `@case(number, title, statement)` and runs once per variant; the
plugin records (case, variant, Python, verdict, duration, reason) for `gg-workbench report`.
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

__all__ = ["CaseInfo", "ConformanceResults", "case"]

CASES: Dict[str, CaseInfo] = {}


class CaseInfo:
    __slots__ = ("number", "statement", "title")

    def __init__(self, number: str, title: str, statement: str) -> None:
        self.number, self.title, self.statement = number, title, statement


def case(number: str, title: str, statement: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a test as conformance case `number`: what it requires, and why (spec section or libgadu)."""
    if number in CASES:
        raise ValueError(f"conformance case {number} is defined twice")
    info = CaseInfo(number, title, statement)
    CASES[number] = info

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        func.conformance_case = info  # type: ignore[attr-defined]
        return pytest.mark.conformance(func)

    return mark


class ConformanceResults:
    """Collects one row per (case, variant) and writes them when the session ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: List[Dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        info, variant = getattr(report, "conformance", (None, None))
        if info is None:
            return
        if report.when == "call" or (report.when == "setup" and (report.failed or report.skipped)):
            verdict, reason = _verdict(report)
            self.rows.append({
                "case": info.number,
                "title": info.title,
                "statement": info.statement,
                "variant": variant,
                "verdict": verdict,
                "duration": round(report.duration, 4),
                "reason": reason,
            })
        elif report.when == "teardown" and report.failed and self.rows:
            # A leak found while tearing down fails the case that leaked.
            last = self.rows[-1]
            if last["case"] == info.number and last["variant"] == variant:
                last["verdict"] = "failed"
                last["reason"] = _first_line(report.longreprtext)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        info = getattr(getattr(item, "function", None), "conformance_case", None)
        if info is not None:
            callspec = getattr(item, "callspec", None)
            variant = callspec.params.get("variant") if callspec else None
            outcome.get_result().conformance = (info, getattr(variant, "name", variant))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.rows:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "python": platform.python_version(),
            "implementation": sys.implementation.name,
            "env": os.environ.get("GG_TOX_ENV", ""),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "results": self.rows,
        }
        self.path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("E "):
            return line[2:].strip()[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else ""


def _verdict(report: pytest.TestReport):
    if hasattr(report, "wasxfail"):
        if report.skipped:
            return "xfailed", str(report.wasxfail)
        return "xpassed", str(report.wasxfail)
    if report.passed:
        return "passed", ""
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason
    return "failed", _first_line(report.longreprtext)
