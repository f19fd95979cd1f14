"""The libcst pass of `gg-workbench migrate`: one transformer that applies the selected steps.

Names are resolved with libcst's QualifiedNameProvider (through imports and aliases), so a user's
own `coroutine` or `loop` is never taken for asyncio's. Formatting and comments survive because only
the nodes that change are rebuilt.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple, Union

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from workbench.migrate.awaitables import (
    AWAITABLE_FUNCTIONS,
    LOOP_REMOVED,
    METHODS_BY_KIND,
    KnownCoroutines,
    kind_of_call,
    normalize,
)
from workbench.migrate.records import Change, FileResult, Left

__all__ = ["STEPS", "migrate_tree"]

STEPS = ("imports", "coroutines", "bridge")

_LEGACY_DECORATORS = frozenset({"asyncio.coroutine", "asyncio.coroutines.coroutine"})
_COMPAT_DECORATORS = frozenset({"compat.coroutine", "compat.coroutines.coroutine"})
_LEGACY_MODULES = {"asyncore": "GW101", "asynchat": "GW102"}
_DISPATCHERS = {
    "asyncore.dispatcher": "GW104", "asyncore.dispatcher_with_send": "GW104",
    "asyncore.file_dispatcher": "GW104", "asynchat.async_chat": "GW105",
}
_EMPTY = cst.Module(body=[])
_STREAM_PAIRS = frozenset({"asyncio.open_connection", "asyncio.open_unix_connection"})
_SERVERS = frozenset({"asyncio.start_server", "asyncio.start_unix_server"})


def _code(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def _strip_parens(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.with_changes(lpar=[], rpar=[]) if node.lpar else node


class _Frame:
    """One function being transformed: is it a coroutine, and is it being turned into `async def`."""

    def __init__(self, coroutine: bool, legacy_decorator: Optional[int] = None,
                 convert: bool = False, reason: str = "") -> None:
        self.coroutine = coroutine
        self.legacy_decorator = legacy_decorator
        self.convert = convert
        self.reason = reason


class _BodyScan(cst.CSTVisitor):
    """The yields of one function's own body (not of functions or classes nested in it)."""

    def __init__(self) -> None:
        super().__init__()
        self.yields: List[cst.Yield] = []
        self.lock_yields: Set[int] = set()
        self.returns: List[cst.Return] = []
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.depth += 1
        return self.depth == 1

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.yields.append(node)

    def visit_Return(self, node: cst.Return) -> None:
        self.returns.append(node)

    def visit_With(self, node: cst.With) -> None:
        for item in node.items:
            if isinstance(item.item, cst.Yield) and isinstance(item.item.value, cst.From):
                self.lock_yields.add(id(item.item))


_LITERALS = (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString,
             cst.Tuple, cst.List, cst.Dict)


class Migrator(cst.CSTTransformer):
    """Applies the selected steps to one module and records every change and everything left."""

    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, steps: FrozenSet[str], known: KnownCoroutines, result: FileResult) -> None:
        super().__init__()
        self.steps = steps
        self.known = known
        self.result = result
        self.frames: List[_Frame] = []
        self.kinds: Dict[str, Optional[str]] = {}
        self.imports: Set[str] = set()
        #: Functions passed to asyncio.start_server, and the kinds of the current function's parameters.
        self.callbacks: Set[str] = set()
        self.params: List[Dict[str, str]] = [{}]
        #: `from asyncio import coroutine [as name]`: removed when no use of the name is left.
        self.unused: List[Tuple[str, str, Optional[str]]] = []

    # Helpers.

    def _names(self, node: cst.CSTNode) -> Set[str]:
        return {normalize(q.name) for q in self.get_metadata(QualifiedNameProvider, node, set())}

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _change(self, node: cst.CSTNode, code: str, text: str) -> None:
        self.result.changes.append(Change(self._line(node), code, text))

    def _left(self, node: cst.CSTNode, code: str, reason: str) -> None:
        self.result.left.append(Left(self._line(node), code, reason))

    def _in_coroutine(self) -> bool:
        return bool(self.frames) and self.frames[-1].coroutine

    def _converting(self) -> bool:
        return bool(self.frames) and self.frames[-1].convert

    # What is known about values: the kinds of names and attributes assigned from asyncio APIs.

    def _kind(self, expr: cst.BaseExpression) -> Optional[str]:
        if isinstance(expr, cst.Call):
            receiver = expr.func.value if isinstance(expr.func, cst.Attribute) else None
            method = expr.func.attr.value if isinstance(expr.func, cst.Attribute) else None
            return kind_of_call(self._names(expr.func), method, self._kind(receiver) if receiver else None)
        if isinstance(expr, cst.BooleanOperation):
            return self._kind(expr.left) or self._kind(expr.right)
        if isinstance(expr, cst.Name) and expr.value in self.params[-1]:
            return self.params[-1][expr.value]
        if isinstance(expr, (cst.Name, cst.Attribute)):
            return self.kinds.get(_code(expr))
        return None

    def _record_kind(self, target: cst.BaseExpression, kind: Optional[str]) -> None:
        if not isinstance(target, (cst.Name, cst.Attribute)) or kind is None:
            return
        key = _code(target)
        if key in self.kinds and self.kinds[key] != kind:
            kind = None  # assigned two kinds of thing: known as neither
        self.kinds[key] = kind

    def _learn_kinds(self, module: cst.Module) -> None:
        migrator = self

        class Assignments(cst.CSTVisitor):
            def visit_Assign(self, node: cst.Assign) -> None:
                value = node.value
                inner = value.value.item if (isinstance(value, cst.Yield) and isinstance(value.value, cst.From)) \
                    else value.expression if isinstance(value, cst.Await) else None
                awaited = migrator._names(inner.func) if isinstance(inner, cst.Call) else set()
                for target in node.targets:
                    target = target.target
                    if isinstance(target, cst.Tuple) and awaited & _STREAM_PAIRS:
                        elements = [e.value for e in target.elements]
                        for element, kind in zip(elements, ("reader", "writer")):
                            migrator._record_kind(element, kind)
                    elif awaited & _SERVERS:
                        migrator._record_kind(target, "server")
                    else:
                        migrator._record_kind(target, migrator._kind(value))

            def visit_Call(self, node: cst.Call) -> None:
                # A function handed to start_server is called with a StreamReader and a StreamWriter.
                if migrator._names(node.func) & _SERVERS and node.args and isinstance(node.args[0].value, cst.Name):
                    migrator.callbacks.add(node.args[0].value.value)

        # Twice, so that `self.loop = loop or asyncio.get_event_loop()` informs `self.loop.create_task(...)`.
        for _ in range(2):
            module.visit(Assignments())

    def _not_awaitable(self, expr: cst.BaseExpression) -> Optional[str]:
        """None when `yield from expr` certainly awaits an awaitable; otherwise why it is not known to."""
        if isinstance(expr, cst.Call):
            func = expr.func
            if self._names(func) & AWAITABLE_FUNCTIONS:
                return None
            if isinstance(func, cst.Name) and self.known.knows(func.value, method=False):
                return None
            if isinstance(func, cst.Attribute):
                method = func.attr.value
                if self.known.knows(method, method=True):
                    return None
                kind = self._kind(func.value)
                if kind and method in METHODS_BY_KIND.get(kind, ()):
                    return None
        elif self._kind(expr) == "future":
            return None
        return f"`yield from {_code(expr)}` (line {self._line(expr)}) is not known to be awaitable"

    def _decide(self, node: cst.FunctionDef) -> str:
        """Why this generator coroutine cannot become `async def`, or '' when it can."""
        scan = _BodyScan()
        node.visit(scan)
        for found in scan.yields:
            if not isinstance(found.value, cst.From):
                return f"bare `yield` at line {self._line(found)}"
            if id(found) in scan.lock_yields:
                continue
            reason = self._not_awaitable(found.value.item)
            if reason:
                return reason
        if not scan.yields:
            for ret in scan.returns:
                value = ret.value
                if value is not None and not isinstance(value, _LITERALS) and \
                        not (isinstance(value, cst.Name) and value.value in ("None", "True", "False")):
                    return (f"it returns `{_code(value)}` without `yield from` (line {self._line(ret)}): "
                            "@asyncio.coroutine awaited a returned Future or generator, async def would not")
        return ""

    # Module and imports.

    def visit_Module(self, node: cst.Module) -> None:
        if "coroutines" in self.steps and "asyncio" in node.code:
            self._learn_kinds(node)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            module = _code(alias.name)
            if module == "smtpd":
                self._left(node, "GW103", "smtpd has no drop-in copy; aiosmtpd is its replacement, by hand")
            elif module in ("asyncore", "asynchat"):
                self.result.needs.add(module)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.module is None or node.relative:
            return
        module = _code(node.module)
        if module == "smtpd":
            self._left(node, "GW103", "smtpd has no drop-in copy; aiosmtpd is its replacement, by hand")
        elif module in ("asyncore", "asynchat"):
            self.result.needs.add(module)
            self._left(node, _LEGACY_MODULES[module], f"`from {module} import ...` kept: it runs on 3.12+ with "
                       f"py{module} (see the dependencies below); compat has no submodules to import from")
        elif module in ("asyncio", "asyncio.coroutines") and not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.name.value == "coroutine":
                    asname = alias.asname.name.value if alias.asname else None
                    self.unused.append((module, "coroutine", asname))

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
                                  ) -> Union[cst.BaseStatement, cst.FlattenSentinel[cst.BaseStatement]]:
        if "imports" not in self.steps or len(updated.body) != 1 or not isinstance(updated.body[0], cst.Import):
            return updated
        aliases = updated.body[0].names
        legacy = [a for a in aliases if _code(a.name) in ("asyncore", "asynchat")]
        if not legacy:
            return updated
        others = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases if a not in legacy]
        self.result.needs.add("compat")
        for alias in legacy:
            name = _code(alias.name)
            spelled = f" as {alias.asname.name.value}" if alias.asname else ""
            self._change(original, _LEGACY_MODULES[name], f"import {name}{spelled} -> from compat import {name}"
                         f"{spelled} (the stdlib's up to 3.11, py{name} from 3.12)")
        from_compat = cst.ImportFrom(module=cst.Name("compat"), names=[
            cst.ImportAlias(name=cst.Name(_code(a.name)), asname=a.asname) for a in legacy])
        if not others:
            return updated.with_changes(body=[from_compat])
        return cst.FlattenSentinel([updated.with_changes(body=[cst.Import(names=others)]),
                                    cst.SimpleStatementLine(body=[from_compat])])

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for base in node.bases:
            for name in self._names(base.value):
                if name in _DISPATCHERS:
                    self._left(base, _DISPATCHERS[name], f"class {node.name.value} derives from {name}: it runs "
                               "unchanged on 3.8-3.13 with the dependencies below, or inside asyncio with "
                               "compat.bridge")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if "asyncore.socket_map" in self._names(node):
            self._left(node, "GW107", "asyncore.socket_map used directly: left as it is, the map that "
                       "asyncore.loop(map=None) serves (compat.bridge.loop takes the same arguments)")

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        if "coroutines" in self.steps and "asyncio.JoinableQueue" in self._names(original):
            self._change(original, "GW203", "asyncio.JoinableQueue -> asyncio.Queue")
            return updated.with_changes(attr=cst.Name("Queue"))
        return updated

    # Coroutine functions.

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        params: Dict[str, str] = {}
        if node.name.value in self.callbacks and len(node.params.params) >= 2:
            first, second = node.params.params[-2:] if node.params.params[0].name.value == "self" \
                else node.params.params[:2]
            params = {first.name.value: "reader", second.name.value: "writer"}
        self.params.append(params)
        legacy = None
        compat = False
        for index, decorator in enumerate(node.decorators):
            names = self._names(decorator.decorator)
            if names & _LEGACY_DECORATORS:
                legacy = index
            compat = compat or bool(names & _COMPAT_DECORATORS)
        if legacy is not None and "coroutines" in self.steps:
            reason = self._decide(node)
            self.frames.append(_Frame(True, legacy, convert=not reason, reason=reason))
        else:
            self.frames.append(_Frame(node.asynchronous is not None or compat or legacy is not None))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        frame = self.frames.pop()
        self.params.pop()
        if frame.legacy_decorator is None:
            return updated
        name = original.name.value
        decorators = list(updated.decorators)
        index = frame.legacy_decorator
        if frame.convert:
            self.result.converted.append(name)
            self._change(original, "GW201", f"{name}: @asyncio.coroutine generator -> async def with await")
            removed = decorators.pop(index)
            lines_after = updated.lines_after_decorators
            if removed.leading_lines:
                if index < len(decorators):
                    decorators[index] = decorators[index].with_changes(
                        leading_lines=[*removed.leading_lines, *decorators[index].leading_lines])
                else:
                    lines_after = [*removed.leading_lines, *lines_after]
            return updated.with_changes(decorators=decorators, asynchronous=cst.Asynchronous(),
                                        lines_after_decorators=lines_after)
        self.result.fallback.append(name)
        self.result.needs.add("compat")
        self.imports.add("compat")
        self._change(original, "GW201", f"{name}: @asyncio.coroutine -> @compat.coroutine, kept as a generator "
                     f"because {frame.reason}")
        decorators[index] = decorators[index].with_changes(
            decorator=cst.Attribute(value=cst.Name("compat"), attr=cst.Name("coroutine")))
        return updated.with_changes(decorators=decorators)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.frames.append(_Frame(False))

    def leave_Lambda(self, original: cst.Lambda, updated: cst.Lambda) -> cst.Lambda:
        self.frames.pop()
        return updated

    def leave_Yield(self, original: cst.Yield, updated: cst.Yield) -> cst.BaseExpression:
        if self._converting() and isinstance(updated.value, cst.From):
            return cst.Await(expression=updated.value.item, lpar=updated.lpar, rpar=updated.rpar)
        return updated

    def leave_With(self, original: cst.With, updated: cst.With
                   ) -> Union[cst.BaseStatement, cst.FlattenSentinel[cst.BaseStatement]]:
        if "coroutines" not in self.steps or len(original.items) != 1 or not self._in_coroutine():
            return updated
        item = original.items[0].item
        legacy = isinstance(item, cst.Yield) and isinstance(item.value, cst.From)
        if not (legacy or isinstance(item, cst.Await)) or original.asynchronous is not None:
            return updated
        new_item = updated.items[0].item
        if self._converting() or isinstance(item, cst.Await):
            lock = new_item.expression if isinstance(new_item, cst.Await) else new_item
            self._change(original, "GW204", f"with {_code(item)} -> async with {_code(lock)}")
            # `with (await lock):` parses with the parentheses on the With itself.
            return updated.with_changes(
                asynchronous=cst.Asynchronous(), lpar=cst.MaybeSentinel.DEFAULT, rpar=cst.MaybeSentinel.DEFAULT,
                items=[updated.items[0].with_changes(item=_strip_parens(lock))])
        lock = new_item.value.item
        if original.items[0].asname is not None or not isinstance(lock, (cst.Name, cst.Attribute)):
            self._left(original, "GW204", f"with {_code(item)} in a generator coroutine: rewrite by hand "
                       "as acquire() and try/finally release()")
            return updated
        self._change(original, "GW204", f"with {_code(item)} -> yield from {_code(lock)}.acquire() "
                     "and try/finally release()")
        acquire = cst.SimpleStatementLine(
            body=[cst.Expr(cst.Yield(value=cst.From(item=cst.Call(
                func=cst.Attribute(value=lock, attr=cst.Name("acquire"))))))],
            leading_lines=updated.leading_lines)
        release = cst.SimpleStatementLine(
            body=[cst.Expr(cst.Call(func=cst.Attribute(value=lock, attr=cst.Name("release"))))])
        guarded = cst.Try(body=updated.body, finalbody=cst.Finally(body=cst.IndentedBlock(body=[release])))
        return cst.FlattenSentinel([acquire, guarded])

    # Calls.

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        names = self._names(original.func)
        if "coroutines" in self.steps:
            updated = self._drop_loop(original, updated, names)
            updated = self._current_task(original, updated, names)
            updated = self._running_loop(original, updated, names)
            updated = self._wait_on_coroutines(original, updated, names)
        if "asyncio.JoinableQueue" in names and isinstance(original.func, cst.Name):
            self._left(original, "GW203", "JoinableQueue imported by name: import and call asyncio.Queue")
        if "asyncore.loop" in names:
            if "bridge" in self.steps:
                self.imports.add("compat.bridge")
                self.result.needs.add("compat")
                self._change(original, "GW106", "asyncore.loop(...) -> compat.bridge.loop(...): the dispatchers "
                             "run on asyncio")
                return updated.with_changes(func=cst.Attribute(
                    value=cst.Attribute(value=cst.Name("compat"), attr=cst.Name("bridge")), attr=cst.Name("loop")))
            self._left(original, "GW106", "asyncore.loop kept (the bridge step moves it onto asyncio)")
        return updated

    def _drop_loop(self, original: cst.Call, updated: cst.Call, names: Set[str]) -> cst.Call:
        api = names & LOOP_REMOVED
        if not api:
            return updated
        args = list(updated.args)
        for index, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == "loop":
                del args[index]
                if index == len(args) and args:
                    args[-1] = args[-1].with_changes(comma=arg.comma)
                self._change(original, "GW206", f"loop= dropped from {min(api)}() (removed in 3.10)")
                return updated.with_changes(args=args)
        return updated

    def _current_task(self, original: cst.Call, updated: cst.Call, names: Set[str]) -> cst.Call:
        for method in ("current_task", "all_tasks"):
            if not names & {f"asyncio.Task.{method}", f"asyncio.tasks.Task.{method}"}:
                continue
            func = updated.func
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Attribute):
                self._change(original, "GW205", f"Task.{method}() -> asyncio.{method}()")
                return updated.with_changes(func=func.with_changes(value=func.value.value))
            self._left(original, "GW205", f"Task.{method}() through an imported Task: write asyncio.{method}()")
        return updated

    def _running_loop(self, original: cst.Call, updated: cst.Call, names: Set[str]) -> cst.Call:
        if "asyncio.get_event_loop" not in names:
            return updated
        if not self._in_coroutine():
            self._left(original, "GW208", "get_event_loop() outside a coroutine: no running loop to take "
                       "(create one with asyncio.new_event_loop() or use asyncio.run())")
            return updated
        if updated.args or not isinstance(updated.func, cst.Attribute):
            self._left(original, "GW208", "get_event_loop() in a coroutine, called through an imported name: "
                       "write asyncio.get_running_loop()")
            return updated
        self._change(original, "GW208", "get_event_loop() in a coroutine -> get_running_loop()")
        return updated.with_changes(func=updated.func.with_changes(attr=cst.Name("get_running_loop")))

    def _wait_on_coroutines(self, original: cst.Call, updated: cst.Call, names: Set[str]) -> cst.Call:
        # asyncio.wait() wrapped bare coroutines in tasks itself until 3.11: doing it here changes nothing else.
        if "asyncio.wait" not in names or not original.args:
            return updated
        first = original.args[0].value
        if not isinstance(first, (cst.List, cst.Tuple, cst.Set)):
            return updated
        bare = [isinstance(e.value, cst.Call) and self._not_awaitable(e.value) is None
                and self._kind(e.value) != "future" for e in first.elements]
        if not any(bare):
            return updated
        if not isinstance(updated.func, cst.Attribute):
            self._left(original, "GW207", "asyncio.wait() given coroutines (an error from 3.11), through an "
                       "imported name: wrap each one in asyncio.ensure_future()")
            return updated
        module = updated.func.value
        container = updated.args[0].value
        elements = [e.with_changes(value=cst.Call(func=cst.Attribute(value=module, attr=cst.Name("ensure_future")),
                                                  args=[cst.Arg(value=e.value)])) if wrap else e
                    for e, wrap in zip(container.elements, bare)]
        self._change(original, "GW207", f"{sum(bare)} coroutine(s) given to asyncio.wait() wrapped in ensure_future()")
        args = list(updated.args)
        args[0] = args[0].with_changes(value=container.with_changes(elements=elements))
        return updated.with_changes(args=args)


def migrate_tree(module: cst.Module, steps: Sequence[str], known: KnownCoroutines,
                 result: FileResult) -> cst.Module:
    """Apply the steps to a parsed module, recording into `result`; returns the new module."""
    migrator = Migrator(frozenset(steps), known, result)
    new = MetadataWrapper(module, unsafe_skip_copy=True).visit(migrator)
    if "coroutines" in steps and migrator.unused:
        # asyncio.coroutine is gone from 3.11: the import itself fails there once nothing uses it.
        context = CodemodContext()
        for module, name, asname in migrator.unused:
            RemoveImportsVisitor.remove_unused_import(context, module, name, asname)
        new = RemoveImportsVisitor(context).transform_module(new)
    if migrator.imports:
        context = CodemodContext()
        for name in sorted(migrator.imports):
            AddImportsVisitor.add_needed_import(context, name)
        new = AddImportsVisitor(context).transform_module(new)
    result.changes.sort(key=lambda c: (c.line, c.code))
    result.left.sort(key=lambda item: (item.line, item.code))
    return new

