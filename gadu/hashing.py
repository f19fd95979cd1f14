"""The two GG_LOGIN80 password hashes, exactly as protocol.html 1.3 defines them, and the 64-byte field.

HASH_TYPES names them for the clients' hash_type arguments and the command line.
Passwords are bytes: libgadu hashes the C string it is given, so encoding is the caller's choice
(our client uses UTF-8) and a NUL byte cannot be part of a password.
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Dict, Union

from .limits import HASH_FIELD_SIZE

__all__ = [
    "GG_LOGIN_HASH_GG32",
    "GG_LOGIN_HASH_SHA1",
    "HASH_TYPES",
    "check_login_hash",
    "gg32_hash",
    "hash_type_code",
    "login_hash_field",
    "sha1_hash",
]

#: hash_type values of GG_LOGIN80 (protocol.html 1.3).
GG_LOGIN_HASH_GG32 = 0x01
GG_LOGIN_HASH_SHA1 = 0x02

#: The names every client's login takes for hash_type, and the GG_LOGIN80 values they stand for.
HASH_TYPES: Dict[str, int] = {"sha1": GG_LOGIN_HASH_SHA1, "gg32": GG_LOGIN_HASH_GG32}

_U32 = struct.Struct("<I")
_MASK = 0xFFFFFFFF
_HASH_SIZES = {GG_LOGIN_HASH_GG32: 4, GG_LOGIN_HASH_SHA1: 20}


def hash_type_code(hash_type: Union[str, int]) -> int:
    """The GG_LOGIN80 hash_type for a name of HASH_TYPES (any case) or one of its values."""
    code = HASH_TYPES.get(hash_type.lower()) if isinstance(hash_type, str) else hash_type
    if code not in _HASH_SIZES:
        raise ValueError(f"unknown hash type {hash_type!r}: use one of {sorted(HASH_TYPES)} "
                         f"(GG_LOGIN_HASH_SHA1 or GG_LOGIN_HASH_GG32)")
    return code


def _check(password: bytes, seed: int) -> None:
    if not isinstance(password, (bytes, bytearray)):
        raise TypeError(f"password must be bytes, not {type(password).__name__}; encode it first")
    if b"\x00" in password:
        raise ValueError("a password cannot contain a NUL byte: libgadu hashes it as a C string")
    if not 0 <= seed <= _MASK:
        raise ValueError(f"seed {seed} is not an unsigned 32-bit value")


def gg32_hash(password: bytes, seed: int) -> int:
    """GG_LOGIN_HASH_GG32: gg_login_hash() of protocol.html 1.3, on unsigned 32-bit words."""
    _check(password, seed)
    x = 0
    y = seed
    for byte in password:
        x = (x & 0xFFFFFF00) | byte
        y ^= x
        y = (y + x) & _MASK
        x = (x << 8) & _MASK
        y ^= x
        x = (x << 8) & _MASK
        y = (y - x) & _MASK
        x = (x << 8) & _MASK
        y ^= x
        z = y & 0x1F
        # C leaves `y >> 32` undefined when z == 0; x86 and this both give y back unchanged there.
        y = ((y << z) | (y >> (32 - z))) & _MASK
    return y


def sha1_hash(password: bytes, seed: int) -> bytes:
    """GG_LOGIN_HASH_SHA1: SHA-1 of the password (no NUL) followed by the seed as 4 little-endian bytes."""
    _check(password, seed)
    return hashlib.sha1(bytes(password) + _U32.pack(seed)).digest()


def login_hash_field(hash_type: int, password: bytes, seed: int) -> bytes:
    """The 64-byte `hash` field of GG_LOGIN80: the hash, zero padded (GG32 is its `<I` value)."""
    if hash_type == GG_LOGIN_HASH_SHA1:
        digest = sha1_hash(password, seed)
    elif hash_type == GG_LOGIN_HASH_GG32:
        digest = _U32.pack(gg32_hash(password, seed))
    else:
        raise ValueError(f"unknown hash type {hash_type}: use GG_LOGIN_HASH_SHA1 or GG_LOGIN_HASH_GG32")
    return digest.ljust(HASH_FIELD_SIZE, b"\x00")


def check_login_hash(hash_type: int, field: bytes, password: bytes, seed: int) -> bool:
    """Whether a received hash field matches the password, compared in constant time.

    Only the hash itself is compared, not the zero padding after it. An unknown hash type, or a
    password that cannot be hashed, is simply a mismatch.
    """
    try:
        expected = login_hash_field(hash_type, password, seed)
    except ValueError:
        return False
    size = _HASH_SIZES[hash_type]
    return hmac.compare_digest(expected[:size], bytes(field[:size]))
