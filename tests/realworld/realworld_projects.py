"""Real projects from the registry's old releases: fetched at test time with `pip download` (never
committed), copied, scanned and migrated with the installed `gg-workbench`, and the migrate report read.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

REPORT_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<code>GW\d+) (?P<what>changed|left): (?P<text>.*)$")
NOT_MIGRATED = re.compile(r"^(?P<path>.+?): not migrated: (?P<reason>.*)$")
SUMMARY = re.compile(r"coroutine functions: (?P<converted>\d+) converted to async def, (?P<fallback>\d+) kept")


def gg_workbench() -> str:
    script = shutil.which("gg-workbench", path=str(Path(sys.executable).parent))
    assert script, "gg-workbench is not installed beside this interpreter"
    return script


def quiet_env(**extra: str) -> Dict[str, str]:
    # The projects' own deprecation noise is not what these tests look at.
    env = {**os.environ, "PYTHONWARNINGS": "ignore", **extra}
    env.pop("PYTHONDEVMODE", None)
    return env


def download(name: str, version: str, into: Path) -> Path:
    """The release's source distribution, unpacked; returns its top folder."""
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "-d", str(into), f"{name}=={version}"], check=True, timeout=300)
    archive = into / f"{name}-{version}.tar.gz"
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, filter="data")
        else:  # pragma: no cover - the realworld env is 3.13
            tar.extractall(into)
    return into / f"{name}-{version}"


@dataclass
class MigrateReport:
    text: str
    status: int
    changes: Counter = field(default_factory=Counter)
    left: Counter = field(default_factory=Counter)
    not_migrated: Dict[str, str] = field(default_factory=dict)
    converted: int = 0
    fallback: int = 0

    @classmethod
    def parse(cls, text: str, status: int, root: Path) -> MigrateReport:
        report = cls(text, status)
        for line in text.splitlines():
            found = REPORT_LINE.match(line)
            if found:
                (report.changes if found["what"] == "changed" else report.left)[found["code"]] += 1
                continue
            failed = NOT_MIGRATED.match(line)
            if failed:
                report.not_migrated[Path(failed["path"]).relative_to(root).as_posix()] = failed["reason"]
            summary = SUMMARY.search(line)
            if summary:
                report.converted, report.fallback = int(summary["converted"]), int(summary["fallback"])
        return report


@dataclass
class Project:
    name: str
    version: str
    original: Path
    migrated: Path
    report: MigrateReport

    def python_lines(self) -> int:
        return sum(len(p.read_text(encoding="utf-8", errors="replace").splitlines())
                   for p in self.original.rglob("*.py"))


def prepare(name: str, version: str, base: Path) -> Project:
    """Download, copy, and `gg-workbench migrate --write` the copy with compat vendored into it."""
    original = download(name, version, base / "download")
    migrated = base / "migrated"
    shutil.copytree(original, migrated)
    done = subprocess.run([gg_workbench(), "migrate", "--write", "--step", "all", "--vendor-compat", str(migrated),
                           str(migrated)], capture_output=True, text=True, timeout=300)
    # migrate copies compat in after migrating, so the report covers the project's own files only.
    report = MigrateReport.parse(done.stdout, done.returncode, migrated)
    return Project(name, version, original, migrated, report)


def scan(path: Path) -> dict:
    """`gg-workbench scan PATH --format json` (exit 0 or 1 by the contract), read back."""
    done = subprocess.run([gg_workbench(), "scan", str(path), "--format", "json"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def save_counts(project: Project, before: Optional[dict] = None, after: Optional[dict] = None) -> None:
    """The numbers the README quotes, into the results folder (GG_RESULTS_DIR) when there is one."""
    folder = os.environ.get("GG_RESULTS_DIR")
    if not folder:
        return
    path = Path(folder) / f"realworld-{project.name}.json"
    data = json.loads(path.read_text()) if path.is_file() else {}
    data.update({"project": f"{project.name}=={project.version}", "python_lines": project.python_lines(),
                 "migrate_changed": dict(project.report.changes), "migrate_left": dict(project.report.left),
                 "converted": project.report.converted, "fallback": project.report.fallback,
                 "not_migrated": project.report.not_migrated})
    if before is not None:
        data["scan_before"] = before["summary"]["by_code"]
    if after is not None:
        data["scan_after"] = after["summary"]["by_code"]
    Path(folder).mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def compile_all(root: Path, skip: List[str]) -> List[str]:
    """Files under root that do not compile on this Python (those named in skip are not tried)."""
    failed = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative in skip or relative.startswith("compat/"):
            continue
        try:
            compile(path.read_bytes(), str(path), "exec")
        except SyntaxError as exc:
            failed.append(f"{relative}: {exc}")
    return failed
