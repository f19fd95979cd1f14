"""libgadu as a peer: compile ggpeer.c once per session and drive its processes with timeouts.

`LibgaduPeer` runs one ggpeer process (a real libgadu client), sends it commands and waits for the
JSON event lines it prints; every wait has a deadline and every process is killed and reaped.
"""
from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

__all__ = ["LibgaduPeer", "PeerTimeout"]

SOURCE = Path(__file__).with_name("ggpeer.c")
INSTALL_HINT = "apt-get install libgadu-dev"
#: Seconds a peer waits in any state short of CONNECTED before it gives up on its own (libgadu never does).
PEER_LOGIN_LIMIT = 10
Event = Dict[str, Any]


class PeerTimeout(AssertionError):
    """A libgadu peer did not print the expected event in time."""


def root_conftest(config: pytest.Config) -> Any:
    """tests/conftest.py (for `require()`); a plain import would find this conftest under the same name."""
    plugin = config.pluginmanager.get_plugin(str(Path(__file__).resolve().parents[1] / "conftest.py"))
    assert plugin is not None, "tests/conftest.py is not loaded"
    return plugin


def compile_peer(target: Path, require: Callable[[bool, str, str], None]) -> Path:
    """Build ggpeer against the system's libgadu; skip (or fail under GG_STRICT) when it is missing."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    require(compiler is not None, "a C compiler (cc) for the libgadu peer", INSTALL_HINT + " gcc")
    binary = target / "ggpeer"
    result = subprocess.run(
        [compiler, "-Wall", "-Wextra", "-Werror", "-O1", "-o", str(binary), str(SOURCE), "-lgadu"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        missing = "libgadu.h" in result.stderr or "-lgadu" in result.stderr
        require(not missing, "libgadu (libgadu.h and -lgadu)", INSTALL_HINT)
        pytest.fail(f"ggpeer.c does not compile:\n{result.stderr}", pytrace=False)
    return binary


class LibgaduPeer:
    """One ggpeer process: `command()` writes a line, `wait_for()` waits for a matching event line."""

    def __init__(self, binary: Path, port: int, uin: int, password: str, hash_type: str = "sha1",
                 log_dir: Optional[Path] = None) -> None:
        self.uin = uin
        self.events: List[Event] = []
        self._matched: set = set()
        self._lines: queue.Queue[Optional[Event]] = queue.Queue()
        stderr_path = (log_dir or Path(binary).parent) / f"ggpeer-{uin}-{id(self)}.stderr"
        self._stderr = open(stderr_path, "wb")
        self.process = subprocess.Popen(
            [str(binary), str(port), str(uin), password, hash_type, str(PEER_LOGIN_LIMIT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._reader = threading.Thread(target=self._read, name=f"ggpeer-{uin}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            text = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                event = json.loads(text)
            except ValueError:
                event = {"type": "unparsed", "line": text}
            self._lines.put(event)
        self._lines.put(None)

    def command(self, line: str) -> None:
        """Send one command line (see ggpeer.c) to the peer."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode("utf-8") + b"\n")
        self.process.stdin.flush()

    def wait_for(self, predicate: Callable[[Event], bool], timeout: float = 5.0, what: str = "") -> Event:
        """Return the first event, seen or yet to come and not returned before, that satisfies predicate."""
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for index in range(checked, len(self.events)):
                if index not in self._matched and predicate(self.events[index]):
                    self._matched.add(index)
                    return self.events[index]
            checked = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PeerTimeout(f"uin {self.uin}: no {what or 'matching'} event in {timeout} s; saw {self.events}")
            try:
                event = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is None:
                self._lines.put(None)  # keep reporting the end to later waits
                raise PeerTimeout(f"uin {self.uin}: the peer exited before {what or 'the event'}; saw {self.events}")
            self.events.append(event)

    def wait_type(self, kind: str, timeout: float = 5.0, **fields: Any) -> Event:
        """Wait for an event of one type whose given fields have the given values."""
        return self.wait_for(
            lambda e: e.get("type") == kind and all(e.get(k) == v for k, v in fields.items()),
            timeout,
            what=f"{kind} {fields}" if fields else kind,
        )

    def wait_exit(self, timeout: float = 5.0) -> int:
        """Wait for the process to end on its own and return its exit code."""
        return self.process.wait(timeout)

    def close(self) -> None:
        """Ask the peer to quit, kill it if it does not, and reap it."""
        if self.process.poll() is None:
            try:
                self.command("quit")
            except (BrokenPipeError, OSError):
                pass
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        self._reader.join(5)
        self._stderr.close()


@pytest.fixture(scope="session")
def ggpeer_binary(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Path:
    return compile_peer(tmp_path_factory.mktemp("ggpeer"), root_conftest(pytestconfig).require)


@pytest.fixture
def ggpeer_compile(pytestconfig: pytest.Config) -> Tuple[Callable[..., Path], Any]:
    """compile_peer itself and tests/conftest.py, for the tests of the build step."""
    return compile_peer, root_conftest(pytestconfig)


@pytest.fixture
def libgadu_peer(ggpeer_binary: Path, tmp_path: Path) -> Iterator[Callable[..., LibgaduPeer]]:
    """A factory: `libgadu_peer(port, uin, password, hash_type)`; every peer is reaped at teardown."""
    peers: List[LibgaduPeer] = []

    def start(port: int, uin: int, password: str, hash_type: str = "sha1") -> LibgaduPeer:
        peer = LibgaduPeer(ggpeer_binary, port, uin, password, hash_type, log_dir=tmp_path)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.close()
