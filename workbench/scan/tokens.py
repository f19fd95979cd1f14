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

__all__ = ["MASK", "asyncio_names", "mask_async_attributes"]

#: Same length as `async`, so that columns after it stay put.
MASK = "ASYNC"


def _tokens(text: str) -> List[tokenize.TokenInfo]:
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
    """(the source with `X.async` masked, [(line, column of `X`, X) for each masked attribute])."""
    tokens = _tokens(text)
    masked: List[Tuple[int, int, str]] = []
    lines = text.splitlines(keepends=True)
    for index in range(2, len(tokens)):
        token = tokens[index]
        if token.type != tokenize.NAME or token.string != "async":
            continue
        dot, owner = tokens[index - 1], tokens[index - 2]
        if dot.type != tokenize.OP or dot.string != "." or owner.type != tokenize.NAME:
            continue
        row, col = token.start
        line = lines[row - 1]
        lines[row - 1] = line[:col] + MASK + line[col + len("async"):]
        masked.append((owner.start[0], owner.start[1], owner.string))
    return "".join(lines), masked
