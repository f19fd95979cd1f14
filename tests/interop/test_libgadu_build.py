"""The libgadu peer's build step: a missing libgadu skips with the install hint, or fails under GG_STRICT."""
from __future__ import annotations

import shutil
import stat

import pytest


def fake_compiler(tmp_path, message: str) -> str:
    """A `cc` that fails with this message, as gcc does when a header or a library is missing."""
    script = tmp_path / "cc"
    script.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.parametrize("message", [
    "ggpeer.c:17:10: fatal error: libgadu.h: No such file or directory",
    "/usr/bin/ld: cannot find -lgadu: No such file or directory",
])
def test_missing_libgadu_skips_with_the_apt_hint_or_fails_when_strict(tmp_path, monkeypatch, ggpeer_compile, message):
    compile_peer, root = ggpeer_compile
    compiler = fake_compiler(tmp_path, message)
    monkeypatch.setattr(shutil, "which", lambda name: compiler)
    monkeypatch.setattr(root, "STRICT", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install libgadu-dev"):
        compile_peer(tmp_path, root.require)
    monkeypatch.setattr(root, "STRICT", True)
    with pytest.raises(pytest.fail.Exception, match="GG_STRICT=1: libgadu"):
        compile_peer(tmp_path, root.require)


def test_missing_compiler_skips_with_the_apt_hint(tmp_path, monkeypatch, ggpeer_compile):
    compile_peer, root = ggpeer_compile
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(root, "STRICT", False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install libgadu-dev"):
        compile_peer(tmp_path, root.require)


def test_another_compile_error_is_a_failure_not_a_skip(tmp_path, monkeypatch, ggpeer_compile):
    compile_peer, root = ggpeer_compile
    compiler = fake_compiler(tmp_path, "ggpeer.c:40:1: error: expected ';' before '}' token")
    monkeypatch.setattr(shutil, "which", lambda name: compiler)
    monkeypatch.setattr(root, "STRICT", False)
    with pytest.raises(pytest.fail.Exception, match="does not compile"):
        compile_peer(tmp_path, root.require)


@pytest.mark.interop
def test_the_real_peer_builds_warning_free(ggpeer_binary):
    """Built with -Wall -Wextra -Werror: any warning would have failed the fixture."""
    assert ggpeer_binary.is_file()
