"""The README's table of rules is the one rules.py renders, and every rule's `see` command exists."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.scan.rules import KINDS, RULES, parse_version, rules_table_markdown

ROOT = Path(__file__).resolve().parents[3]


def test_readme_holds_the_rendered_table():
    """Regenerate with: python3 -c 'from workbench.scan.rules import rules_table_markdown as r; print(r())'."""
    assert rules_table_markdown() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_rule_is_complete():
    for code, rule in RULES.items():
        assert rule.code == code and rule.kind in KINDS and rule.title
        assert rule.deprecated_source and rule.breaks_source and rule.way_out
        if rule.deprecated and rule.breaks:
            assert parse_version(rule.deprecated) < parse_version(rule.breaks)


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_rules_diff_command_runs(code, capsys):
    """`see` is a working `gg-workbench diff` command: it prints a diff of the named example."""
    argv = shlex.split(RULES[code].see)
    assert argv[:2] == ["gg-workbench", "diff"]
    assert main([*argv[1:], "--color", "never"]) == 0
    assert "@@" in capsys.readouterr().out
