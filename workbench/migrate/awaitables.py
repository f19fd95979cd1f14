"""What migrate knows to be awaitable: the asyncio APIs, the types their results have, and the
coroutine functions defined among the files being migrated.

The `coroutines` step converts a generator coroutine to `async def` only when every `yield from` in it
awaits something listed here; anything else keeps the generator under `@compat.coroutine`.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, Iterable, List, Optional, Set

import libcst as cst

__all__ = [
    "AWAITABLE_FUNCTIONS",
    "LOOP_KEPT",
    "LOOP_REMOVED",
    "METHODS_BY_KIND",
    "KnownCoroutines",
    "kind_of_call",
    "normalize",
]

#: asyncio's submodules whose public names are re-exported by `asyncio` itself.
_SUBMODULES = ("events", "futures", "locks", "queues", "streams", "subprocess", "tasks", "coroutines",
               "base_events")

#: Module-level asyncio callables whose result is awaitable (a coroutine, a Future or a Task).
AWAITABLE_FUNCTIONS: FrozenSet[str] = frozenset({
    "asyncio.sleep", "asyncio.wait", "asyncio.wait_for", "asyncio.gather", "asyncio.shield",
    "asyncio.open_connection", "asyncio.start_server", "asyncio.open_unix_connection",
    "asyncio.start_unix_server", "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
    "asyncio.ensure_future", "asyncio.async", "asyncio.Future", "asyncio.Task", "asyncio.wrap_future",
})

#: asyncio APIs that dropped their `loop` parameter in 3.10 (bpo-42392). Only these lose `loop=`.
LOOP_REMOVED: FrozenSet[str] = frozenset({
    "asyncio.sleep", "asyncio.wait", "asyncio.wait_for", "asyncio.gather", "asyncio.shield",
    "asyncio.as_completed", "asyncio.open_connection", "asyncio.start_server",
    "asyncio.open_unix_connection", "asyncio.start_unix_server", "asyncio.create_subprocess_exec",
    "asyncio.create_subprocess_shell", "asyncio.Queue", "asyncio.PriorityQueue", "asyncio.LifoQueue",
    "asyncio.JoinableQueue", "asyncio.Lock", "asyncio.Event", "asyncio.Condition", "asyncio.Semaphore",
    "asyncio.BoundedSemaphore",
})

#: APIs that kept `loop=`: named so that the report can say why it left them.
LOOP_KEPT: FrozenSet[str] = frozenset({
    "asyncio.ensure_future", "asyncio.Future", "asyncio.Task", "asyncio.run_coroutine_threadsafe",
    "asyncio.wrap_future",
})

#: What a call to an asyncio API returns, as far as awaiting its methods goes.
_RESULT_KIND: Dict[str, str] = {
    "asyncio.Future": "future", "asyncio.Task": "future", "asyncio.ensure_future": "future",
    "asyncio.async": "future", "asyncio.wrap_future": "future",
    "asyncio.Queue": "queue", "asyncio.PriorityQueue": "queue", "asyncio.LifoQueue": "queue",
    "asyncio.JoinableQueue": "queue",
    "asyncio.Lock": "lock", "asyncio.Semaphore": "lock", "asyncio.BoundedSemaphore": "lock",
    "asyncio.Condition": "condition", "asyncio.Event": "event",
    "asyncio.StreamReader": "reader", "asyncio.StreamWriter": "writer",
    "asyncio.get_event_loop": "loop", "asyncio.new_event_loop": "loop", "asyncio.get_running_loop": "loop",
}

#: Methods whose result is awaitable, by the kind of the object they are called on.
METHODS_BY_KIND: Dict[str, FrozenSet[str]] = {
    "queue": frozenset({"get", "put", "join"}),
    "lock": frozenset({"acquire"}),
    "condition": frozenset({"acquire", "wait", "wait_for"}),
    "event": frozenset({"wait"}),
    "reader": frozenset({"read", "readline", "readexactly", "readuntil"}),
    "writer": frozenset({"drain", "wait_closed"}),
    "server": frozenset({"wait_closed", "serve_forever", "start_serving"}),
    "loop": frozenset({
        "create_connection", "create_server", "create_unix_connection", "create_unix_server",
        "create_datagram_endpoint", "getaddrinfo", "getnameinfo", "run_in_executor", "sock_recv",
        "sock_recv_into", "sock_sendall", "sock_connect", "sock_accept", "subprocess_exec",
        "subprocess_shell", "connect_read_pipe", "connect_write_pipe", "create_task", "create_future",
        "shutdown_asyncgens",
    }),
}

#: Loop methods whose result is a Future or Task (the rest return coroutines).
_LOOP_FUTURES = frozenset({"create_task", "create_future", "run_in_executor"})


def normalize(name: str) -> str:
    """`asyncio.queues.Queue` and `asyncio.tasks.sleep` to the `asyncio.X` they are exported as;
    `compat.asyncore.X` (what the imports step writes) to the `asyncore.X` it is."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "compat" and parts[1] in ("asyncore", "asynchat"):
        return ".".join(parts[1:])
    if len(parts) == 3 and parts[0] == "asyncio" and parts[1] in _SUBMODULES:
        return f"asyncio.{parts[2]}"
    return name


def kind_of_call(qualified: Iterable[str], method: Optional[str] = None,
                 receiver_kind: Optional[str] = None) -> Optional[str]:
    """The kind of what a call returns: by the API it calls, or by a loop method's name."""
    for name in qualified:
        kind = _RESULT_KIND.get(normalize(name))
        if kind:
            return kind
    if receiver_kind == "loop" and method in _LOOP_FUTURES:
        return "future"
    return None


class KnownCoroutines:
    """The coroutine functions defined among the files being migrated, by name: functions (called as
    `name(...)`) apart from methods (called as `obj.name(...)`).

    A name also defined as a plain function or method of that sort somewhere in those files is ambiguous
    and not known: matching calls by name can then not tell the two apart.
    """

    def __init__(self) -> None:
        self.coroutines: Dict[bool, Set[str]] = {False: set(), True: set()}
        self.plain: Dict[bool, Set[str]] = {False: set(), True: set()}

    def add_module(self, module: cst.Module) -> None:
        module.visit(_DefCollector(self))

    def knows(self, name: str, method: bool) -> bool:
        return name in self.coroutines[method] and name not in self.plain[method]


def _is_coroutine_decorator(decorator: cst.Decorator) -> bool:
    # Before binding: any decorator spelled `coroutine` or `X.coroutine` marks a coroutine function.
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    if isinstance(expr, cst.Name):
        return expr.value == "coroutine"
    return isinstance(expr, cst.Attribute) and expr.attr.value == "coroutine"


class _DefCollector(cst.CSTVisitor):
    def __init__(self, known: KnownCoroutines) -> None:
        super().__init__()
        self.known = known
        self.inside: List[str] = []  # 'class' or 'def', innermost last

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.inside.append("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.inside.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        method = bool(self.inside) and self.inside[-1] == "class"
        self.inside.append("def")
        coroutine = node.asynchronous is not None or any(_is_coroutine_decorator(d) for d in node.decorators)
        (self.known.coroutines if coroutine else self.known.plain)[method].add(node.name.value)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.inside.pop()
