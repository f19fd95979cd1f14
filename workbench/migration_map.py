"""The migration map: each construct a migration away from asyncore meets, its replacement, and why.

The map is data (MIGRATION_MAP); `annotate` is the one rule that attaches its notes to the hunks of a
diff. Nothing here knows about terminals or HTML.

When does a note belong to a hunk? An entry fires at most once per diff, at the first hunk that
removes a line matching its `legacy` pattern (and adds none back), when either
- that same hunk adds a line matching its `modern` pattern (the construct is replaced right there), or
- the construct is gone from the new file altogether and its replacement (if it names one) is
  somewhere in the new file (the replacement moved, as `buffer_updated` does to a Protocol class).
"""
from __future__ import annotations

import re
from typing import List, NamedTuple, Optional, Sequence, Tuple

__all__ = ["MIGRATION_MAP", "Migration", "annotate"]


class Migration(NamedTuple):
    legacy: str  # regex, searched in each removed line of the old file
    modern: Optional[str]  # regex for the replacement in the new file; None when the construct just goes
    label: str  # "old -> new", as a reader would say it
    why: str  # one line

    def found_in(self, lines: Sequence[str]) -> bool:
        return any(re.search(self.legacy, line) for line in lines)

    def replaced_in(self, lines: Sequence[str]) -> bool:
        return self.modern is not None and any(re.search(self.modern, line) for line in lines)


MIGRATION_MAP: Tuple[Migration, ...] = (
    Migration(
        r"\bclass\s+\w+\s*\(\s*[\w.]*([Dd]ispatcher|async_chat|GaduClient)\b",
        r"\b(asyncio\.)?(Buffered)?Protocol\b|\basync\s+for\b|\bnext_event\s*\(",
        "asyncore.dispatcher subclass -> asyncio.Protocol (or a loop over events)",
        "the loop calls a Protocol only with what happened; no per-pass polling of every object",
    ),
    Migration(
        r"\b(set_terminator|collect_incoming_data|found_terminator)\b",
        r"\b(buffer_updated|data_received|readexactly|receive_data|sock_recv)\b|\.read\s*\(",
        "set_terminator/collect_incoming_data/found_terminator -> buffer_updated feeding the sans-I/O "
        "parser (aio), readexactly (yield-from stream helper)",
        "the parser takes bytes in any split, so the I/O layer only feeds it; no terminator bookkeeping",
    ),
    Migration(
        r"\bhandle_(connect|close|accept|accepted)\b",
        r"\b(connection_made|connection_lost|open_connection|create_connection|start_server|sock_accept)\b",
        "handle_connect/handle_close -> connection_made/connection_lost, or open_connection",
        "connecting is a call that returns when connected (or raises), not a flag checked on each pass",
    ),
    Migration(
        r"\.push(_with_producer)?\s*\(",
        r"\.write\s*\(|\bdrain\s*\(|\bsock_sendall\s*\(",
        "push -> write + drain",
        "write buffers; awaiting drain() is the back-pressure asynchat's unbounded fifo never had",
    ),
    Migration(
        r"\bdef\s+(readable|writable)\s*\(",
        r"\b(transport|Transport|open_connection|create_connection|StreamWriter|sock_recv|add_reader)\b",
        "readable()/writable() -> the selector driven by transports",
        "a transport registers for reading and writing itself; nobody asks every object each pass",
    ),
    Migration(
        r"\basyncore\.loop\b|\brun\s*\(\s*\w*map\b",
        r"\bAsyncioBridge\b",
        "asyncore.loop(map=...) -> compat.bridge.AsyncioBridge (first step: same dispatchers, asyncio's loop)",
        "the dispatchers stay as they are; asyncio's selector serves bridge.map, so new code can share the loop",
    ),
    Migration(
        r"\basyncore\.loop\b|\brun\s*\(\s*\w*map\b|\bthreading\.Thread\s*\(",
        r"\basyncio\.run\s*\(|\brun_until_complete\s*\(",
        "asyncore.loop() in a thread -> asyncio.run()",
        "one loop in one thread owns every socket and timer, and it ends when main() ends",
    ),
    Migration(
        r"\bmap=",
        r"\b(get_running_loop|asyncio\.run|new_event_loop)\b",
        "map= -> the loop",
        "the running loop owns the sockets; there is no socket map to pass around",
    ),
    Migration(
        r"\bdef\s+on_\w+\s*\(\s*self\b",
        r"\basync\s+for\b|\bnext_event\s*\(|\bevents\s*\(",
        "on_message()/on_login_ok() overrides -> a loop over the client's events",
        "the program reads top to bottom; state lives in local variables, not in attributes between hooks",
    ),
    Migration(
        r"\b(result|res)\s*,\s*(error|err|exc)\s*\)",
        r"\b(Future|create_future|set_result|set_exception|await|yield\s+from)\b",
        "callback(result, error) -> a Future",
        "the result or the exception comes back where the call was made; no nesting, errors cannot be dropped",
    ),
    Migration(
        r"\bmodern\.loop\b|\bAsyncioBridge\b",
        r"\bcompat\b.*\bcoroutine\b|@coroutine\b",
        "own loop or bridge -> generator coroutines on asyncio through compat.coroutine",
        "@asyncio.coroutine left in 3.11; compat.coroutine keeps yield-from code running on 3.8 to 3.13",
    ),
    Migration(
        r"@(\w+\.)?coroutine\b|\byield\s+from\b",
        r"\basync\s+def\b|\bawait\b",
        "@coroutine + yield from -> async def + await",
        "native coroutines: checked by the compiler, faster, and the only kind asyncio accepts from 3.12",
    ),
    Migration(
        r"\basyncio\.async\b|\bensure_future\s*\(",
        r"\bcreate_task\s*\(|\bTaskGroup\b",
        "asyncio.async -> ensure_future/create_task",
        "asyncio.async became a syntax error in 3.7; create_task says what it does",
    ),
    Migration(
        r"\bloop=",
        None,
        "loop= arguments -> nothing (asyncio removed them in 3.10)",
        "asyncio finds the running loop itself; passing one invites the wrong loop",
    ),
)


def annotate(
    hunks: Sequence[Tuple[Sequence[str], Sequence[str]]],
    new_lines: Sequence[str],
    entries: Sequence[Migration] = MIGRATION_MAP,
) -> List[List[Migration]]:
    """Notes for each hunk, given each hunk's (removed lines, added lines) and the whole new file."""
    notes: List[List[Migration]] = [[] for _ in hunks]
    for entry in entries:
        # A hunk that removes the construct and adds it back (`map=a` -> `map=b`) has not replaced it.
        candidates = [index for index, (removed, added) in enumerate(hunks)
                      if entry.found_in(removed) and not entry.found_in(added)]
        if not candidates:
            continue
        here = [index for index in candidates if entry.replaced_in(hunks[index][1])]
        if here:
            notes[here[0]].append(entry)
        elif not entry.found_in(new_lines) and (entry.modern is None or entry.replaced_in(new_lines)):
            notes[candidates[0]].append(entry)
    return notes
