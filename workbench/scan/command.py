"""The `scan` subcommand: arguments, the walk over the files, the exit status.

Exit status: 1 when a finding breaks on the target Python, 0 otherwise, 2 on a usage error (unknown
code, bad version, a path that does not exist). A file that cannot be read, decoded or parsed is
reported in the summary and the scan goes on. Scanned code is read, never imported or run.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import List, Optional, Sequence, TextIO, Tuple

from .files import DEFAULT_EXCLUDES, Excludes, python_files
from .formats import Finding, Report, to_json, to_sarif, to_text
from .rules import INFORMATIONAL, RULES, breaks_on, parse_version
from .scanner import scan_bytes

__all__ = ["add_parser", "run_scan", "scan_paths"]

#: A tree at least this large gets a progress bar (on a terminal only).
PROGRESS_FROM_FILES = 200


class UsageError(ValueError):
    """Arguments that name no rule, no version or no file."""


def _codes(text: Optional[str]) -> List[str]:
    if not text:
        return []
    wanted = [item.strip().upper() for item in text.split(",") if item.strip()]
    for item in wanted:
        if not any(code.startswith(item) for code in RULES):
            raise UsageError(f"no rule matches {item!r}; rules: {', '.join(RULES)}")
    return wanted


def _chosen(code: str, select: List[str], ignore: List[str]) -> bool:
    if select and not any(code.startswith(item) for item in select):
        return False
    return not any(code.startswith(item) for item in ignore)


def _progress(done: int, total: int, stream: TextIO) -> None:
    width = 30
    filled = width * done // total
    stream.write(f"\rscanning [{'#' * filled}{' ' * (width - filled)}] {done}/{total} files")
    if done == total:
        stream.write("\n")
    stream.flush()


def scan_paths(paths: Sequence[str], target: Tuple[int, ...], select: Sequence[str] = (),
               ignore: Sequence[str] = (), excludes: Sequence[str] = (),
               progress: Optional[TextIO] = None) -> Report:
    """Scan files and folders; the Report holds every finding chosen by select/ignore."""
    started, started_cpu = time.perf_counter(), time.process_time()
    files = list(python_files(paths, Excludes([*DEFAULT_EXCLUDES, *excludes])))
    show_progress = progress is not None and len(files) >= PROGRESS_FROM_FILES
    findings: List[Finding] = []
    unparsed: List[Tuple[str, str]] = []
    parsed = lines = 0
    for index, path in enumerate(files, 1):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            unparsed.append((path, f"cannot read: {error.strerror or error}"))
            continue
        result = scan_bytes(data)
        if result.parsed:
            parsed += 1
            lines += result.lines
        if result.error:
            unparsed.append((path, result.error))
        for hit in result.hits:
            if not _chosen(hit.code, list(select), list(ignore)):
                continue
            rule = RULES[hit.code]
            informational = hit.via_compat
            findings.append(Finding(
                path=path, line=hit.line, col=hit.col + 1, code=hit.code, message=hit.message,
                kind=INFORMATIONAL if informational else rule.kind, deprecated=rule.deprecated,
                breaks=None if informational else rule.breaks,
                breaks_on_target=not informational and breaks_on(rule, target), see=rule.see))
        if show_progress and progress is not None and (index % 50 == 0 or index == len(files)):
            _progress(index, len(files), progress)
    return Report(findings, len(files), parsed, unparsed, lines, time.perf_counter() - started,
                  ".".join(str(part) for part in target[:2]), time.process_time() - started_cpu)


def run_scan(args: argparse.Namespace, out: Optional[TextIO] = None, err: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        target = parse_version(args.target) if args.target else sys.version_info[:2]
        select, ignore = _codes(args.select), _codes(args.ignore)
        missing = [path for path in args.paths if not os.path.exists(path)]
        if missing:
            raise UsageError(f"no such file or folder: {', '.join(missing)}")
    except (UsageError, ValueError) as error:
        err.write(f"gg-workbench scan: error: {error}\n")
        return 2
    report = scan_paths(args.paths, tuple(target), select, ignore, args.exclude,
                        progress=err if err.isatty() else None)
    if args.format == "json":
        out.write(to_json(report))
    elif args.format == "sarif":
        from workbench.cli import package_version
        out.write(to_sarif(report, package_version()))
    else:
        out.write(to_text(report))
    return 1 if report.breaking() else 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan", help="find what in your code breaks on which Python (asyncore, asynchat, Tulip-era asyncio)",
        description="Find asyncore/asynchat and Tulip-era asyncio constructs in Python files, with the Python "
        "that deprecated each and the one where it breaks, and the `gg-workbench diff` that shows the way "
        "out. Reads the files; never imports or runs them.",
        epilog="Exit status: 1 when something breaks on the target Python, 0 otherwise, 2 on a usage error. "
        "Folders are walked for *.py; names starting with a dot and __pycache__ are skipped. "
        "Rules: " + ", ".join(f"{code} {rule.title}" for code, rule in RULES.items()))
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files and folders to scan")
    parser.add_argument("--target", metavar="VERSION",
                        help="the Python to judge against (default: the running one, "
                        f"{sys.version_info[0]}.{sys.version_info[1]})")
    parser.add_argument("--format", choices=("text", "json", "sarif"), default="text", help="output (default text)")
    parser.add_argument("--select", metavar="CODES", help="only these rules, comma-separated (prefixes allowed: GW2)")
    parser.add_argument("--ignore", metavar="CODES", help="not these rules, comma-separated (prefixes allowed)")
    parser.add_argument("--exclude", metavar="PATTERN", nargs="+", default=[], action="extend",
                        help=".gitignore-style patterns of files and folders to skip (build, tests/**/data, *_pb2.py); "
                        "put the PATHs first, or write --exclude=PATTERN")
    parser.set_defaults(handler=run_scan)
