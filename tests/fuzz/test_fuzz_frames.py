"""The frame parser and packet decoders under fuzzing: the committed corpus, a bounded atheris run
(coverage-guided, where atheris installs) and a hypothesis fallback that runs everywhere.

The property is frame_property.check_stream; fuzz_frames.py's docstring says how to fuzz longer.
GG_FUZZ_SECONDS sets the atheris run's length (default 3).
"""
from __future__ import annotations

import importlib.util
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from frame_property import FRAME_LIMITS, check_stream, control_byte, encoder_frames, reference_split, seed_inputs
from fuzz_adapter import CORE_ROOT, FrameTooLarge, MalformedPacket, pk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
#: Where pyproject's environment markers install atheris (manylinux x86_64 wheels, 3.8 to 3.13).
ATHERIS_WHEELS = sys.platform == "linux" and platform.machine() == "x86_64"
HAVE_ATHERIS = importlib.util.find_spec("atheris") is not None
#: Each packet our encoders make, one frame each, without the control byte.
SEED_FRAMES = [frame for frames in encoder_frames().values() for _, frame in frames]


@pytest.fixture(scope="module")
def require(pytestconfig):
    """`require()` of tests/conftest.py, found by path: `import conftest` could find another conftest."""
    plugin = pytestconfig.pluginmanager.get_plugin(str(HERE.parent / "conftest.py"))
    assert plugin is not None, "tests/conftest.py is not loaded"
    return plugin.require


def corpus_inputs():
    return sorted((path.name, path.read_bytes()) for path in CORPUS.iterdir() if path.is_file())


def test_every_corpus_input_holds_the_property():
    inputs = corpus_inputs()
    assert len(inputs) >= len(seed_inputs())
    for name, data in inputs:
        try:
            check_stream(data)
        except AssertionError as exc:
            raise AssertionError(f"corpus input {name}: {exc}") from exc


def test_the_corpus_holds_our_encoders_frames_and_every_outcome():
    """The seeds are today's encoders' frames, and the corpus reaches a clean end, a cut frame, an
    oversized length and a malformed body in both directions."""
    committed = dict(corpus_inputs())
    for name, data in seed_inputs().items():
        assert committed.get(name) == data, f"{name} is stale: rewrite it with fuzz_frames.py --write-seeds"
    outcomes = set()
    for data in committed.values():
        if data:
            direction = (pk.Direction.SERVER_TO_CLIENT, pk.Direction.CLIENT_TO_SERVER)[data[0] & 1]
            _, error, leftover = reference_split(direction, FRAME_LIMITS[data[0] >> 1 & 3], data[1:])
            outcomes.add((direction, error or ("cut" if leftover else "clean")))
    for direction in pk.Direction:
        assert {(direction, outcome) for outcome in ("clean", "cut", FrameTooLarge, MalformedPacket)} <= outcomes


def test_atheris_bounded_run(tmp_path, require):
    """libFuzzer steered by coverage of gadu/, from the committed corpus, for a few seconds."""
    if not ATHERIS_WHEELS:
        pytest.skip("atheris has no wheel for this platform; test_hypothesis_fallback_* carry the property here")
    require(HAVE_ATHERIS, "atheris", "pip install -e '.[test]' (pyproject pins a version with a wheel per Python)")
    seconds = int(os.environ.get("GG_FUZZ_SECONDS", "3"))
    found = tmp_path / "found"
    found.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(CORE_ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, str(HERE / "fuzz_frames.py"), str(found), str(CORPUS), f"-max_total_time={seconds}",
         "-rss_limit_mb=1024", "-timeout=20", f"-artifact_prefix={tmp_path}{os.sep}", "-print_final_stats=1"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=seconds + 120,
    )
    tail = "\n".join(result.stdout.splitlines()[-40:])
    crashes = [path.name for path in tmp_path.iterdir() if path.is_file()]
    assert result.returncode == 0 and not crashes, f"the fuzzer found a failing input {crashes}:\n{tail}"
    done = re.search(r"Done (\d+) runs", result.stdout)
    # On a loaded machine the seconds may all go to the corpus: then it was at least replayed, instrumented.
    assert done and int(done.group(1)) >= len(corpus_inputs()), tail
    assert re.search(r"INITED cov: [1-9]", result.stdout), "no coverage: gadu/ was not instrumented\n" + tail


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_hypothesis_fallback_any_bytes(data):
    check_stream(data)


def _mutated_session(draw):
    frames = SEED_FRAMES
    stream = bytearray(b"".join(draw(st.lists(st.sampled_from(frames), min_size=1, max_size=6))))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(stream)))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "length"]))
        if kind == "flip" and at < len(stream):
            stream[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            stream[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del stream[at : at + draw(st.integers(1, 8))]
        elif kind == "length" and at + 4 <= len(stream):
            stream[at : at + 4] = draw(st.integers(0, 0xFFFFFFFF)).to_bytes(4, "little")
    return bytes(stream)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_fallback_mutated_real_frames(data):
    """Sessions of real frames with bytes flipped, inserted, deleted or a length overwritten."""
    direction = data.draw(st.sampled_from(list(pk.Direction)))
    control = control_byte(direction, data.draw(st.integers(0, 3)), data.draw(st.integers(0, 31)))
    check_stream(bytes([control]) + _mutated_session(data.draw))
