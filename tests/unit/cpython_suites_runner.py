"""Run CPython's test_asyncore or test_asynchat with asyncore.loop replaced by compat.bridge's drop-in.

Run as a script in its own process (the suites change asyncore's module state):
    python cpython_suites_runner.py MODULE [SEARCH_DIR] > summary.json
MODULE is `test.test_asyncore` (the interpreter's own, up to 3.11) or `tests.test_asyncore` with
SEARCH_DIR the unpacked pyasyncore sdist (3.12+). Prints one JSON summary: every test's outcome,
how often it called the drop-in, and how often asyncore's own poll()/poll2() ran during it.
"""
from __future__ import annotations

import json
import socket
import sys
import unittest
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[2]

#: Tests that fail through the bridge for a reason outside the bridge's reach: name suffix -> reason.
EXPECTED_FAILURES: Dict[str, str] = {}
if not (hasattr(socket, "MSG_OOB") and sys.platform.startswith("linux")):
    for _family in ("IPv4", "IPv6"):
        for _how in ("Select", "Poll"):
            EXPECTED_FAILURES[f"TestAPI_Use{_family}{_how}.test_handle_expt"] = (
                "out-of-band data: asyncio's add_reader does not watch urgent data, and the bridge's "
                "EPOLLPRI watcher exists on Linux only")


class Counting:
    """Counts the calls of one module-level function while forwarding them."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.function(*args, **kwargs)


class Recorder(unittest.TextTestResult):
    """Per test: its outcome, the drop-in's calls and asyncore's own poll calls."""

    counters: Dict[str, Counting] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: Dict[str, Dict[str, Any]] = {}

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        self._before = {name: c.calls for name, c in self.counters.items()}
        self.rows[test.id()] = {"outcome": "pass"}

    def stopTest(self, test: unittest.TestCase) -> None:
        row = self.rows[test.id()]
        for name, counter in self.counters.items():
            row[name] = counter.calls - self._before[name]
        super().stopTest(test)

    def _mark(self, test: Any, outcome: str, detail: str = "") -> None:
        row = self.rows.setdefault(test.id(), {"loop": 0, "poll": 0, "poll2": 0})
        row["outcome"] = outcome
        if detail:
            row["detail"] = detail[-2000:]

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._mark(test, "fail", self.failures[-1][1])

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._mark(test, "error", self.errors[-1][1])

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._mark(test, "skip", reason)

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._mark(test, "xfail", EXPECTED_FAILURES.get(_suffix(test), ""))

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._mark(test, "xpass")


def _suffix(test: Any) -> str:
    return ".".join(test.id().split(".")[-2:])


def _tests(suite: Any):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _tests(item)
        else:
            yield item


def main() -> int:
    module_name = sys.argv[1]
    if len(sys.argv) > 2:
        sys.path.insert(0, sys.argv[2])
    sys.path.append(str(ROOT))  # after the sdist: its `tests` package is the one to import
    from compat import asyncore, bridge

    bridge.install()
    Recorder.counters = {"loop": Counting(asyncore.loop), "poll": Counting(asyncore.poll),
                         "poll2": Counting(asyncore.poll2)}
    for name, counter in Recorder.counters.items():
        setattr(asyncore, name, counter)

    suite = unittest.defaultTestLoader.loadTestsFromName(module_name)
    for test in _tests(suite):
        reason = EXPECTED_FAILURES.get(_suffix(test))
        if reason:
            method = getattr(test, test._testMethodName)
            setattr(test, test._testMethodName, unittest.expectedFailure(method))
    runner = unittest.TextTestRunner(stream=sys.stderr, resultclass=Recorder, verbosity=1)
    result = runner.run(suite)
    json.dump({"python": sys.version.split()[0], "module": module_name, "asyncore": asyncore.__file__,
               "tests": result.rows}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
