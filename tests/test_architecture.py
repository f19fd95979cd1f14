"""The walls between rooms (docs/architecture.md#walls), read from the code's own imports with `ast`.

Each rule applies to the rooms that exist, so the test grows with the project.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]

IO_MODULES = {"socket", "selectors", "select", "asyncio", "asyncore", "asynchat", "threading", "ssl",
              "subprocess", "sqlite3"}
PROJECT_PACKAGES = {"gadu", "legacy", "modern", "compat", "workbench"}
#: The four client rooms: each is an I/O style wrapped around gadu, with no codec of its own.
CLIENT_ROOMS = ["legacy/dispatcher", "legacy/callbacks", "modern/yieldfrom", "modern/aio"]

#: (room, forbidden top-level imports, why); gadu's server is checked separately, it is asyncio.
WALLS: List[Tuple[str, Set[str], str]] = [
    ("gadu", IO_MODULES | {"legacy", "modern", "compat", "workbench"}, "gadu is bytes in, events out"),
    ("modern/loop", {"asyncio", "gadu", "legacy", "compat", "workbench"}, "the loop is from scratch"),
    ("compat", {"gadu", "legacy", "modern", "workbench"}, "users copy compat into legacy code"),
    ("legacy", {"modern", "workbench"}, "legacy code predates the modern rooms"),
    ("modern", {"workbench"}, "nothing imports the command line"),
]
#: The one subpackage of gadu that may do I/O: the reference server, its config and its store
#: (as aioquic keeps its asyncio layer in aioquic/asyncio/). Everything else in gadu is the core.
GADU_IO_PACKAGE = "server"


def in_gadu_io_package(relative: Path) -> bool:
    """gadu/server/<anything>: a file inside the subpackage, not a core module named server*."""
    return relative.parts[:2] == ("gadu", GADU_IO_PACKAGE) and len(relative.parts) > 2


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Tuple[str, int]]:
    """Absolute module names imported by one file, with line numbers (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def room_files(room: str, root: Path = ROOT) -> List[Path]:
    folder = root / room
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts) if folder.is_dir() else []


def wall_violations(room: str, forbidden: Set[str], root: Path = ROOT) -> List[str]:
    found = []
    for path in room_files(room, root):
        relative = path.relative_to(root)
        if room == "gadu" and in_gadu_io_package(relative):
            continue
        for module, line in imports_of(path, root):
            top = module.split(".")[0]
            if top in forbidden:
                found.append(f"{relative}:{line} imports {module}")
    return found


def client_violations(room: str, root: Path = ROOT) -> List[str]:
    files = room_files(room, root)
    found = []
    uses_gadu = False
    for path in files:
        for module, line in imports_of(path, root):
            top = module.split(".")[0]
            if top == "struct":
                found.append(f"{path.relative_to(root)}:{line} imports struct: the codec lives in gadu")
            uses_gadu |= top == "gadu"
    if files and not uses_gadu:
        found.append(f"{room} never imports gadu: a client must speak through the protocol core")
    return found


EXISTING_WALLS = [wall for wall in WALLS if room_files(wall[0])]


def test_the_top_level_rooms_exist():
    for room in sorted(PROJECT_PACKAGES):
        assert (ROOT / room / "__init__.py").is_file(), f"{room}/ is part of the fixed layout"


@pytest.mark.parametrize("room,forbidden,why", EXISTING_WALLS, ids=[w[0] for w in EXISTING_WALLS])
def test_walls(room, forbidden, why):
    assert wall_violations(room, forbidden) == [], why


def test_gadu_io_lives_in_one_subpackage():
    """The server is a package beside the core, and the core's server state machine stays in the core."""
    package = ROOT / "gadu" / GADU_IO_PACKAGE
    assert (package / "__init__.py").is_file()
    assert (ROOT / "gadu" / "server_session.py").is_file()
    assert not (ROOT / "gadu" / "server.py").exists(), "a module would shadow the package"


def test_gadu_server_stays_out_of_the_implementations():
    """The reference server is asyncio, but it serves every client: it imports none of them."""
    for path in room_files("gadu"):
        if in_gadu_io_package(path.relative_to(ROOT)):
            for module, line in imports_of(path):
                assert module.split(".")[0] not in {"legacy", "modern", "compat", "workbench"}, (path, line)


@pytest.mark.parametrize("room", CLIENT_ROOMS)
def test_clients_speak_only_through_gadu(room):
    assert room_files(room), f"{room} is one of the four clients of the design"
    assert client_violations(room) == []


def test_nothing_imports_workbench():
    for room in ("gadu", "legacy", "modern", "compat"):
        for path in room_files(room):
            for module, line in imports_of(path):
                assert module.split(".")[0] != "workbench", f"{path.relative_to(ROOT)}:{line}"


# The checker itself, on a small invented tree: it must catch what it claims to catch.

def _tree(tmp_path: Path, files: Dict[str, str]) -> Path:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return tmp_path


def test_checker_catches_absolute_relative_and_from_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "gadu/__init__.py": "",
            "gadu/packets.py": "import socket\nfrom ..modern import loop\n",
            "gadu/framing.py": "from asyncio import sleep\n",
            "gadu/server_session.py": "import sqlite3\n",
            "gadu/server/__init__.py": "",
            "gadu/server/reference.py": "import asyncio\nimport subprocess\n",
        },
    )
    found = wall_violations("gadu", IO_MODULES | {"modern"}, root)
    assert any("packets.py:1 imports socket" in f for f in found)
    assert any("packets.py:2 imports modern" in f for f in found)
    assert any("framing.py:1 imports asyncio" in f for f in found)
    assert any("server_session.py:1 imports sqlite3" in f for f in found), "a core module named server*"
    assert not any("reference.py" in f for f in found)


def test_checker_catches_a_client_with_its_own_codec(tmp_path):
    root = _tree(tmp_path, {"legacy/callbacks/client.py": "import struct\nimport selectors\n"})
    found = client_violations("legacy/callbacks", root)
    assert any("imports struct" in f for f in found)
    assert any("never imports gadu" in f for f in found)
