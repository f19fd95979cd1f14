"""Write tests/unit/data/login_hashes.json: GG32 and SHA1 login hashes computed by libgadu itself.

The vectors come from libgadu's exported gg_login_hash() and gg_login_hash_sha1(), called through
ctypes, so that the tests check gadu.hashing against an independent implementation, not against
itself. Needs libgadu.so.3 (`apt-get install libgadu3`, or libgadu-dev). Run from the repository root:
    python3 tools/make_hash_vectors.py [--count N] [--output PATH]
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import random
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

__all__ = ["LibGadu", "cases", "main"]

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "unit" / "data" / "login_hashes.json"
EDGE_SEEDS = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF]
POLISH = "zażółć gęślą jaźń ZAŻÓŁĆ GĘŚLĄ JAŹŃ"


class LibGadu:
    """The two hash functions of libgadu.so.3, with their C signatures from libgadu.h."""

    def __init__(self, path: Optional[str] = None) -> None:
        name = path or ctypes.util.find_library("gadu") or "libgadu.so.3"
        self.library = ctypes.CDLL(name)
        # unsigned int gg_login_hash(const unsigned char *password, unsigned int seed);
        self._gg32 = self.library.gg_login_hash
        self._gg32.argtypes = [ctypes.c_char_p, ctypes.c_uint]
        self._gg32.restype = ctypes.c_uint
        # void gg_login_hash_sha1(const char *password, uint32_t seed, uint8_t *result);
        self._sha1 = self.library.gg_login_hash_sha1
        self._sha1.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint8)]
        self._sha1.restype = None
        # const char *gg_libgadu_version(void);
        self.library.gg_libgadu_version.restype = ctypes.c_char_p
        self.version = self.library.gg_libgadu_version().decode("ascii")

    def gg32(self, password: bytes, seed: int) -> int:
        return int(self._gg32(password, seed))

    def sha1(self, password: bytes, seed: int) -> bytes:
        result = (ctypes.c_uint8 * 20)()
        self._sha1(password, seed, result)
        return bytes(result)


def _passwords(rng: random.Random, count: int) -> Iterator[bytes]:
    fixed = [
        b"",
        b"a",
        b"password",
        b"\xff",
        bytes(range(1, 256)),
        b"x" * 1000,
        POLISH.encode("utf-8"),
        POLISH.encode("cp1250"),
        "пароль 密码 🔑".encode(),
    ]
    yield from fixed
    for _ in range(count - len(fixed)):
        kind = rng.randrange(4)
        size = rng.choice([1, 2, 3, 4, 5, 8, 16, 31, 32, 33, 64, 100, 255])
        if kind == 0:
            yield "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*() ") for _ in range(size)).encode()
        elif kind == 1:
            yield "".join(rng.choice(POLISH) for _ in range(size)).encode("utf-8")
        elif kind == 2:
            yield "".join(rng.choice(POLISH) for _ in range(size)).encode("cp1250")
        else:
            yield bytes(rng.randrange(1, 256) for _ in range(size))


def cases(count: int, seed: int = 8074) -> List[Tuple[bytes, int]]:
    """`count` (password, seed) pairs, the same on every run: fixed edge cases, then random ones."""
    rng = random.Random(seed)
    pairs = []
    for index, password in enumerate(_passwords(rng, count)):
        if index < len(EDGE_SEEDS) * 3:
            login_seed = EDGE_SEEDS[index % len(EDGE_SEEDS)]
        else:
            login_seed = rng.randrange(1 << 32)
        pairs.append((password, login_seed))
    return pairs


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="number of vectors (default 300)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    parser.add_argument("--library", help="path of libgadu.so.3 (default: found by ctypes)")
    args = parser.parse_args(argv)
    try:
        libgadu = LibGadu(args.library)
    except OSError as exc:
        print(f"cannot load libgadu ({exc}); apt-get install libgadu-dev", file=sys.stderr)
        return 1
    vectors = [
        {"password_hex": password.hex(), "seed": seed, "gg32": libgadu.gg32(password, seed),
         "sha1_hex": libgadu.sha1(password, seed).hex()}
        for password, seed in cases(args.count)
    ]
    document = {
        "generator": "tools/make_hash_vectors.py (libgadu gg_login_hash, gg_login_hash_sha1 via ctypes)",
        "libgadu": libgadu.version,
        "vectors": vectors,
    }
    lines = ",\n".join("  " + json.dumps(vector, sort_keys=True) for vector in vectors)
    header = json.dumps({k: v for k, v in document.items() if k != "vectors"}, indent=1)[:-2]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(f'{header},\n "vectors": [\n{lines}\n ]\n}}\n', encoding="utf-8")
    print(f"wrote {len(vectors)} vectors from libgadu {libgadu.version} to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
