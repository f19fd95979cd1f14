"""`gg-workbench scan`: what in a user's asyncore/asynchat and Tulip-era asyncio code breaks on which Python.

rules.py is the one table of rules; binding.py and detect.py find them in the syntax tree (tokens.py
where the tree cannot be built); scanner.py does one file, files.py walks trees; formats.py writes text,
JSON and SARIF; command.py is the subcommand.
"""
from __future__ import annotations

from .command import add_parser

__all__ = ["add_parser"]
