"""`asyncio.async(...)` from the token stream: since 3.7 no parser accepts it, so the syntax tree never sees it.

`mask_async_attributes` finds every `NAME . async` in the tokens and returns the source with each such
`async` replaced by an identifier of the same length, so that the rest of the file parses with every
line and column where it was; the positions it masked come back with it. A file whose tokens cannot be
read to the end gives the positions found up to that point: never an exception.
"""
from __future__ import annotations

import io
import tokenize
from typing import List, Set, Tuple

__all__ = ["MASK", "asyncio_names", "mask_async_attributes", "read_tokens"]

#: Same length as `async`, so that columns after it stay put.
MASK = "ASYNC"
#: Tokens that never change what a statement means.
_NOISE = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.ENCODING})


def read_tokens(text: str) -> List[tokenize.TokenInfo]:
    found: List[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            found.append(token)
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # an unterminated string or a bad dedent: keep what came before it
    return found


def asyncio_names(tokens: List[tokenize.TokenInfo]) -> Set[str]:
    """Names that `import asyncio` / `import asyncio as NAME` bind, read from the tokens."""
    names: Set[str] = set()
    strings = [token.string for token in tokens]
    for index, token in enumerate(tokens):
        if token.type == tokenize.NAME and token.string == "import" and strings[index + 1:index + 2] == ["asyncio"]:
            if strings[index + 2:index + 3] == ["as"] and index + 3 < len(tokens):
                names.add(strings[index + 3])
            else:
                names.add("asyncio")
    return names


def mask_async_attributes(text: str) -> Tuple[str, List[Tuple[int, int, str]]]:
    """The source with `async` masked where 3.7+ rejects it as a name, and [(line, column, owner)] for
    each place masked, at the position the syntax tree will give that node:

    - `X.async` (owner X, at X's start),
    - `from asyncio import async` (owner "from asyncio import", at `from`),
    - `async(...)` called as a plain name after such an import (owner "", at `async`).
    """
    tokens = [token for token in read_tokens(text) if token.type not in _NOISE]
    masked: List[Tuple[int, int, str]] = []
    lines = text.splitlines(keepends=True)
    statement_start = 0  # index of the first token of the current logical line
    imported_as_name = False
    for index, token in enumerate(tokens):
        if token.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            statement_start = index + 1
            continue
        if token.type != tokenize.NAME or token.string != "async":
            continue
        before = tokens[index - 1] if index else None
        after = tokens[index + 1] if index + 1 < len(tokens) else None
        head = [t.string for t in tokens[statement_start:statement_start + 3]]
        if before is not None and before.string == "." and index >= 2 and tokens[index - 2].type == tokenize.NAME:
            owner = tokens[index - 2]
            where: Tuple[int, int, str] = (owner.start[0], owner.start[1], owner.string)
        elif head == ["from", "asyncio", "import"] and before is not None and before.string in ("import", ",", "("):
            first = tokens[statement_start]
            where = (first.start[0], first.start[1], "from asyncio import")
            imported_as_name = True
        elif imported_as_name and after is not None and after.string == "(" and (
                before is None or before.string not in (".", "def")):
            where = (token.start[0], token.start[1], "")
        else:
            continue
        row, col = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + MASK + line[col + len("async"):]
        masked.append(where)
    return "".join(lines), masked
