"""`gg-workbench migrate`: reads the files, runs the token pass and the libcst pass, then prints a
unified diff (or, with --write, rewrites the files) and a report of every change and everything left.
"""
from __future__ import annotations

import argparse
import difflib
import io
import re
import shutil
import sys
import tokenize
from pathlib import Path
from typing import Iterable, List, Sequence, TextIO

from workbench.migrate.records import Change, FileResult

__all__ = ["DEPENDENCIES", "add_parser", "migrate_files", "report", "run", "vendor_compat"]

#: What migrated code needs in its own dependencies, by what it uses. Markers keep 3.8-3.11 on the stdlib.
DEPENDENCIES = {
    "asyncore": 'pyasyncore>=1.0.5; python_version >= "3.12"',
    "asynchat": 'pyasynchat>=1.0.5; python_version >= "3.12"',
}
#: A file without any of these words holds nothing to migrate and defines no coroutine function.
_TRIGGERS = re.compile(r"asyncore|asynchat|smtpd|asyncio|coroutine|\basync\b")
_SKIP_DIRS = {".git", ".hg", ".tox", ".venv", "venv", "__pycache__", "build", "dist", "node_modules"}


def _python_files(paths: Iterable[str]) -> List[Path]:
    found: List[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.py"))
                         if not _SKIP_DIRS.intersection(p.relative_to(path).parts[:-1]))
        else:
            found.append(path)
    return found


def _read(path: Path) -> str:
    # tokenize.open honours a PEP 263 coding line; newline="" keeps the file's own line endings.
    with open(path, "rb") as raw:
        encoding, _ = tokenize.detect_encoding(raw.readline)
    with open(path, encoding=encoding, newline="") as handle:
        return handle.read()


def migrate_files(paths: Sequence[Path], steps: Sequence[str]) -> List[FileResult]:
    """Migrate the files together (a coroutine defined in one is known in all); nothing is written."""
    import libcst as cst

    from workbench.migrate.awaitables import KnownCoroutines
    from workbench.migrate.fixers import migrate_tree
    from workbench.migrate.tokens import fix_asyncio_async

    results: List[FileResult] = []
    trees = {}
    known = KnownCoroutines()
    for path in paths:
        try:
            original = _read(path)
        except (OSError, UnicodeDecodeError, SyntaxError) as exc:
            results.append(FileResult(str(path), "", "", error=f"cannot read: {exc}"))
            continue
        result = FileResult(str(path), original, original)
        text = original
        if "coroutines" in steps:
            text, edits = fix_asyncio_async(original)
            result.changes.extend(Change(e.line, "GW202", "asyncio.async -> asyncio.ensure_future") for e in edits)
        if not _TRIGGERS.search(text):
            results.append(result)  # nothing any step rewrites: libcst is slow, spare it the file
            continue
        try:
            tree = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            result.error = f"cannot parse: {str(exc).splitlines()[0]} (line {exc.raw_line})"
            results.append(result)
            continue
        known.add_module(tree)
        trees[id(result)] = tree
        results.append(result)
    for result in results:
        tree = trees.get(id(result))
        if tree is None:
            continue
        token_changes = list(result.changes)
        result.changes.clear()
        result.migrated = migrate_tree(tree, steps, known, result).code
        result.changes = sorted([*token_changes, *result.changes], key=lambda c: (c.line, c.code))
    return results


def report(results: Sequence[FileResult], out: TextIO) -> None:
    """Every change with its rule code, everything left with the reason, the counts, the dependencies."""
    needs = set()
    converted = fallback = 0
    for result in results:
        if result.error:
            out.write(f"{result.path}: not migrated: {result.error}\n")
            continue
        for change in result.changes:
            out.write(f"{result.path}:{change.line}: {change.code} changed: {change.text}\n")
        for left in result.left:
            out.write(f"{result.path}:{left.line}: {left.code} left: {left.reason}\n")
        needs |= result.needs
        converted += len(result.converted)
        fallback += len(result.fallback)
    changed = sum(1 for r in results if r.changed)
    changes = sum(len(r.changes) for r in results)
    left = sum(len(r.left) for r in results)
    failed = sum(1 for r in results if r.error)
    out.write(f"migrate: {len(results)} files, {changed} changed, {failed} not migrated; {changes} changes, "
              f"{left} left; coroutine functions: {converted} converted to async def, "
              f"{fallback} kept as generators under @compat.coroutine\n")
    lines = [DEPENDENCIES[name] for name in ("asyncore", "asynchat") if name in needs]
    if lines:
        out.write("migrate: add to your dependencies (3.12 removed these modules; 3.8-3.11 keep the stdlib's):\n")
        out.writelines(f"    {line}\n" for line in lines)
    if "compat" in needs:
        out.write("migrate: the migrated code imports `compat` (its asyncore/asynchat, compat.coroutine, "
                  "compat.bridge): copy it into your project with `gg-workbench migrate --vendor-compat DIR` "
                  "(standard library only), or depend on gadu-workbench\n")


def vendor_compat(target: Path) -> Path:
    """Copy the compat package (standard library only) into `target`/compat."""
    import compat

    source = Path(compat.__file__).parent
    destination = target / "compat"
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    dirs_exist_ok=True)
    return destination


def _write(path: Path, text: str) -> None:
    with open(path, "rb") as raw:
        encoding, _ = tokenize.detect_encoding(raw.readline)
    with open(path, "w", encoding=encoding, newline="") as handle:
        handle.write(text)


def run(args: argparse.Namespace) -> int:
    try:
        import libcst  # noqa: F401
    except ImportError:
        print("gg-workbench migrate needs libcst: pip install 'gadu-workbench[migrate]'", file=sys.stderr)
        return 2
    steps = ("imports", "coroutines", "bridge") if args.step == "all" else (args.step,)
    files = _python_files(args.paths)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        print(f"gg-workbench migrate: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    results = migrate_files(files, steps)
    for result in results:
        if not result.changed:
            continue
        if args.write:
            _write(Path(result.path), result.migrated)
        else:
            sys.stdout.writelines(difflib.unified_diff(
                result.original.splitlines(keepends=True), result.migrated.splitlines(keepends=True),
                fromfile=f"a/{result.path.lstrip('/')}", tofile=f"b/{result.path.lstrip('/')}"))
    buffer = io.StringIO()
    report(results, buffer)
    if args.vendor_compat:
        # After the migration, so that the copy is never migrated or counted with the user's files.
        buffer.write(f"migrate: compat copied to {vendor_compat(Path(args.vendor_compat))}\n")
    (sys.stdout if args.write else sys.stderr).write(buffer.getvalue())
    return 1 if any(r.error for r in results) else 0


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "migrate", help="rewrite asyncore- and Tulip-era code for Python 3.8-3.13 (a diff; --write to apply)",
        description="Without --write: a unified diff on stdout and the report on stderr, nothing changed. "
        "With --write: the files rewritten in place and the report on stdout. Exit 1 if a file could not "
        "be read or parsed.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories (*.py below them)")
    parser.add_argument("--step", choices=["imports", "coroutines", "bridge", "all"], default="all")
    parser.add_argument("--write", action="store_true", help="rewrite the files in place")
    parser.add_argument("--target", default="3.13", help="the Python to migrate for (3.8-3.13 all get the "
                        "same result: every rewrite runs on all of them)")
    parser.add_argument("--vendor-compat", metavar="DIR", help="also copy the compat package into DIR")
    parser.set_defaults(handler=run)
