"""`gg-workbench migrate`: the mechanical part of the way out, applied to the user's own code.

A token pass (`asyncio.async` -> `asyncio.ensure_future`, which no parser reads) and a libcst pass
(the imports, coroutines and bridge steps); see command.py for the command and fixers.py for the rules.
"""
from __future__ import annotations

from workbench.migrate.command import add_parser, migrate_files, report, run

__all__ = ["add_parser", "migrate_files", "report", "run"]
