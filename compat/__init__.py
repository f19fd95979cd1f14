"""Run asyncore/asynchat-era code on every Python from 3.8 to 3.13.

`from compat import asyncore, asynchat` gives the standard library's modules up to 3.11 and the
PyPI copies (pyasyncore, pyasynchat) from 3.12, quietly; `where()` says which one you got.
`coroutine` replaces the `@asyncio.coroutine` that 3.11 removed.
Nothing here imports the rest of the workbench: it is meant to be copied into legacy code.
"""
from __future__ import annotations

from compat.coroutines import coroutine
from compat.sources import load, where

__all__ = ["asynchat", "asyncore", "coroutine", "load", "where"]


def __getattr__(name: str):
    # Imported on first use, so `import compat` alone costs nothing and warns about nothing.
    if name in ("asyncore", "asynchat"):
        module = load(name)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'compat' has no attribute {name!r}")
