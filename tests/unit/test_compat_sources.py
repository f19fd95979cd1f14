"""compat: which asyncore/asynchat this Python gets, quietly, and the error when there is none."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

import compat
from compat import sources

ON_STDLIB = sys.version_info < (3, 12)


def test_where_reports_the_source_this_version_must_use():
    """Up to 3.11 the stdlib modules; from 3.12 the PyPI packages (PEP 594 removed them)."""
    report = compat.where()
    assert set(report) == {"asyncore", "asynchat"}
    for name, row in report.items():
        assert row.module == name
        if ON_STDLIB:
            assert row.origin == "stdlib"
            assert row.deprecated is True
            assert row.warns_on_import is (sys.version_info >= (3, 10))
        else:
            assert row.origin == "py" + name
            assert "site-packages" in row.file
            assert row.deprecated is False
            assert row.warns_on_import is False


def test_import_through_the_shim_emits_no_deprecation_warning():
    """The stdlib's DeprecationWarning (3.10, 3.11) is the shim's business, not the user's."""
    code = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("error")
        from compat import asyncore, asynchat
        assert asyncore.dispatcher and asynchat.async_chat
        print("quiet")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "quiet"


def test_compat_attributes_are_the_real_modules():
    from compat import asynchat, asyncore

    assert asynchat.asyncore is asyncore or asynchat.asyncore.__name__ == "asyncore"
    assert asyncore.__name__ == "asyncore"
    assert asynchat.__name__ == "asynchat"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="smtpd"):
        compat.smtpd  # noqa: B018


def test_load_refuses_modules_it_does_not_provide():
    with pytest.raises(ValueError, match="asyncore, asynchat"):
        sources.load("smtpd")


HIDE_AND_IMPORT = textwrap.dedent(
    """
    import sys
    import importlib.abc

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name in ("asyncore", "asynchat"):
                raise ImportError("No module named " + repr(name), name=name)
            return None

    for name in ("asyncore", "asynchat"):
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, Hide())
    from compat import sources
    try:
        sources.load(sys.argv[1], version_info=tuple(map(int, sys.argv[2].split("."))))
    except ImportError as exc:
        print(exc)
    else:
        print("imported")
    """
)


def _hidden_import(name: str, version: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", HIDE_AND_IMPORT, name, version], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("name", ["asyncore", "asynchat"])
def test_missing_packages_on_312_name_the_exact_pip_command(name):
    """From 3.12 a missing module's ImportError says which pip command brings it back."""
    message = _hidden_import(name, "3.12")
    assert message.startswith(f"{name} was removed from the standard library in Python 3.12")
    assert sources.install_command() in message
    assert "-m pip install 'pyasyncore>=1.0.5' 'pyasynchat>=1.0.5'" in message


def test_missing_stdlib_module_before_312_says_so():
    """Before 3.12 the shim does not send the user to PyPI: the stdlib itself is broken."""
    message = _hidden_import("asyncore", "3.11")
    assert message.startswith("asyncore should be in this Python's standard library")


def test_real_import_error_matches_the_version():
    """The message a user gets on this very interpreter when the module is missing."""
    here = "{}.{}".format(*sys.version_info[:2])
    message = _hidden_import("asyncore", here)
    if ON_STDLIB:
        assert "should be in this Python's standard library" in message
    else:
        assert "pip install" in message


def test_where_calls_are_repeatable_and_warning_free():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compat.where() == compat.where()
