"""The binding pass: what each name in a module is bound to, so that rules match what code means.

A scope (module, class, function, lambda, comprehension) maps each name bound in it to the set of its
origins: the dotted name an import gave it (`import asyncore as a` binds `a` to "asyncore"), or LOCAL
for any other binding (assignment, parameter, def, class, for, with, except, ...). Lookups follow
Python's rules (a class body is not seen from its methods; `global` goes to the module). A name with a
local binding anywhere in its scope is the user's own, whatever else binds it: no rule fires on it.
Only the standard library's `ast` is used; nothing is imported or run.
"""
from __future__ import annotations

import ast
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

__all__ = ["LOCAL", "Scope", "canonical", "children", "collect_scope", "qualify"]

#: The origin of a name bound by anything but an import.
LOCAL = ""

#: asyncio's submodules: `asyncio.tasks.wait` is `asyncio.wait` for every rule.
ASYNCIO_SUBMODULES = frozenset({
    "base_events", "base_futures", "base_subprocess", "base_tasks", "coroutines", "events", "exceptions",
    "futures", "locks", "proactor_events", "protocols", "queues", "runners", "selector_events", "streams",
    "subprocess", "tasks", "timeouts", "transports", "unix_events", "windows_events",
})

#: Names that `from M import *` brings in and that a rule cares about (only these are resolved).
STAR_NAMES: Dict[str, FrozenSet[str]] = {
    "asyncore": frozenset({"dispatcher", "dispatcher_with_send", "file_dispatcher", "loop", "socket_map"}),
    "asynchat": frozenset({"async_chat"}),
    "asyncio": frozenset({"coroutine", "JoinableQueue", "Task", "wait", "get_event_loop", "sleep", "gather",
                          "wait_for", "shield", "as_completed", "Queue", "LifoQueue", "PriorityQueue", "Lock",
                          "Event", "Condition", "Semaphore", "BoundedSemaphore", "open_connection",
                          "start_server", "open_unix_connection", "start_unix_server",
                          "create_subprocess_exec", "create_subprocess_shell"}),
}

_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda,
                ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_MATCH_BINDERS = tuple(getattr(ast, name) for name in ("MatchAs", "MatchStar") if hasattr(ast, name))
_MATCH_MAPPING = getattr(ast, "MatchMapping", None)


#: For each node type, the fields that may hold child nodes (expression contexts are left out: leaves
#: that every Name and Attribute carries). Faster than ast.iter_child_nodes, which asks every field.
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


def children(node: ast.AST) -> List[ast.AST]:
    """The child nodes of `node`, in field order."""
    kind = type(node)
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in ("ctx", "type_comment"))
    found: List[ast.AST] = []
    for field in fields:
        value = getattr(node, field, None)
        if isinstance(value, list):
            found.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


class Scope:
    """The names bound in one scope, and the way up to the scopes a lookup may continue in."""

    __slots__ = ("declared_global", "is_class", "names", "node", "parent", "stars")

    def __init__(self, node: ast.AST, parent: Optional[Scope]) -> None:
        self.node = node
        self.parent = parent
        self.is_class = isinstance(node, ast.ClassDef)
        self.names: Dict[str, Set[str]] = {}
        self.declared_global: Set[str] = set()
        self.stars: List[str] = []  # modules star-imported here

    def bind(self, name: str, origin: str) -> None:
        self.names.setdefault(name, set()).add(origin)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str, stars: bool = True) -> Optional[Set[str]]:
        """The origins of `name` as seen from code in this scope; None for a builtin or an unbound name
        (or, with stars=False, for a name that only a `from M import *` provides)."""
        scope: Optional[Scope] = self
        first = True
        while scope is not None:
            if name in scope.declared_global:
                scope = scope.module()
                first = True
                continue
            # Code in a function does not see the names of a class it is nested in.
            if first or not scope.is_class:
                origins = scope.names.get(name)
                if origins is not None:
                    return origins
                for module in scope.stars if stars else ():
                    if name in STAR_NAMES.get(module, ()):
                        return {f"{module}.{name}"}
            first = False
            scope = scope.parent
        return None


def _bind_target(scope: Scope, node: ast.AST) -> None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            scope.bind(sub.id, LOCAL)


def _bind_arguments(scope: Scope, args: ast.arguments) -> None:
    every = list(getattr(args, "posonlyargs", [])) + list(args.args) + list(args.kwonlyargs)
    every += [arg for arg in (args.vararg, args.kwarg) if arg is not None]
    for arg in every:
        scope.bind(arg.arg, LOCAL)


def _binding_fields() -> Dict[type, Tuple[str, ...]]:
    fields: Dict[type, Tuple[str, ...]] = {
        ast.Assign: ("targets",), ast.AugAssign: ("target",), ast.AnnAssign: ("target",),
        ast.Delete: ("targets",), ast.For: ("target", "body", "orelse"), ast.AsyncFor: ("target", "body", "orelse"),
        ast.While: ("body", "orelse"), ast.If: ("body", "orelse"), ast.With: ("items", "body"),
        ast.AsyncWith: ("items", "body"), ast.withitem: ("optional_vars",),
        ast.Try: ("body", "handlers", "orelse", "finalbody"), ast.ExceptHandler: ("body",),
    }
    for name, kept in (("TryStar", ("body", "handlers", "orelse", "finalbody")), ("Match", ("cases",)),
                       ("match_case", ("pattern", "body")), ("TypeAlias", ("name",))):
        if hasattr(ast, name):
            fields[getattr(ast, name)] = kept
    return fields


#: Without `:=` in a file, names are bound only by statements, and only in these fields of them: the
#: scope pass follows just these and skips every other expression (a statement not listed binds nothing
#: but its own name or imports, handled apart).
_BINDING_FIELDS = _binding_fields()
_STATEMENT_LIKE = (ast.stmt, ast.excepthandler, ast.withitem, *(
    [ast.match_case] if hasattr(ast, "match_case") else []))


def collect_scope(node: ast.AST, parent: Optional[Scope], walrus: bool = True) -> Scope:
    """The bindings of the scope that `node` opens (a Module or one of the scope nodes). `walrus=False`
    promises that the source has no `:=`, so that expressions need not be searched for bindings."""
    scope = Scope(node, parent)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        _bind_arguments(scope, node.args)
        body: List[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        body = []
        for generator in node.generators:
            _bind_target(scope, generator.target)
            body.extend(generator.ifs)
        body.extend([node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt])
        # The first iterable is evaluated in the enclosing scope; the later ones here.
        body.extend(generator.iter for generator in node.generators[1:])
    else:
        assert isinstance(node, (ast.Module, ast.ClassDef)), node
        body = list(node.body)
    stack = body[::-1]
    while stack:
        sub = stack.pop()
        if isinstance(sub, ast.Name):
            if not isinstance(sub.ctx, ast.Load):
                scope.bind(sub.id, LOCAL)
            continue
        if isinstance(sub, ast.Import):
            for alias in sub.names:
                if alias.asname:
                    scope.bind(alias.asname, alias.name)
                else:
                    first = alias.name.split(".", 1)[0]
                    scope.bind(first, first)
            continue
        if isinstance(sub, ast.ImportFrom):
            module = "." * (sub.level or 0) + (sub.module or "")
            for alias in sub.names:
                if alias.name == "*":
                    scope.stars.append(module)
                else:
                    scope.bind(alias.asname or alias.name, f"{module}.{alias.name}")
            continue
        if isinstance(sub, (ast.Global, ast.Nonlocal)):
            if isinstance(sub, ast.Global):
                scope.declared_global.update(sub.names)
            continue
        if isinstance(sub, _SCOPE_NODES):
            # Its name (if any) is bound here; decorators, defaults and bases run here; its body does not.
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.bind(sub.name, LOCAL)
                stack.extend(sub.decorator_list)
                if isinstance(sub, ast.ClassDef):
                    stack.extend(sub.bases)
                    stack.extend(keyword.value for keyword in sub.keywords)
                else:
                    stack.extend(d for d in sub.args.defaults + sub.args.kw_defaults if d is not None)
            elif isinstance(sub, ast.Lambda):
                stack.extend(d for d in sub.args.defaults + sub.args.kw_defaults if d is not None)
            else:
                stack.append(sub.generators[0].iter)
            continue
        if isinstance(sub, ast.ExceptHandler) and sub.name:
            scope.bind(sub.name, LOCAL)
        elif _MATCH_BINDERS and isinstance(sub, _MATCH_BINDERS) and getattr(sub, "name", None):
            scope.bind(sub.name, LOCAL)
        elif _MATCH_MAPPING is not None and isinstance(sub, _MATCH_MAPPING) and sub.rest:
            scope.bind(sub.rest, LOCAL)
        if not walrus and isinstance(sub, _STATEMENT_LIKE):
            for field in _BINDING_FIELDS.get(type(sub), ()):
                value = getattr(sub, field)
                if isinstance(value, list):
                    stack.extend(value)
                elif value is not None:
                    stack.append(value)
            continue
        stack.extend(children(sub))
    if isinstance(node, ast.ClassDef):
        scope.names.setdefault("__class__", set()).add(LOCAL)
    return scope


def canonical(dotted: str) -> Tuple[str, bool]:
    """The name a rule knows, and whether it was reached through `compat` (which keeps it working).

    "compat.asyncore.loop" -> ("asyncore.loop", True); "asyncio.tasks.wait" -> ("asyncio.wait", False).
    """
    via_compat = False
    if dotted.startswith("compat.asyncore") or dotted.startswith("compat.asynchat"):
        dotted = dotted[len("compat."):]
        via_compat = True
    if dotted.startswith("asyncio."):
        parts = dotted.split(".")
        if len(parts) > 2 and parts[1] in ASYNCIO_SUBMODULES:
            dotted = ".".join([parts[0], *parts[2:]])
        elif len(parts) == 2 and parts[1] in ASYNCIO_SUBMODULES:
            dotted = "asyncio"
    return dotted, via_compat


def qualify(node: ast.AST, scope: Scope) -> Optional[Tuple[str, bool]]:
    """The canonical dotted name an expression refers to, if it is a chain of attributes on an imported
    name whose every binding agrees; None for anything local, computed or ambiguous."""
    attrs: List[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    origins = scope.lookup(node.id)
    if not origins or LOCAL in origins:
        return None
    suffix = "".join("." + attr for attr in reversed(attrs))
    names = {canonical(origin + suffix) for origin in origins}
    targets = {name for name, _ in names}
    if len(targets) != 1:
        return None
    return targets.pop(), any(via for _, via in names)
