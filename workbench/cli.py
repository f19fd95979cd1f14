"""The `gg-workbench` command: parses arguments and hands each command to its module."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

#: Modules under workbench/ that each add one subcommand through `add_parser(subparsers)`.
COMMAND_MODULES: List[str] = ["report", "serve", "diff", "bench", "run", "trace", "demo"]
COMMAND_MODULES.append("scan")  # workbench/scan/ (a package; its __init__ exports add_parser)
COMMAND_MODULES.append("migrate")  # workbench/migrate/ (issue 10)


def package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - 3.8+ always has it
        return "unknown"
    try:
        return version("gadu-workbench")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gg-workbench",
        description="Show, run and prove the way out of asyncore/asynchat: "
        "one Gadu-Gadu client written four ways.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"workbench.{name}").add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    handler = getattr(args, "handler", None)
    if handler is None:  # pragma: no cover - every subparser sets one
        parser.error(f"no handler for {args.command}")
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
