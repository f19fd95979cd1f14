"""gg-workbench migrate on its corpus: exact rewrites and report (golden files), idempotence, and the
migrated files compiling on this Python (tox runs this on 3.8-3.13, libcst 1.1.0 on 3.8, 1.9.0 after).

To regenerate after a deliberate change: `gg-workbench migrate --write` on a copy of corpus/, then read
the diff of golden/ before committing it.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from workbench import cli
from workbench.migrate import migrate_files, report

HERE = Path(__file__).parent
CORPUS = sorted(p.name for p in (HERE / "corpus").glob("*.py"))
ALL = ("imports", "coroutines", "bridge")


@pytest.fixture()
def corpus_results(monkeypatch):
    monkeypatch.chdir(HERE)
    return migrate_files([Path("corpus", name) for name in CORPUS], ALL)


def test_corpus_is_there():
    assert CORPUS == ["asyncore_echo.py", "constructs.py", "tulip_echo.py", "tulip_tasks.py"]


@pytest.mark.parametrize("name", CORPUS)
def test_rewrite_matches_golden(corpus_results, name):
    result = next(r for r in corpus_results if Path(r.path).name == name)
    assert result.error is None
    assert result.migrated == (HERE / "golden" / name).read_text()


def test_report_matches_golden(corpus_results):
    out = io.StringIO()
    report(corpus_results, out)
    assert out.getvalue() == (HERE / "golden" / "report.txt").read_text()


def test_every_qualifying_function_is_converted(corpus_results):
    converted = {(Path(r.path).stem, name) for r in corpus_results for name in r.converted}
    fallback = {(Path(r.path).stem, name) for r in corpus_results for name in r.fallback}
    assert converted == {
        ("tulip_echo", "handle"), ("tulip_echo", "exchange"), ("tulip_echo", "main"),
        ("tulip_tasks", "ask"), ("tulip_tasks", "main"), ("constructs", "converted"),
        ("constructs", "no_yield"), ("constructs", "waits_on_coroutines"), ("constructs", "inner"),
        ("constructs", "keyword_loops"),
    }
    # Each of these is written so that it cannot qualify: a bare yield, a returned awaitable, a
    # `yield from` of a parameter's method.
    assert fallback == {
        ("constructs", "returns_awaitable"), ("constructs", "unknown"), ("constructs", "bare_yield"),
        ("constructs", "locked_fallback"),
    }


@pytest.mark.parametrize("name", CORPUS)
def test_migrated_file_compiles(name):
    source = (HERE / "golden" / name).read_text()
    compile(source, name, "exec")


def test_migrating_the_migrated_changes_nothing(monkeypatch):
    monkeypatch.chdir(HERE)
    results = migrate_files([Path("golden", name) for name in CORPUS], ALL)
    assert [r.path for r in results if r.changed or r.changes] == []
    assert all(r.converted == [] and r.fallback == [] for r in results)


def test_the_tulip_era_original_does_not_compile_here():
    source = (HERE / "corpus" / "tulip_tasks.py").read_text()
    with pytest.raises(SyntaxError):
        compile(source, "tulip_tasks.py", "exec")


def test_without_write_prints_a_diff_and_changes_nothing(tmp_path, capsys):
    copy = tmp_path / "tulip_echo.py"
    shutil.copy(HERE / "corpus" / "tulip_echo.py", copy)
    before = copy.read_text()
    assert cli.main(["migrate", str(copy)]) == 0
    captured = capsys.readouterr()
    assert copy.read_text() == before
    assert captured.out.startswith("--- a/")
    assert "-@asyncio.coroutine\n" in captured.out and "+async def exchange(port, loop):\n" in captured.out
    assert "GW206 changed: loop= dropped from asyncio.wait_for()" in captured.err
    assert "3 converted to async def, 0 kept as generators" in captured.err


def test_write_rewrites_in_place_then_a_second_run_changes_nothing(tmp_path, capsys):
    for name in CORPUS:
        shutil.copy(HERE / "corpus" / name, tmp_path / name)
    assert cli.main(["migrate", "--write", str(tmp_path)]) == 0
    first = capsys.readouterr().out
    for name in CORPUS:
        assert (tmp_path / name).read_text() == (HERE / "golden" / name).read_text()
    assert "10 converted to async def, 4 kept as generators under @compat.coroutine" in first
    assert 'pyasyncore>=1.0.5; python_version >= "3.12"' in first
    assert cli.main(["migrate", "--write", str(tmp_path)]) == 0
    second = capsys.readouterr().out
    assert "0 changed" in second and " 0 changes," in second


@pytest.mark.parametrize("step, present, absent", [
    ("coroutines", "async def exchange", "compat.bridge.loop"),
    ("bridge", "compat.bridge.loop(timeout=0.05, count=400)", "async def"),
    ("imports", "from compat import asyncore as core", "async def"),
])
def test_one_step_at_a_time(tmp_path, capsys, step, present, absent):
    for name in ("tulip_echo.py", "asyncore_echo.py"):
        shutil.copy(HERE / "corpus" / name, tmp_path / name)
    assert cli.main(["migrate", "--write", "--step", step, str(tmp_path)]) == 0
    text = "".join((tmp_path / name).read_text() for name in ("tulip_echo.py", "asyncore_echo.py"))
    assert (present in text) and (absent not in text)


def test_a_file_that_does_not_parse_is_reported_and_the_rest_migrated(tmp_path, capsys):
    (tmp_path / "broken.py").write_text("import asyncio\ndef f(:\n    pass\n")
    shutil.copy(HERE / "corpus" / "tulip_echo.py", tmp_path / "tulip_echo.py")
    assert cli.main(["migrate", "--write", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "broken.py: not migrated: cannot parse" in out
    assert "async def exchange" in (tmp_path / "tulip_echo.py").read_text()
    assert (tmp_path / "broken.py").read_text() == "import asyncio\ndef f(:\n    pass\n"


def test_vendor_compat_copies_a_package_that_imports_only_the_standard_library(tmp_path, capsys):
    target = tmp_path / "vendor"
    target.mkdir()
    shutil.copy(HERE / "corpus" / "tulip_echo.py", tmp_path / "tulip_echo.py")
    assert cli.main(["migrate", "--vendor-compat", str(target), str(tmp_path / "tulip_echo.py")]) == 0
    assert (target / "compat" / "coroutines.py").is_file()
    assert not list((target / "compat").rglob("__pycache__"))


def test_a_file_with_nothing_to_migrate_is_left_as_it_is(tmp_path, capsys):
    # Not even parsed (it could not be): no word any step looks for is in it.
    (tmp_path / "plain.py").write_text("def f(:\n")
    assert cli.main(["migrate", "--write", str(tmp_path)]) == 0
    assert (tmp_path / "plain.py").read_text() == "def f(:\n"
    assert "1 files, 0 changed, 0 not migrated" in capsys.readouterr().out
