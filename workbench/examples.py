"""Where the examples live: one file per example per style, found by looking at the style folders.

An example exists in a style when its file exists; nothing else registers it. This module only
finds files and names them; it neither runs nor reads them (see workbench/diff.py for that).

Layout, relative to a root (the installed packages' folder, or any tree laid out the same way):

    dispatcher          legacy/dispatcher/examples/NAME.py
    dispatcher@asyncio  legacy/dispatcher/examples/NAME_asyncio.py
    callbacks           legacy/callbacks/examples/NAME.py
    yieldfrom           modern/yieldfrom/examples/NAME.py
    yieldfrom@asyncio   modern/yieldfrom/examples/NAME_asyncio.py
    aio                 modern/aio/examples/NAME.py

A bridge style keeps its file beside the plain one (suffix `_asyncio`) rather than in a subfolder, so
that `ls` shows the two versions of an example next to each other and a subfolder named `asyncio`
never sits on sys.path in front of the real one. So an example's own name never ends in `_asyncio`
in those two folders. Files whose names start with `_` (shared helpers, `__init__.py`) are not examples.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

__all__ = [
    "DEFAULT_ROOT",
    "MIGRATION_PATH",
    "STYLES",
    "ExampleError",
    "ExampleNotInStyle",
    "Examples",
    "Style",
    "UnknownExample",
    "UnknownStyle",
]


class Style(NamedTuple):
    name: str
    folder: str  # relative to the root, with forward slashes
    suffix: str  # added to the example's name before ".py"
    summary: str


#: Every style, in the order of the migration (oldest first); tables and errors list them this way.
STYLES: Tuple[Style, ...] = (
    Style("dispatcher", "legacy/dispatcher/examples", "", "asyncore/asynchat dispatcher on asyncore.loop()"),
    Style("dispatcher@asyncio", "legacy/dispatcher/examples", "_asyncio",
          "the same dispatcher inside asyncio through compat.bridge"),
    Style("callbacks", "legacy/callbacks/examples", "", "plain callback(result, error) on a select reactor"),
    Style("yieldfrom", "modern/yieldfrom/examples", "", "generator coroutines (yield from) on modern.loop"),
    Style("yieldfrom@asyncio", "modern/yieldfrom/examples", "_asyncio",
          "the same generator coroutines on asyncio through compat.coroutine"),
    Style("aio", "modern/aio/examples", "", "async/await on asyncio"),
)
_BY_NAME: Dict[str, Style] = {style.name: style for style in STYLES}

#: The steps a real codebase takes, each one small enough to review: `gg-workbench diff NAME --path`.
MIGRATION_PATH: Tuple[str, ...] = ("dispatcher", "dispatcher@asyncio", "yieldfrom@asyncio", "aio")

#: The folder that holds the installed `legacy` and `modern` packages (the repository root in a checkout).
DEFAULT_ROOT = Path(__file__).resolve().parent.parent


class ExampleError(LookupError):
    """A name that does not lead to an example file; `valid` holds the names that would."""

    valid_are = "valid names"

    def __init__(self, message: str, valid: Iterable[str]) -> None:
        self.valid: List[str] = list(valid)
        listing = ", ".join(self.valid) if self.valid else "(none)"
        super().__init__(f"{message}; {self.valid_are}: {listing}")


class UnknownStyle(ExampleError):
    """The style is not one of STYLES."""

    valid_are = "valid styles"


class UnknownExample(ExampleError):
    """No style has an example of that name."""

    valid_are = "valid examples"


class ExampleNotInStyle(ExampleError):
    """The example exists, but not in the style asked for; `valid` lists the styles it has."""

    valid_are = "it exists in"


def _style_of_file(stem: str, styles: List[Style]) -> Optional[Tuple[Style, str]]:
    """(style, example name) for a file stem in a folder shared by `styles`; the longest suffix wins."""
    for style in sorted(styles, key=lambda s: len(s.suffix), reverse=True):
        if stem.endswith(style.suffix) and len(stem) > len(style.suffix):
            return style, stem[: len(stem) - len(style.suffix)] if style.suffix else stem
    return None


class Examples:
    """The examples under one root: which exist, in which styles, and where their files are."""

    def __init__(self, root: Optional[Path] = None) -> None:
        self.root = Path(root) if root is not None else DEFAULT_ROOT
        self._files: Dict[Tuple[str, str], Path] = self._scan()

    def _scan(self) -> Dict[Tuple[str, str], Path]:
        by_folder: Dict[str, List[Style]] = {}
        for style in STYLES:
            by_folder.setdefault(style.folder, []).append(style)
        files: Dict[Tuple[str, str], Path] = {}
        for folder, styles in by_folder.items():
            directory = self.root.joinpath(*folder.split("/"))
            if not directory.is_dir():
                continue
            for path in sorted(directory.glob("*.py")):
                if path.name.startswith("_") or not path.is_file():
                    continue
                found = _style_of_file(path.stem, styles)
                if found is not None:
                    style, name = found
                    files[(name, style.name)] = path
        return files

    @property
    def style_names(self) -> List[str]:
        return [style.name for style in STYLES]

    def names(self) -> List[str]:
        """Every example that exists in at least one style, sorted."""
        return sorted({name for name, _ in self._files})

    def styles_of(self, name: str) -> List[str]:
        """The styles an example exists in, in migration order; UnknownExample if none."""
        found = [style.name for style in STYLES if (name, style.name) in self._files]
        if not found:
            raise UnknownExample(f"unknown example {name!r}", self.names())
        return found

    def exists(self, name: str, style: str) -> bool:
        return (name, style) in self._files

    def check_style(self, style: str) -> Style:
        try:
            return _BY_NAME[style]
        except KeyError:
            raise UnknownStyle(f"unknown style {style!r}", self.style_names) from None

    def path(self, name: str, style: str) -> Path:
        """The file of `name` in `style`, or a typed error that lists the valid choices."""
        self.check_style(style)
        have = self.styles_of(name)
        if style not in have:
            raise ExampleNotInStyle(f"example {name!r} has no {style!r} version", have)
        return self._files[(name, style)]

    def table(self) -> List[Tuple[str, List[bool]]]:
        """One row per example: whether it exists in each style, in STYLES order."""
        return [(name, [self.exists(name, style.name) for style in STYLES]) for name in self.names()]
