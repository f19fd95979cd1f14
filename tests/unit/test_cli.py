"""gg-workbench: the installed console script answers --version and --help."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from workbench import cli


def test_version_names_the_package(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert out.startswith("gg-workbench ")
    assert "unknown" not in out, "the package is not installed: tests must run against the install"


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "usage: gg-workbench" in capsys.readouterr().out


def test_console_script_is_installed():
    script = shutil.which("gg-workbench", path=str(Path(sys.executable).parent))
    assert script, "the gg-workbench console script is not installed beside this interpreter"
    out = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "usage: gg-workbench" in out.stdout


def test_unknown_command_is_a_clear_error():
    out = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "frobnicate"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "invalid choice" in out.stderr or "unrecognized" in out.stderr
