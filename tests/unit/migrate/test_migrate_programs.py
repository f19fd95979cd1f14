"""The corpus's network programs (echo over 127.0.0.1 in each era's style) print the same before
migration (on 3.8, where asyncore and @asyncio.coroutine still run) and after it (on every Python).
`tulip_tasks.py` says `asyncio.async(`, which last ran on 3.6: it is checked after migration only.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.migrate import migrate_files
from workbench.migrate.command import vendor_compat

HERE = Path(__file__).parent
BEFORE_RUNS = sys.version_info < (3, 9)


def run_program(path: Path) -> str:
    # The program's own folder first, as `python path` would; bounded by its own loops and this timeout.
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, path.name], cwd=path.parent, capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


def expected(name: str) -> str:
    return (HERE / "golden" / f"{name}.out").read_text()


def migrated_copy(tmp_path: Path, name: str, steps) -> Path:
    results = migrate_files([HERE / "corpus" / f"{name}.py"], steps)
    target = tmp_path / f"{name}.py"
    target.write_text(results[0].migrated)
    vendor_compat(tmp_path)  # beside the program, as a user without the workbench would have it
    return target


def test_tulip_echo_same_output_before_and_after():
    if BEFORE_RUNS:
        assert run_program(HERE / "corpus" / "tulip_echo.py") == expected("tulip_echo")
    assert run_program(HERE / "golden" / "tulip_echo.py") == expected("tulip_echo")


def test_tulip_tasks_after_migration():
    assert run_program(HERE / "golden" / "tulip_tasks.py") == expected("tulip_tasks")


def test_asyncore_echo_same_output_before_and_after_the_imports_and_coroutines_steps(tmp_path):
    if BEFORE_RUNS:
        assert run_program(HERE / "corpus" / "asyncore_echo.py") == expected("asyncore_echo")
    program = migrated_copy(tmp_path, "asyncore_echo", ("imports", "coroutines"))
    assert "from compat import asyncore as core" in program.read_text()
    assert "core.loop(timeout=0.05, count=400)" in program.read_text()
    assert run_program(program) == expected("asyncore_echo")


def test_asyncore_echo_after_the_bridge_step_runs_on_asyncio(tmp_path):
    program = tmp_path / "asyncore_echo.py"
    shutil.copy(HERE / "golden" / "asyncore_echo.py", program)
    vendor_compat(tmp_path)
    assert run_program(program) == expected("asyncore_echo")


@pytest.mark.parametrize("name", ["tulip_echo", "tulip_tasks"])
def test_migrated_programs_keep_nothing_tulip_era(name):
    tree = ast.parse((HERE / "golden" / f"{name}.py").read_text())
    nodes = list(ast.walk(tree))
    assert not [n for n in nodes if isinstance(n, (ast.YieldFrom, ast.Yield))]
    assert not [n for n in nodes if isinstance(n, ast.keyword) and n.arg == "loop"]
    assert not [n for n in nodes if isinstance(n, ast.FunctionDef) and n.decorator_list]
