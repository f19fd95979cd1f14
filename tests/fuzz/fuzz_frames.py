#!/usr/bin/env python3
"""Coverage-guided fuzzing of the frame parser, the packet decoders and the state machines that read
the stream (ClientConnection, ServerSession), with atheris (libFuzzer).

The target is frame_property.check_stream; test_fuzz_frames.py runs this script for a few seconds
in every test run. To fuzz longer by hand (new inputs go to the first directory, the committed
corpus is read from the second; a failing input is written as /tmp/gg-fuzz-crash-*):

    mkdir -p /tmp/gg-fuzz && PYTHONPATH=$PWD python tests/fuzz/fuzz_frames.py /tmp/gg-fuzz tests/fuzz/corpus \\
        -max_total_time=600 -rss_limit_mb=1024 -artifact_prefix=/tmp/gg-fuzz-

then fold what it found, minimized, into the committed corpus (libFuzzer runs the script itself
for a merge, hence its shebang and executable bit; it finds gadu through PYTHONPATH):

    PYTHONPATH=$PWD python tests/fuzz/fuzz_frames.py -merge=1 tests/fuzz/corpus /tmp/gg-fuzz

Files named seed-* are made by our encoders; the others (named by their SHA-1) were found by the
fuzzer and kept by a merge because they reach code the rest of the corpus does not.

`PYTHONPATH=$PWD python tests/fuzz/fuzz_frames.py --write-seeds tests/fuzz/corpus` rewrites the encoder-made seeds.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List


def write_seeds(folder: Path) -> None:
    from frame_property import seed_inputs

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seed_inputs().items():
        (folder / name).write_bytes(data)


def main(argv: List[str]) -> None:
    if argv[1:2] == ["--write-seeds"]:
        write_seeds(Path(argv[2]))
        return
    import atheris

    # Only the core and the property are instrumented: their branches are what the fuzzer steers by.
    with atheris.instrument_imports(include=["gadu", "frame_property", "fuzz_adapter"]):
        import frame_property
    atheris.Setup(argv, frame_property.check_stream)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
