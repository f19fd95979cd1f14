"""Shared test settings: a per-env hypothesis database, and the strict mode CI runs in."""
from __future__ import annotations

import os

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

# Each tox env keeps its own database, so that `tox -p` never has two envs writing one folder.
_db = os.environ.get("GG_HYPOTHESIS_DB")
settings.register_profile(
    "workbench",
    database=DirectoryBasedExampleDatabase(_db) if _db else None,
    deadline=None,
)
settings.load_profile("workbench")

#: Under GG_STRICT=1 (set by .ci/run) a test that needs a missing tool fails instead of skipping.
STRICT = os.environ.get("GG_STRICT") == "1"


def require(available: bool, what: str, how_to_get_it: str) -> None:
    """Skip (or, in strict mode, fail) a test whose external tool is missing."""
    if available:
        return
    message = f"{what} is not available; {how_to_get_it}"
    if STRICT:
        pytest.fail(f"GG_STRICT=1: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(name="require", scope="session")
def require_fixture():
    """require() for test modules: they cannot import it, since `import conftest` may find another conftest."""
    return require
