"""The detectors: one walk over a module's syntax tree, with the binding pass's scopes, yielding hits.

A hit is (line, column, code, message, via_compat). Which rule fires is decided from what a name is
bound to (binding.py), never from how it is spelled: a user's own `coroutine`, an attribute `async_`,
or a `loop` passed positionally are not findings. `get_event_loop()` where no loop runs (GW208) is an
approximation, written down beside `_no_loop_runs`.
"""
from __future__ import annotations

import ast
from typing import Any, Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Set, Tuple

from .binding import LOCAL, Scope, canonical, children, collect_scope, qualify
from .tokens import MASK

__all__ = ["LOOP_DROPPED", "Hit", "detect"]


class Hit(NamedTuple):
    line: int
    col: int  # 0-based, in characters
    code: str
    message: str
    via_compat: bool


#: Modules whose import is a finding.
IMPORT_CODES: Dict[str, str] = {"asyncore": "GW101", "asynchat": "GW102", "smtpd": "GW103"}

#: Bases that make a class a dispatcher.
BASE_CODES: Dict[str, str] = {
    "asyncore.dispatcher": "GW104",
    "asyncore.dispatcher_with_send": "GW104",
    "asyncore.file_dispatcher": "GW104",
    "asynchat.async_chat": "GW105",
}

#: Names whose every use (called or not: `Thread(target=asyncore.loop)` breaks as surely) is a finding.
USE_CODES: Dict[str, Tuple[str, str]] = {
    "asyncore.loop": ("GW106", "asyncore.loop used"),
    "asyncore.socket_map": ("GW107", "asyncore.socket_map used directly"),
    "asyncio.coroutine": ("GW201", "@asyncio.coroutine used"),
    "asyncio.JoinableQueue": ("GW203", "asyncio.JoinableQueue used"),
    "asyncio.Task.current_task": ("GW205", "asyncio.Task.current_task used"),
    "asyncio.Task.all_tasks": ("GW205", "asyncio.Task.all_tasks used"),
}

#: asyncio callables whose `loop` parameter 3.10 removed (bpo-42392): every public name that has a `loop`
#: parameter on 3.9.18 and none on 3.10.13 (compared with inspect.signature). ensure_future, Future, Task,
#: run_coroutine_threadsafe, wrap_future and the low-level classes kept theirs.
LOOP_DROPPED: FrozenSet[str] = frozenset(f"asyncio.{name}" for name in (
    "BoundedSemaphore", "Condition", "Event", "LifoQueue", "Lock", "PriorityQueue", "Queue", "Semaphore",
    "as_completed", "create_subprocess_exec", "create_subprocess_shell", "gather", "open_connection",
    "open_unix_connection", "shield", "sleep", "start_server", "start_unix_server", "wait", "wait_for",
))

#: asyncio functions that return a coroutine object (so passing their result to wait() is a bare coroutine).
ASYNCIO_COROUTINE_FUNCTIONS: FrozenSet[str] = frozenset(f"asyncio.{name}" for name in (
    "sleep", "wait", "wait_for", "open_connection", "start_server", "open_unix_connection",
    "start_unix_server", "create_subprocess_exec", "create_subprocess_shell", "to_thread",
))

#: Decorators that make a generator function a coroutine (the removed one, its replacements, and any
#: decorator named `coroutine`, such as modern.loop's): code inside runs on a loop.
_COROUTINE_DECORATORS = frozenset({"asyncio.coroutine", "types.coroutine", "compat.coroutine"})
#: Loop methods that take a callback: a function passed to one runs while the loop runs.
_CALLBACK_REGISTRARS = frozenset({"call_soon", "call_soon_threadsafe", "call_later", "call_at",
                                  "add_done_callback", "add_reader", "add_writer", "add_signal_handler",
                                  "run_in_executor", "create_task", "ensure_future", "run_until_complete"})
_TASK_MAKERS = frozenset({"create_task", "ensure_future", "Task", "shield", "gather", "wrap_future"})
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp)


class _Function(NamedTuple):
    """The innermost function around a node, as GW208 needs to see it."""

    node: ast.AST
    name: str
    coroutine: bool  # async def, or decorated as a coroutine
    under_coroutine: bool  # it, or a function it is nested in, is a coroutine
    loop_method: bool  # a method of an asyncio Protocol/Transport subclass: the loop calls it
    owner: str  # the class it is a method of ("" if none): `Client()` in a coroutine runs Client.__init__


def _decorator_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _is_coroutine_function(node: ast.AST, scope: Optional[Scope]) -> bool:
    if isinstance(node, ast.AsyncFunctionDef):
        return True
    if not isinstance(node, ast.FunctionDef):
        return False
    for decorator in node.decorator_list:
        if _decorator_name(decorator) == "coroutine":
            return True
        if scope is not None:
            named = qualify(decorator, scope)
            if named is not None and named[0] in _COROUTINE_DECORATORS:
                return True
    return False


def _is_loop_class(node: ast.ClassDef) -> bool:
    """A Protocol or Transport subclass (by its bases' names): asyncio calls its methods from the loop."""
    return any("Protocol" in _decorator_name(base) or "Transport" in _decorator_name(base) for base in node.bases)


def _called_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


class _Detector:
    def __init__(self, tree: ast.Module, text: str, masked: FrozenSet[Tuple[int, int]]) -> None:
        self.tree = tree
        self.masked = masked
        self.walrus = ":=" in text
        self.hits: List[Hit] = []
        # Facts gathered on the way, for the rules decided after the walk (GW207, GW208).
        self.coroutine_names: Set[str] = set()  # functions defined here as coroutines
        self.loop_reachable: Set[str] = set()  # names called from coroutines, or handed to a loop method
        self.sets_loop: Set[int] = set()  # ids of the functions (and the module) that call set_event_loop
        self.pending_waits: List[Tuple[Scope, List[ast.expr]]] = []
        self.pending_loops: List[Tuple[ast.Call, Optional[_Function]]] = []

    def scope_of(self, node: ast.AST, parent: Optional[Scope]) -> Scope:
        return collect_scope(node, parent, self.walrus)

    def hit(self, node: Any, code: str, message: str, via_compat: bool = False) -> None:  # any located node
        self.hits.append(Hit(node.lineno, node.col_offset, code, message, via_compat))

    # -- the walk ---------------------------------------------------------------------------------------

    def run(self) -> List[Hit]:
        module_scope = self.scope_of(self.tree, None)
        # (node, its scope, the innermost function around it, the class whose body it is in, if any)
        # Nodes are dispatched on `type(node) is ...` (faster than isinstance), which mypy cannot narrow: Any.
        stack: List[Tuple[Any, Scope, Optional[_Function], Optional[ast.ClassDef]]] = [
            (node, module_scope, None, None) for node in reversed(self.tree.body)]
        while stack:
            node, scope, function, owner = stack.pop()
            kind = type(node)
            if kind is ast.Name or kind is ast.Attribute:
                # `asyncore.socket_map = {}` uses the map as surely as reading it does.
                if kind is ast.Attribute or isinstance(node.ctx, ast.Load):
                    self.use(node, scope)
                if kind is ast.Attribute:
                    stack.append((node.value, scope, function, owner))
                continue
            if kind is ast.Call:
                self.call(node, scope, function)
            elif kind is ast.Import or kind is ast.ImportFrom:
                self.imports(node)
            elif kind is ast.With:
                self.with_items(node)
            if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                outer = [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)]
                stack.extend((sub, scope, function, owner) for sub in reversed(outer))
                coroutine = _is_coroutine_function(node, scope)
                if coroutine:
                    self.coroutine_names.add(node.name)
                inner = _Function(node, node.name, coroutine,
                                  coroutine or (function is not None and function.under_coroutine),
                                  owner is not None and _is_loop_class(owner), owner.name if owner else "")
                body_scope = self.scope_of(node, scope)
                stack.extend((sub, body_scope, inner, None) for sub in reversed(node.body))
            elif kind is ast.ClassDef:
                self.class_bases(node, scope)
                outer = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
                stack.extend((sub, scope, function, owner) for sub in reversed(outer))
                body_scope = self.scope_of(node, scope)
                stack.extend((sub, body_scope, function, node) for sub in reversed(node.body))
            elif kind is ast.Lambda:
                stack.extend((d, scope, function, owner)
                             for d in [*node.args.defaults, *(d for d in node.args.kw_defaults if d)])
                inner = _Function(node, "<lambda>", False, function is not None and function.under_coroutine,
                                  False, "")
                stack.append((node.body, self.scope_of(node, scope), inner, None))
            elif kind in _COMPREHENSIONS or kind is ast.DictComp:
                stack.append((node.generators[0].iter, scope, function, owner))
                inner_scope = self.scope_of(node, scope)
                rest: List[ast.AST] = []
                for index, generator in enumerate(node.generators):
                    rest.extend(generator.ifs)
                    if index:
                        rest.append(generator.iter)
                rest.extend([node.key, node.value] if kind is ast.DictComp else [node.elt])
                stack.extend((sub, inner_scope, function, owner) for sub in rest)
            else:
                stack.extend((sub, scope, function, owner) for sub in children(node))
        for scope, elements in self.pending_waits:
            for element in elements:
                if isinstance(element, ast.Call) and self._makes_coroutine(element, scope):
                    self.hit(element, "GW207", "coroutine passed to asyncio.wait() without a task around it")
        for call, function in self.pending_loops:
            if self._no_loop_runs(function):
                where = ("at module level" if function is None else
                         f"in {function.owner + '.' if function.owner else ''}{function.name}(), "
                         "which no coroutine here calls")
                self.hit(call, "GW208", f"asyncio.get_event_loop() {where}: no loop runs there")
        return self.hits

    # -- the rules --------------------------------------------------------------------------------------

    def imports(self, node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name, via_compat = canonical(alias.name)
                code = IMPORT_CODES.get(name.split(".", 1)[0])
                if code:
                    self.hit(node, code, f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""),
                             via_compat)
            return
        assert isinstance(node, ast.ImportFrom)
        if node.level:
            return
        module, via_compat = canonical(node.module or "")
        top = module.split(".", 1)[0]
        if top in IMPORT_CODES:
            names = ", ".join(alias.name for alias in node.names)
            self.hit(node, IMPORT_CODES[top], f"from {node.module} import {names}", via_compat)
            return
        for alias in node.names:
            full, via = canonical(f"{module}.{alias.name}")
            if full in IMPORT_CODES:  # from compat import asyncore
                self.hit(node, IMPORT_CODES[full], f"from {node.module} import {alias.name}", via)
            elif full == "asyncio.JoinableQueue":
                self.hit(node, "GW203", f"from {node.module} import JoinableQueue")
            elif full == f"asyncio.{MASK}" and (node.lineno, node.col_offset) in self.masked:
                self.hit(node, "GW202", "from asyncio import async: a syntax error since 3.7")

    def class_bases(self, node: ast.ClassDef, scope: Scope) -> None:
        for base in node.bases:
            named = qualify(base, scope)
            if named is not None and named[0] in BASE_CODES:
                self.hit(node, BASE_CODES[named[0]], f"class {node.name} derives from {named[0]}", named[1])

    def use(self, node: Any, scope: Scope) -> None:  # an ast.Name or ast.Attribute
        last = node.id if isinstance(node, ast.Name) else node.attr
        if last == MASK and (node.lineno, node.col_offset) in self.masked:
            named = qualify(node, scope)
            if named is not None and named[0] == f"asyncio.{MASK}":
                self.hit(node, "GW202", "asyncio.async(): a syntax error since 3.7")
            return
        if isinstance(node, ast.Name):
            origins = scope.lookup(node.id)
            if not origins or LOCAL in origins:
                return  # the cheap way out for the many names that no import bound
        elif node.attr not in _USE_NAME_TAILS:
            return
        named = qualify(node, scope)
        if named is None or named[0] not in USE_CODES:
            return
        if isinstance(node, ast.Name) and named[0] == "asyncio.JoinableQueue" and scope.lookup(node.id, stars=False):
            return  # reported once, at its `from asyncio import JoinableQueue`
        code, message = USE_CODES[named[0]]
        self.hit(node, code, message, named[1])

    def call(self, node: ast.Call, scope: Scope, function: Optional[_Function]) -> None:
        called = _called_name(node)
        if function is not None and function.under_coroutine:
            self.loop_reachable.add(called)
        if called in _CALLBACK_REGISTRARS:
            for arg in node.args:
                if isinstance(arg, (ast.Name, ast.Attribute)):
                    self.loop_reachable.add(arg.id if isinstance(arg, ast.Name) else arg.attr)
        elif called == "set_event_loop":
            self.sets_loop.add(id(function.node) if function is not None else id(self.tree))
        named = qualify(node.func, scope)
        if named is None:
            if isinstance(node.func, ast.Name) and node.func.id == "getattr" and scope.lookup("getattr") is None:
                self.getattr_async(node, scope)
            return
        name = named[0]
        if name in LOOP_DROPPED:
            for keyword in node.keywords:
                if keyword.arg == "loop":
                    self.hit(keyword.value, "GW206", f"loop= passed to {name}()")
        if name == "asyncio.wait":
            self.wait(node, scope)
        elif name == "asyncio.get_event_loop":
            self.pending_loops.append((node, function))  # decided once the whole module is seen

    def getattr_async(self, node: ast.Call, scope: Scope) -> None:
        """getattr(asyncio, "async"): the spelling that dodged the keyword, and fails from 3.7 all the same."""
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "async":
            owner = qualify(node.args[0], scope)
            if owner is not None and owner[0] == "asyncio":
                self.hit(node, "GW202", 'getattr(asyncio, "async"): asyncio.async is gone since 3.7')

    def wait(self, node: ast.Call, scope: Scope) -> None:
        given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "fs"), None)
        if isinstance(given, (ast.List, ast.Set, ast.Tuple)):
            elements = list(given.elts)
        elif isinstance(given, _COMPREHENSIONS):
            elements = [given.elt]
            scope = self.scope_of(given, scope)
        else:
            return
        self.pending_waits.append((scope, elements))  # coroutine functions defined later count too

    def _makes_coroutine(self, node: ast.Call, scope: Scope) -> bool:
        named = qualify(node.func, scope)
        if named is not None:
            return named[0] in ASYNCIO_COROUTINE_FUNCTIONS
        func = node.func
        if isinstance(func, ast.Name):
            return scope.lookup(func.id) == {LOCAL} and func.id in self.coroutine_names
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            return func.attr in self.coroutine_names and func.attr not in _TASK_MAKERS
        return False

    def _no_loop_runs(self, function: Optional[_Function]) -> bool:
        """GW208's approximation of "no event loop runs here": the call is at module level (or in a class
        body there), or in a plain function that is not nested in a coroutine, is not a method of a
        Protocol/Transport subclass, is not called by name from any coroutine in the module (for __init__:
        its class is not), is not handed to a loop method (call_soon, run_in_executor, ...), and does not
        call set_event_loop itself. Calls across modules are not followed: a helper called only from
        another file's coroutine is reported (its message says which function and why)."""
        if function is None:
            return id(self.tree) not in self.sets_loop
        if function.under_coroutine or function.loop_method:
            return False
        if function.name in self.loop_reachable:
            return False
        if function.name in ("__init__", "__new__") and function.owner in self.loop_reachable:
            return False
        return id(function.node) not in self.sets_loop

    def with_items(self, node: ast.With) -> None:
        for item in node.items:
            expr = item.context_expr
            if isinstance(expr, (ast.YieldFrom, ast.Await)) and isinstance(expr.value, (ast.Name, ast.Attribute)):
                spelled = "yield from" if isinstance(expr, ast.YieldFrom) else "await"
                self.hit(expr, "GW204", f"with ({spelled} lock): a lock acquired the pre-3.9 way")


#: The last component of every name in USE_CODES: a Name or Attribute ending otherwise is skipped cheaply.
_USE_NAME_TAILS: FrozenSet[str] = frozenset(name.rsplit(".", 1)[1] for name in USE_CODES)


def detect(tree: ast.Module, text: str, masked: FrozenSet[Tuple[int, int]] = frozenset()) -> Iterator[Hit]:
    """Every hit in one parsed module. `text` is its source, used only to skip work it cannot need;
    `masked` holds the (line, column) of each `X.async` that tokens.mask_async_attributes masked."""
    return iter(_Detector(tree, text, masked).run())
