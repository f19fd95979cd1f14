"""Login hashes (protocol.html 1.3) against vectors libgadu computed, and against libgadu live."""
from __future__ import annotations

import hashlib
import json
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gadu.hashing import (
    GG_LOGIN_HASH_GG32,
    GG_LOGIN_HASH_SHA1,
    check_login_hash,
    gg32_hash,
    login_hash_field,
    sha1_hash,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((Path(__file__).parent / "data" / "login_hashes.json").read_text(encoding="utf-8"))
passwords = st.binary(max_size=80).map(lambda raw: raw.replace(b"\x00", b"\x01"))
seeds = st.integers(0, 0xFFFFFFFF)


def _libgadu():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from make_hash_vectors import LibGadu
    finally:
        sys.path.remove(str(ROOT / "tools"))
    try:
        return LibGadu()
    except OSError:
        return None


_LIVE = _libgadu()


def test_vector_file_is_libgadus_and_covers_the_edges():
    """The committed vectors were made by libgadu and include empty, long, non-ASCII passwords and edge seeds."""
    assert VECTORS["generator"].startswith("tools/make_hash_vectors.py")
    assert VECTORS["libgadu"]
    vectors = VECTORS["vectors"]
    assert len(vectors) >= 200
    raw = [bytes.fromhex(v["password_hex"]) for v in vectors]
    assert b"" in raw
    assert max(map(len, raw)) >= 255
    assert any(p.decode("utf-8", "replace") != p.decode("ascii", "replace") for p in raw)
    assert "zażółć".encode() in b"".join(raw) and "zażółć".encode("cp1250") in b"".join(raw)
    assert {0, 1, 0xFFFFFFFF} <= {v["seed"] for v in vectors}


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: f"{v['password_hex'][:16]}/{v['seed']}")
def test_hashes_match_libgadu_vectors(vector):
    """gg32_hash and sha1_hash give what libgadu's gg_login_hash and gg_login_hash_sha1 gave."""
    password = bytes.fromhex(vector["password_hex"])
    assert gg32_hash(password, vector["seed"]) == vector["gg32"]
    assert sha1_hash(password, vector["seed"]).hex() == vector["sha1_hex"]


@given(passwords, seeds)
def test_hashes_match_libgadu_live(require, password, seed):
    """Where libgadu.so.3 loads, any password and seed hash the same in both implementations."""
    libgadu = _LIVE
    require(libgadu is not None, "libgadu.so.3", "apt-get install libgadu-dev")
    assert gg32_hash(password, seed) == libgadu.gg32(password, seed)
    assert sha1_hash(password, seed) == libgadu.sha1(password, seed)



def test_sha1_is_password_then_little_endian_seed():
    """SHA1 hashes the password without NUL followed by the 4 seed bytes (protocol.html 1.3)."""
    assert sha1_hash(b"abc", 0x01020304) == hashlib.sha1(b"abc\x04\x03\x02\x01").digest()


def test_login_hash_field_is_padded_to_64_bytes():
    """The GG_LOGIN80 field is the hash padded with zeros: 20 bytes of SHA1, or GG32's `<I` value."""
    sha1 = login_hash_field(GG_LOGIN_HASH_SHA1, b"pw", 7)
    assert len(sha1) == 64 and sha1[:20] == sha1_hash(b"pw", 7) and sha1[20:] == bytes(44)
    gg32 = login_hash_field(GG_LOGIN_HASH_GG32, b"pw", 7)
    assert gg32 == struct.pack("<I", gg32_hash(b"pw", 7)) + bytes(60)


@given(passwords, seeds, st.sampled_from([GG_LOGIN_HASH_GG32, GG_LOGIN_HASH_SHA1]))
def test_check_login_hash_accepts_the_right_password_only(password, seed, hash_type):
    """A server accepts the field built from the password and refuses it for any other password."""
    field = login_hash_field(hash_type, password, seed)
    assert check_login_hash(hash_type, field, password, seed)
    assert not check_login_hash(hash_type, field, password + b"x", seed)
    assert not check_login_hash(hash_type ^ 3, field, password, seed)


def test_check_login_hash_refuses_unknown_types_and_bad_passwords():
    field = login_hash_field(GG_LOGIN_HASH_SHA1, b"pw", 1)
    assert not check_login_hash(7, field, b"pw", 1)
    assert not check_login_hash(GG_LOGIN_HASH_SHA1, field, b"p\x00w", 1)
    assert not check_login_hash(GG_LOGIN_HASH_SHA1, bytes(64), b"pw", 1)


@pytest.mark.parametrize(
    "password,seed,error",
    [(b"a\x00b", 1, ValueError), (b"a", -1, ValueError), (b"a", 1 << 32, ValueError), ("text", 1, TypeError)],
)
def test_bad_inputs_get_clear_errors(password, seed, error):
    """NUL in a password (libgadu hashes a C string), seeds outside 32 bits and str passwords are refused."""
    with pytest.raises(error):
        gg32_hash(password, seed)
    with pytest.raises(error):
        sha1_hash(password, seed)


def test_unknown_hash_type_is_refused():
    with pytest.raises(ValueError, match="unknown hash type"):
        login_hash_field(3, b"pw", 1)
