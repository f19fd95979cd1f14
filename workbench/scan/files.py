"""Which files a scan reads: the paths given, with folders walked for `*.py` and `.gitignore`-style excludes.

A pattern without a slash matches a file or folder name at any depth (`build`, `*_pb2.py`); one with a
slash matches the path from the folder given on the command line (`legacy/dispatcher`, `tests/**/data`);
a trailing slash matches folders only; `**` spans folders. Folders whose names start with a dot and
`__pycache__` are skipped unless given by name. A file named on the command line is always read.
"""
from __future__ import annotations

import fnmatch
import os
import re
from typing import Iterator, List, Pattern, Sequence, Set, Tuple

__all__ = ["DEFAULT_EXCLUDES", "Excludes", "python_files"]

DEFAULT_EXCLUDES: Tuple[str, ...] = (".*/", "__pycache__/")


def _translate(pattern: str) -> Pattern[str]:
    parts = []
    for piece in re.split(r"(\*\*/?)", pattern):
        if piece in ("**", "**/"):
            parts.append("(?:.*/)?" if piece == "**/" else ".*")
        elif piece:
            # fnmatch's `*` would cross a slash; inside one path component it must not.
            parts.append(fnmatch.translate(piece).replace(".*", "[^/]*")[4:-3])
    return re.compile("(?s:" + "".join(parts) + r")\Z")


class Excludes:
    """A list of .gitignore-style patterns, asked one relative path at a time."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self._rules: List[Tuple[Pattern[str], bool, bool]] = []  # (regex, folders only, whole path)
        for pattern in patterns:
            folders_only = pattern.endswith("/")
            body = pattern.strip("/") if pattern.startswith("/") else pattern.rstrip("/")
            whole_path = "/" in body or pattern.startswith("/")
            self._rules.append((_translate(body), folders_only, whole_path))

    def excluded(self, relative: str, is_folder: bool) -> bool:
        name = relative.rsplit("/", 1)[-1]
        for regex, folders_only, whole_path in self._rules:
            if folders_only and not is_folder:
                continue
            if regex.match(relative if whole_path else name):
                return True
        return False


def python_files(paths: Sequence[str], excludes: Excludes) -> Iterator[str]:
    """Every file to scan once, in a stable order: the files named, and the `*.py` files under the folders."""
    seen: Set[str] = set()
    for path in _walk(paths, excludes):
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield path


def _walk(paths: Sequence[str], excludes: Excludes) -> Iterator[str]:
    for path in paths:
        if not os.path.isdir(path):
            yield path
            continue
        for folder, subfolders, files in os.walk(path):
            relative_folder = os.path.relpath(folder, path).replace(os.sep, "/")
            prefix = "" if relative_folder == "." else relative_folder + "/"
            subfolders[:] = sorted(name for name in subfolders if not excludes.excluded(prefix + name, True))
            for name in sorted(files):
                if name.endswith(".py") and not excludes.excluded(prefix + name, False):
                    yield os.path.join(folder, name)
