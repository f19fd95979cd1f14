"""The token pass: `asyncio.async` is found from tokens, in files no parser reads, and nothing else is."""
from __future__ import annotations

from workbench.migrate.tokens import TokenEdit, fix_asyncio_async


def test_call_and_bare_reference_are_renamed():
    source = "import asyncio\nt = asyncio.async(f())\nensure = asyncio.async\n"
    fixed, edits = fix_asyncio_async(source)
    assert fixed == "import asyncio\nt = asyncio.ensure_future(f())\nensure = asyncio.ensure_future\n"
    assert edits == [TokenEdit(2, 12), TokenEdit(3, 17)]


def test_an_alias_of_asyncio_is_followed():
    fixed, edits = fix_asyncio_async("import asyncio as aio\naio.async(x)\n")
    assert fixed == "import asyncio as aio\naio.ensure_future(x)\n" and len(edits) == 1


def test_lookalikes_are_left_alone():
    source = "import asyncio\nx = other.async(1)\ny = asyncio.async_\ns = 'asyncio.async('\n# asyncio.async(\n"
    assert fix_asyncio_async(source) == (source, [])


def test_untokenizable_source_comes_back_unchanged():
    source = "x = (\n"
    assert fix_asyncio_async(source) == (source, [])
