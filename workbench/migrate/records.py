"""What one migrate run did to one file: the changes (with rule codes), what it found and left (with
the reason), and the coroutine functions it converted or kept as generators."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Set

__all__ = ["Change", "FileResult", "Left"]


@dataclass(frozen=True)
class Change:
    line: int
    code: str
    text: str


@dataclass(frozen=True)
class Left:
    line: int
    code: str
    reason: str


@dataclass
class FileResult:
    path: str
    original: str
    migrated: str
    changes: List[Change] = field(default_factory=list)
    left: List[Left] = field(default_factory=list)
    converted: List[str] = field(default_factory=list)
    fallback: List[str] = field(default_factory=list)
    #: What the migrated file needs installed or vendored: 'asyncore', 'asynchat', 'compat'.
    needs: Set[str] = field(default_factory=set)
    error: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.error is None and self.migrated != self.original
