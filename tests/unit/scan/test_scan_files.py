"""Which files a scan reads: .gitignore-style excludes, and the folders skipped by default."""
from __future__ import annotations

import pytest

from workbench.scan.files import DEFAULT_EXCLUDES, Excludes, python_files


@pytest.mark.parametrize("pattern, path, is_folder, excluded", [
    ("build", "build", True, True),  # a bare name matches at any depth, files and folders
    ("build", "src/build", True, True),
    ("build", "src/builder", True, False),
    ("build/", "build", False, False),  # a trailing slash: folders only
    ("*_pb2.py", "api/user_pb2.py", False, True),
    ("*_pb2.py", "api/user_pb3.py", False, False),
    ("tests/**/data", "tests/data", True, True),  # ** spans zero or more folders
    ("tests/**/data", "tests/unit/scan/data", True, True),
    ("tests/**/data", "src/tests/data", True, False),  # a slash anchors it at the scanned folder
    ("/top.py", "top.py", False, True),
    ("/top.py", "pkg/top.py", False, False),
    ("legacy/*.py", "legacy/a.py", False, True),
    ("legacy/*.py", "legacy/sub/a.py", False, False),  # one * stays inside one folder
])
def test_gitignore_style_patterns(pattern, path, is_folder, excluded):
    assert Excludes([pattern]).excluded(path, is_folder) is excluded


def test_hidden_folders_and_pycache_are_skipped_unless_named(tmp_path):
    for folder in (".venv", "__pycache__", "pkg", "pkg/.git"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "data.txt").write_text("")
    found = [p.replace(str(tmp_path), "").replace("\\", "/") for p in
             python_files([str(tmp_path), str(tmp_path / ".venv" / "m.py")], Excludes(DEFAULT_EXCLUDES))]
    assert found == ["/pkg/m.py", "/.venv/m.py"]


def test_a_file_reached_twice_is_scanned_once(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("x = 1\n")
    paths = [str(tmp_path), str(tmp_path / "pkg"), str(tmp_path / "pkg" / "m.py")]
    assert len(list(python_files(paths, Excludes(DEFAULT_EXCLUDES)))) == 1
