"""The token-level pass that runs before any parser: `asyncio.async` to `asyncio.ensure_future`.

`async` became a keyword in 3.7, so a file that still says `asyncio.async(...)` parses with no
current parser (libcst's included); the tokenizer still reads it, as a NAME, and that is enough.
"""
from __future__ import annotations

import io
import re
import tokenize
from typing import List, NamedTuple, Set, Tuple

__all__ = ["TokenEdit", "fix_asyncio_async"]

_ALIAS = re.compile(r"^\s*import\s+asyncio\s+as\s+([A-Za-z_]\w*)", re.MULTILINE)


class TokenEdit(NamedTuple):
    """One `async` attribute renamed: where (1-based line, 0-based column) it stood."""

    line: int
    col: int


def _module_names(source: str) -> Set[str]:
    # The names asyncio is bound to; the token pass runs before any tree exists to bind them properly.
    return {"asyncio", *_ALIAS.findall(source)}


def fix_asyncio_async(source: str) -> Tuple[str, List[TokenEdit]]:
    """Return the source with every `asyncio.async` replaced by `asyncio.ensure_future`, and the edits.

    A source the tokenizer cannot read comes back unchanged with no edits; the parser reports it.
    """
    names = _module_names(source)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source, []
    edits: List[TokenEdit] = []
    for first, dot, attr in zip(tokens, tokens[1:], tokens[2:]):
        if (first.type == tokenize.NAME and first.string in names and dot.string == "."
                and attr.type == tokenize.NAME and attr.string == "async"
                and dot.start == first.end and attr.start == dot.end):
            edits.append(TokenEdit(*attr.start))
    if not edits:
        return source, []
    lines = source.splitlines(keepends=True)
    for line, col in reversed(edits):
        text = lines[line - 1]
        lines[line - 1] = text[:col] + "ensure_future" + text[col + len("async"):]
    return "".join(lines), edits
