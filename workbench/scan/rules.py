"""The one table of rules: what `gg-workbench scan` finds, when Python deprecated it and when it broke.

Each version is checked against a source a reader can open (a CPython issue, pull request or commit, and
the standard library's own code on this machine); `rules_table_markdown` renders the table the README
carries. Detection lives in `detect.py`; this module holds data only.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple, Optional, Tuple

__all__ = [
    "BEHAVIOUR_CHANGE",
    "INFORMATIONAL",
    "KINDS",
    "REMOVED",
    "RULES",
    "SYNTAX_ERROR",
    "WARNING_ONLY",
    "Rule",
    "breaks_on",
    "parse_version",
    "rules_table_markdown",
]

REMOVED = "removed"
SYNTAX_ERROR = "syntax error"
BEHAVIOUR_CHANGE = "behaviour change"
WARNING_ONLY = "warning only"
KINDS: Tuple[str, ...] = (REMOVED, SYNTAX_ERROR, BEHAVIOUR_CHANGE, WARNING_ONLY)
#: The kind a finding gets instead of its rule's when the construct is reached through `compat`, which
#: provides it on every Python the project supports: worth knowing, never a reason to fail.
INFORMATIONAL = "informational"


class Rule(NamedTuple):
    code: str
    title: str  # one line: what it finds
    kind: str  # one of KINDS
    deprecated: Optional[str]  # the first Python that deprecated it
    breaks: Optional[str]  # the first Python where it no longer works; None while it only warns
    deprecated_source: str  # where `deprecated` is written down
    breaks_source: str  # where `breaks` is written down
    example: str  # the workbench example that shows the way out
    see: str  # the `gg-workbench diff` command that shows it
    fixer: Optional[str]  # the `gg-workbench migrate` step that rewrites it, where one is safe
    way_out: str  # one line: what to write instead


def parse_version(text: str) -> Tuple[int, ...]:
    """'3.12' -> (3, 12); a usage error (ValueError) for anything that is not dotted numbers."""
    parts = text.strip().split(".")
    if not text.strip() or not all(part.isdigit() for part in parts):
        raise ValueError(f"not a Python version: {text!r} (expected something like 3.13)")
    return tuple(int(part) for part in parts)


def breaks_on(rule: Rule, target: Tuple[int, ...]) -> bool:
    """Does code with this construct fail on the target Python (3.12.1 counts as 3.12)?"""
    return rule.breaks is not None and target[:2] >= parse_version(rule.breaks)[:2]


_ASYNCORE_SOURCE = ("Doc/library/asyncore.rst 'deprecated-removed:: 3.6 3.12'; the import warns from 3.10 "
                    "(3.10.13 asyncore.py DeprecationWarning, 3.11.7 warnings._deprecated(remove=(3, 12)))")
_ASYNCORE_REMOVED = ("gh-72719 (PR #96580 'Remove deprecated asyncore and asynchat modules', 3.12 whatsnew, "
                     "PEP 594); absent from the 3.12.1 and 3.13.0 Lib/")
_STEP_DISPATCHER_BRIDGE = "gg-workbench diff echo_server --from dispatcher --to dispatcher@asyncio"
_STEP_DISPATCHER_AIO = "gg-workbench diff echo_server --from dispatcher --to aio"
_STEP_YIELDFROM_AIO = "gg-workbench diff echo_bot --from yieldfrom@asyncio --to aio"
_STEP_FAN_OUT = "gg-workbench diff fan_out --from yieldfrom@asyncio --to aio"
_LOOP_DEPRECATED = ("bpo-36373 'Deprecate explicit loop parameter in all public asyncio APIs'; 3.8.18 "
                    "asyncio/locks.py, queues.py, tasks.py, streams.py, subprocess.py warn 'The loop argument "
                    "is deprecated since Python 3.8'")

_RULES: Tuple[Rule, ...] = (
    Rule("GW101", "asyncore imported (`import asyncore`, `from asyncore import ...`, aliases)", REMOVED,
         "3.6", "3.12", _ASYNCORE_SOURCE, _ASYNCORE_REMOVED,
         "echo_server", _STEP_DISPATCHER_BRIDGE, "imports",
         "`from compat import asyncore` (or depend on pyasyncore on 3.12+), then move to asyncio"),
    Rule("GW102", "asynchat imported (`import asynchat`, `from asynchat import ...`, aliases)", REMOVED,
         "3.6", "3.12", _ASYNCORE_SOURCE.replace("asyncore", "asynchat"), _ASYNCORE_REMOVED,
         "echo_server", _STEP_DISPATCHER_BRIDGE, "imports",
         "`from compat import asynchat` (or depend on pyasynchat on 3.12+), then move to asyncio"),
    Rule("GW103", "smtpd imported", REMOVED,
         "3.6", "3.12",
         "Doc/library/smtpd.rst 'deprecated-removed:: 3.6 3.12' (the 3.12 whatsnew says 'deprecated in Python "
         "3.4.7 and 3.5.4'); 3.10.13 smtpd.py DeprecationWarning, 3.11.7 _deprecated(remove=(3, 12))",
         "gh-93243 (PR #93246 made it private before the removal; 3.12 whatsnew 'removed according to the "
         "schedule in PEP 594'); absent from the 3.12.1 Lib/",
         "echo_server", _STEP_DISPATCHER_AIO, None,
         "an asyncio server (aiosmtpd for SMTP)"),
    Rule("GW104", "class derived from asyncore `dispatcher`, `dispatcher_with_send` or `file_dispatcher`",
         REMOVED, "3.6", "3.12", _ASYNCORE_SOURCE, _ASYNCORE_REMOVED,
         "echo_server", _STEP_DISPATCHER_AIO, None,
         "an asyncio.Protocol (or keep it on compat.bridge first)"),
    Rule("GW105", "class derived from asynchat `async_chat`", REMOVED,
         "3.6", "3.12", _ASYNCORE_SOURCE.replace("asyncore", "asynchat"), _ASYNCORE_REMOVED,
         "echo_bot", "gg-workbench diff echo_bot --from dispatcher --to aio", None,
         "a BufferedProtocol feeding a sans-I/O parser"),
    Rule("GW106", "call of `asyncore.loop`", REMOVED,
         "3.6", "3.12", _ASYNCORE_SOURCE, _ASYNCORE_REMOVED,
         "echo_server", _STEP_DISPATCHER_BRIDGE, "bridge",
         "`compat.bridge` (the same dispatchers on asyncio's loop), then `asyncio.run`"),
    Rule("GW107", "`asyncore.socket_map` used directly", REMOVED,
         "3.6", "3.12", _ASYNCORE_SOURCE, _ASYNCORE_REMOVED,
         "echo_server", _STEP_DISPATCHER_BRIDGE, None,
         "a map of your own passed as map=, then the running loop"),
    Rule("GW201", "`@asyncio.coroutine` (or `coroutine` imported from asyncio)", REMOVED,
         "3.8", "3.11",
         "bpo-36921; 3.8.18 asyncio/coroutines.py warns '\"@coroutine\" decorator is deprecated since "
         "Python 3.8, use \"async def\" instead'",
         "bpo-43216 / gh-87382 (3.11 whatsnew: 'Removed the @asyncio.coroutine decorator'); "
         "3.11.7 asyncio has no `coroutine`",
         "echo_bot", _STEP_YIELDFROM_AIO, "coroutines",
         "`async def` with `await` (or `compat.coroutine` while `yield from` stays)"),
    Rule("GW202", "`asyncio.async(...)`", SYNTAX_ERROR,
         "3.4.4", "3.7",
         "3.4 branch changeset b78127eafad7 'asyncio: async() function is deprecated in favour of "
         "ensure_future()' (May 2015); 3.6.15 asyncio/tasks.py async_() warns 'asyncio.async() function is "
         "deprecated, use ensure_future()'",
         "bpo-30406 'Make async and await proper keywords' and bpo-32272 'Remove asyncio.async() function' "
         "(3.7); 3.7.16 compile() rejects `asyncio.async(x)`, 3.6.15 accepts it",
         "fan_out", _STEP_FAN_OUT, "coroutines",
         "`asyncio.ensure_future(...)` or `asyncio.create_task(...)`"),
    Rule("GW203", "`asyncio.JoinableQueue`", REMOVED,
         "3.4.4", "3.5",
         "asyncio-queue.rst 'Deprecated alias for Queue. deprecated:: 3.4.4' (3.4 changeset 12a857e173b7)",
         "#23464 'remove JoinableQueue that was deprecated in 3.4.4' (3.5 whatsnew); 3.6.15 queues.py "
         "defines it only `if not compat.PY35`",
         "fan_out", _STEP_FAN_OUT, None,
         "`asyncio.Queue` (it has join() and task_done() since 3.4.4)"),
    Rule("GW204", "`with (yield from lock)` / `with (await lock)`", REMOVED,
         "3.7", "3.9",
         "bpo-32253 'Deprecate with statement and bare await for asyncio locks'; 3.8.18 asyncio/locks.py "
         "warns \"'with (yield from lock)' is deprecated\"",
         "bpo-34793 'Drop old-style context managers in asyncio.locks' (3.9 whatsnew); 3.9.18 Lock has "
         "neither __iter__ nor __await__",
         "echo_bot", _STEP_YIELDFROM_AIO, "coroutines",
         "`async with lock:`"),
    Rule("GW205", "`asyncio.Task.current_task()` / `asyncio.Task.all_tasks()`", REMOVED,
         "3.7", "3.9",
         "bpo-32250 (3.7 whatsnew); 3.8.18 asyncio/tasks.py warns 'Task.current_task() is deprecated since "
         "Python 3.7'",
         "bpo-40967 'Remove deprecated asyncio.Task.current_task() and asyncio.Task.all_tasks()' (PR #21272, "
         "3.9); 3.9.18 Task has neither",
         "echo_bot", _STEP_YIELDFROM_AIO, "coroutines",
         "`asyncio.current_task()` / `asyncio.all_tasks()`"),
    Rule("GW206", "`loop=` passed to an asyncio function or class that dropped it", REMOVED,
         "3.8", "3.10", _LOOP_DEPRECATED,
         "bpo-42392 (3.10 whatsnew: 'The loop parameter has been removed from most of asyncio's high-level "
         "API'); signatures compared with inspect on 3.9.18 and 3.10.13",
         "echo_bot", _STEP_YIELDFROM_AIO, "coroutines",
         "nothing: asyncio finds the running loop itself"),
    Rule("GW207", "bare coroutine passed to `asyncio.wait`", REMOVED,
         "3.8", "3.11",
         "bpo-34790 (3.8 whatsnew: 'The explicit passing of coroutine objects to asyncio.wait() has been "
         "deprecated')",
         "bpo-34790 PR #31964 'Remove passing coroutine objects to asyncio.wait()'; 3.11.7 asyncio/tasks.py "
         "raises TypeError('Passing coroutines is forbidden, use tasks explicitly.')",
         "fan_out", _STEP_FAN_OUT, None,
         "wrap each in `asyncio.create_task(...)`, or use `asyncio.gather`"),
    Rule("GW208", "`asyncio.get_event_loop()` where no loop runs (module level, or a plain function "
         "that no coroutine calls)", WARNING_ONLY,
         "3.10", "3.14",
         "bpo-39529 (3.10: 'deprecated:: 3.10 Deprecation warning is emitted if there is no running event "
         "loop', PR #23554); gh-93453 (3.12: warns only when no current loop is set); 3.12.1 and 3.13.0 "
         "warn 'There is no current event loop', 3.8-3.11.7 do not",
         "gh-126353 (PR #126354, 3.14: 'Raises a RuntimeError if there is no current event loop')",
         "echo_bot", "gg-workbench diff echo_bot --from yieldfrom@asyncio --to aio", None,
         "`asyncio.run(main())`, and `asyncio.get_running_loop()` inside coroutines"),
)

#: Every rule by its code, in code order.
RULES: Dict[str, Rule] = {rule.code: rule for rule in _RULES}


def _cell(text: Optional[str]) -> str:
    return (text or "-").replace("|", "\\|")


def rules_table_markdown() -> str:
    """The README's table of rules, rendered from RULES (a test checks the README holds it verbatim)."""
    lines: List[str] = [
        "| code | finds | kind | deprecated | breaks | source (deprecated; breaks) | way out | migrate step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in RULES.values():
        lines.append("| " + " | ".join([
            rule.code, _cell(rule.title), rule.kind, _cell(rule.deprecated), _cell(rule.breaks),
            _cell(f"{rule.deprecated_source}; {rule.breaks_source}"),
            _cell(f"{rule.way_out}: `{rule.see}`"), _cell(rule.fixer),
        ]) + " |")
    return "\n".join(lines) + "\n"
