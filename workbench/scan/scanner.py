"""One file at a time: read, decode, parse (falling back to the token stream), detect, and say why not.

`scan_source` never raises for bad input: a file that cannot be decoded or parsed comes back with its
reason and whatever the token stream still showed (GW202). Nothing is imported or run.
"""
from __future__ import annotations

import ast
import io
import tokenize
import warnings
from typing import List, NamedTuple, Optional, Tuple

from .detect import Hit, detect
from .tokens import asyncio_names, mask_async_attributes, read_tokens

__all__ = ["TRIGGERS", "FileResult", "scan_bytes", "scan_source"]

#: Every rule needs one of these modules imported: a file that mentions none is parsed but not walked.
TRIGGERS: Tuple[str, ...] = ("asyncore", "asynchat", "smtpd", "asyncio")


class FileResult(NamedTuple):
    hits: List[Hit]
    parsed: bool
    lines: int
    error: Optional[str]  # why it could not be read, decoded or parsed


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences and the like are not ours to report
        return ast.parse(text)


def _columns(hits: List[Hit], text: str) -> List[Hit]:
    """ast counts columns in UTF-8 bytes; a reader counts characters."""
    lines = None
    fixed = []
    for hit in hits:
        if hit.col:
            if lines is None:
                lines = text.splitlines()
            line = lines[hit.line - 1] if hit.line - 1 < len(lines) else ""
            if not line.isascii():
                hit = hit._replace(col=len(line.encode("utf-8")[:hit.col].decode("utf-8", "replace")))
        fixed.append(hit)
    return fixed


def scan_source(text: str) -> FileResult:
    """The hits in one module's source text."""
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if "\x00" in text:
        # No Python accepts one (ValueError up to 3.11, SyntaxError after); said here, not raised in C.
        return FileResult([], False, lines, f"a null byte at line {text.count(chr(10), 0, text.index(chr(0))) + 1}")
    try:
        tree = _parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return _scan_unparsable(text, lines, error)
    if not any(trigger in text for trigger in TRIGGERS):
        return FileResult([], True, lines, None)
    return FileResult(_columns(sorted(detect(tree, text)), text), True, lines, None)


def _describe(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return f"syntax error at line {error.lineno}: {error.msg}"
    if isinstance(error, RecursionError):
        return "nested too deeply for the parser"
    return f"{type(error).__name__}: {error}"


def _scan_unparsable(text: str, lines: int, error: BaseException) -> FileResult:
    if "async" not in text:
        return FileResult([], False, lines, _describe(error))
    masked_text, masked = mask_async_attributes(text)
    if masked:
        try:
            tree = _parse(masked_text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
        else:
            where = frozenset((line, col) for line, col, _ in masked)
            return FileResult(_columns(sorted(detect(tree, masked_text, where)), text), True, lines, None)
    # Still no tree: the token stream alone says where asyncio.async( is.
    names = asyncio_names(read_tokens(text))
    hits = [Hit(line, col, "GW202", "asyncio.async(): a syntax error since 3.7", False)
            for line, col, owner in masked if owner in names]
    return FileResult(hits, False, lines, _describe(error))


def scan_bytes(data: bytes) -> FileResult:
    """Decode as Python does (PEP 263 cookie, BOM, else UTF-8), then scan_source."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError) as error:
        return FileResult([], False, data.count(b"\n"), f"cannot decode: {error}")
    if text.startswith("\ufeff"):
        text = text[1:]
    return scan_source(text)
