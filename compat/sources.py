"""Where asyncore and asynchat come from on this Python, and how to load them without noise.

Up to 3.11 they are in the standard library (deprecated by PEP 594, and warning on import from
3.10); 3.12 removed them, and the PyPI packages pyasyncore and pyasynchat carry the same code.
"""
from __future__ import annotations

import importlib
import sys
import sysconfig
import warnings
from pathlib import Path
from typing import Dict, NamedTuple, Tuple

__all__ = ["LEGACY_MODULES", "REMOVED_IN", "Source", "install_command", "load", "where"]

LEGACY_MODULES = ("asyncore", "asynchat")
#: The first Python whose standard library no longer has them (PEP 594).
REMOVED_IN = (3, 12)
#: The first Python whose standard library warns when they are imported.
WARNS_FROM = (3, 10)
PYPI_PACKAGES = {"asyncore": "pyasyncore>=1.0.5", "asynchat": "pyasynchat>=1.0.5"}


class Source(NamedTuple):
    """One row of `where()`."""

    module: str
    origin: str  # 'stdlib', or the PyPI package that provided it
    file: str
    deprecated: bool
    warns_on_import: bool


def install_command() -> str:
    """The pip command that brings both modules back on 3.12 and later."""
    packages = " ".join(f"'{spec}'" for spec in PYPI_PACKAGES.values())
    return f"{sys.executable} -m pip install {packages}"


def _stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"]).resolve()


def _origin(module) -> Tuple[str, bool]:
    path = Path(module.__file__).resolve()
    if _stdlib_dir() in path.parents and "site-packages" not in path.parts:
        return "stdlib", True
    return "py" + module.__name__, False


def load(name: str, version_info: Tuple[int, ...] = tuple(sys.version_info[:3])):
    """Import asyncore or asynchat from wherever this Python keeps it, without its DeprecationWarning.

    `version_info` exists for the tests; callers leave it alone.
    """
    if name not in LEGACY_MODULES:
        raise ValueError(f"compat only provides {', '.join(LEGACY_MODULES)}, not {name!r}")
    try:
        with warnings.catch_warnings():
            # The warning is addressed to the author of the import, and the shim is that author.
            warnings.simplefilter("ignore", DeprecationWarning)
            if name == "asynchat":
                importlib.import_module("asyncore")
            return importlib.import_module(name)
    except ImportError as exc:
        if tuple(version_info[:2]) >= REMOVED_IN:
            message = (
                f"{name} was removed from the standard library in Python 3.12 (PEP 594); "
                f"install its PyPI copy with: {install_command()}"
            )
        else:
            message = (
                f"{name} should be in this Python's standard library ({sys.version.split()[0]}) "
                f"but could not be imported: {exc}"
            )
        raise ImportError(message, name=name) from exc


def where() -> Dict[str, Source]:
    """For each legacy module: where it was loaded from and whether that source is deprecated."""
    report: Dict[str, Source] = {}
    for name in LEGACY_MODULES:
        module = load(name)
        origin, deprecated = _origin(module)
        report[name] = Source(
            module=name,
            origin=origin,
            file=module.__file__,
            deprecated=deprecated,
            warns_on_import=deprecated and tuple(sys.version_info[:2]) >= WARNS_FROM,
        )
    return report
