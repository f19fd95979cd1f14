"""The examples as a set: every one in every style, the same arguments everywhere, the bridge steps small.

Also the helper the per-example tests share: `run_in_process` runs one example's main() in a thread
against an in-process reference server, with its scripted counterpart from workbench.run, and returns
what it printed. Each test of the examples runs them that way (fast, and a hang fails instead of hanging).
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import re
import threading
from types import ModuleType
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import pytest

from gadu.server import ServerThread
from gadu.server.config import ServerConfig
from workbench.diff import diff_example, render_unified
from workbench.examples import STYLES, Examples
from workbench.run import SCENARIOS, Console, CounterpartThread, OutputWatch, tapped_stdout

EXAMPLES = Examples()
NAMES = ["echo_bot", "echo_server", "fan_out", "faux_sync", "presence_watch"]
STYLE_NAMES = [style.name for style in STYLES]
#: A run that takes longer than this has hung: the test fails rather than waits.
DEADLINE = 20.0


def module_of(name: str, style: str) -> ModuleType:
    path = EXAMPLES.path(name, style)
    dotted = ".".join(path.relative_to(EXAMPLES.root).with_suffix("").parts)
    return importlib.import_module(dotted)


@contextlib.contextmanager
def reference_server() -> Iterator[Tuple[str, int]]:
    with ServerThread(ServerConfig(port=0)) as server:
        yield ("127.0.0.1", server.port)


def run_in_process(
    name: str,
    style: str,
    argv: Sequence[str],
    *,
    counterpart: Any = None,
    address: Optional[Tuple[str, int]] = None,
    counterpart_ends: bool = True,
    starts_first: bool = False,
) -> Tuple[int, List[str], Optional[CounterpartThread]]:
    """main(argv) of one example in a thread, its output captured line by line; (exit code, lines, counterpart).

    `counterpart` is a workbench.run counterpart coroutine function (or None); it gets the example's parsed
    arguments and its output, as under `gg-workbench run`; the example starts once it is ready if it
    `starts_first`. One that never `counterpart_ends` by itself is stopped as soon as the example has ended.
    """
    module = module_of(name, style)
    watch = OutputWatch()
    played: Optional[CounterpartThread] = None
    if counterpart is not None:
        args = module.parse_args(list(argv))
        played = CounterpartThread(functools.partial(counterpart, address, args, watch, Console(io.StringIO())))
        played.start()
        if starts_first:
            assert played.ready.wait(DEADLINE), "the counterpart never got ready"
    codes: List[Any] = []
    with tapped_stdout(watch.feed, io.StringIO()):
        worker = threading.Thread(target=lambda: codes.append(module.main(list(argv))), daemon=True)
        worker.start()
        worker.join(DEADLINE)
    try:
        assert not worker.is_alive(), f"{name} ({style}) did not end within {DEADLINE} s: {watch.lines}"
        assert codes, f"{name} ({style}) raised instead of returning an exit code: {watch.lines}"
    finally:
        if played is not None:
            if counterpart_ends:
                played.join(DEADLINE)
            played.stop()
            played.join()
    return codes[0], watch.lines, played


def run_scenario(name: str, style: str, *more: str) -> Tuple[int, List[str], Optional[CounterpartThread]]:
    """The example as `gg-workbench run` runs it (its scenario's arguments and counterpart), plus `more`."""
    scenario = SCENARIOS[name]
    with reference_server() as address:
        argv = scenario.arguments(address) + list(more)
        return run_in_process(name, style, argv, counterpart=scenario.counterpart, address=address,
                              starts_first=scenario.starts_first)


# The set of examples.

def test_every_example_exists_in_every_style():
    assert EXAMPLES.names() == NAMES
    for name, present in EXAMPLES.table():
        assert all(present), f"{name} is missing in {[s for s, p in zip(STYLE_NAMES, present) if not p]}"


@pytest.mark.parametrize("name", NAMES)
def test_every_style_takes_the_same_arguments(name):
    """The argparse block is the same text in every style, so that a diff shows the style and nothing else."""
    blocks = {style: inspect.getsource(module_of(name, style).parse_args) for style in STYLE_NAMES}
    assert len(set(blocks.values())) == 1, f"parse_args differs across styles of {name}"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("style", STYLE_NAMES)
def test_each_example_is_a_small_complete_program(name, style):
    module = module_of(name, style)
    source = inspect.getsource(module)
    assert module.__doc__ and module.__doc__.strip(), "a module opens with what it holds"
    assert "main" in module.__all__ and callable(module.main)
    assert 'if __name__ == "__main__":\n    sys.exit(main())' in source
    assert len(source.splitlines()) <= 125, "an example is read in one screen or two at most"
    if style.startswith("yieldfrom"):
        assert "loop" in inspect.signature(module.main).parameters, "trace hands the yield-from examples a loop"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "echo_server"])
def test_a_bad_server_address_is_a_clear_usage_error(name, capsys):
    module = module_of(name, "aio")
    with pytest.raises(SystemExit) as stopped:
        module.parse_args(["--server", "no-port-here"])
    assert stopped.value.code == 2
    assert "expected HOST:PORT" in capsys.readouterr().err


def test_a_bad_port_for_the_echo_server_is_a_clear_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        module_of("echo_server", "callbacks").parse_args(["--port", "70000"])
    assert stopped.value.code == 2
    assert "expected 0 to 65535" in capsys.readouterr().err


def _diff_lines(name: str, old: str, new: str) -> List[str]:
    text = render_unified(diff_example(EXAMPLES, name, old, new), color=False)
    return [line for line in text.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


@pytest.mark.parametrize("name", NAMES)
def test_the_bridge_steps_change_a_few_lines(name):
    """dispatcher -> dispatcher@asyncio and yieldfrom -> yieldfrom@asyncio keep the code and change its loop."""
    dispatcher = _diff_lines(name, "dispatcher", "dispatcher@asyncio")
    yieldfrom = _diff_lines(name, "yieldfrom", "yieldfrom@asyncio")
    assert len(dispatcher) <= 24, dispatcher
    assert len(yieldfrom) <= 8, yieldfrom  # the docstring's style paragraph, and one import
    assert not any(re.match(r"[+-]\s+(def|class) ", line) and "main" not in line and name not in line
                   for line in dispatcher), "the bridge step changes no class or handler"


def test_the_migration_notes_fire_beside_the_code_for_echo_bot():
    """Each step of the path shows the note of the construct it replaces."""
    path = {(old, new): render_unified(diff_example(EXAMPLES, "echo_bot", old, new), color=False)
            for old, new in [("dispatcher", "dispatcher@asyncio"), ("yieldfrom", "yieldfrom@asyncio"),
                             ("dispatcher@asyncio", "yieldfrom@asyncio"), ("yieldfrom@asyncio", "aio"),
                             ("callbacks", "aio")]}
    assert "compat.bridge.AsyncioBridge" in path[("dispatcher", "dispatcher@asyncio")]
    assert "through compat.coroutine" in path[("yieldfrom", "yieldfrom@asyncio")]
    assert "a loop over the client's events" in path[("dispatcher@asyncio", "yieldfrom@asyncio")]
    assert "@coroutine + yield from -> async def + await" in path[("yieldfrom@asyncio", "aio")]
    assert "callback(result, error) -> a Future" in path[("callbacks", "aio")]
