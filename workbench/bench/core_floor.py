"""The struct floor of `gg-workbench bench --core`: the least code that does one round trip's wire work.

No validation, no state, no objects: what a hand-written client or server session cannot do without.
tests/bench/test_core_bench.py checks its bytes and values against gadu's, independently of the bench.
"""
from __future__ import annotations

import struct
from typing import Tuple

__all__ = ["floor_client_round", "floor_server_round"]

_SEND_HEAD = struct.Struct("<IIIIIII")  # header, recipient, seq, class, offset_plain, offset_attr
_ACK_IN = struct.Struct("<IIIII")  # header, status, recipient, seq
_RECV_HEAD = struct.Struct("<IIIIIIII")  # header, sender, seq, time, class, offset_plain, offset_attr
_U32X3 = struct.Struct("<III")
_pack_send, _pack_recv, _pack_u32x3 = _SEND_HEAD.pack, _RECV_HEAD.pack, _U32X3.pack
_unpack_ack, _unpack_recv, _unpack_u32x3 = _ACK_IN.unpack_from, _RECV_HEAD.unpack_from, _U32X3.unpack_from
# Escaped as UTF-8 bytes: the escaped characters are ASCII, and bytes.replace scans in C where
# str.translate looks each character up in a dict (several times slower, twice that on 3.12+).
_SPAN = b"<span style=\"color:#000000; font-family:'MS Shell Dlg 2'; font-size:9pt; \">"
_SPAN_END = b"</span>"
_ATTRIBUTES = b"\x02\x06\x00\x00\x00\x08\x00\x00\x00"
_GG_SEND_MSG80, _GG_SEND_MSG_ACK, _GG_RECV_MSG80, _GG_RECV_MSG_ACK = 0x2D, 0x05, 0x2E, 0x46


def floor_client_round(recipient: int, seq: int, text: str, incoming: bytes) -> Tuple[bytes, tuple, tuple, bytes]:
    """(SEND_MSG80 frame, (status, recipient, seq) of the ack, (sender, seq, time, class, plain) of
    the RECV_MSG80, RECV_MSG_ACK frame) for `incoming` = a SEND_MSG_ACK frame then a RECV_MSG80 frame."""
    html = _SPAN + text.encode().replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;") \
        .replace(b"'", b"&apos;").replace(b'"', b"&quot;").replace(b"\n", b"<br>").replace(b"\r", b"") + _SPAN_END
    plain = text.encode("cp1250", "replace")
    offset_plain = 21 + len(html)
    offset_attr = offset_plain + len(plain) + 1
    frame = _pack_send(_GG_SEND_MSG80, offset_attr + 9, recipient, seq, 8, offset_plain, offset_attr) \
        + html + b"\x00" + plain + b"\x00" + _ATTRIBUTES
    ack = _unpack_ack(incoming)[2:]
    _, _, sender, rseq, rtime, rclass, rplain, rattr = _unpack_recv(incoming, 20)
    plain_text = incoming[28 + rplain : 27 + rattr].decode("cp1250")
    return frame, ack, (sender, rseq, rtime, rclass, plain_text), _pack_u32x3(_GG_RECV_MSG_ACK, 4, rseq)


def floor_server_round(incoming: bytes, sender: int, now: int, receipt: bytes) -> Tuple[bytes, bytes, int]:
    """(SEND_MSG_ACK frame, RECV_MSG80 frame delivering it back from `sender`, seq of the receipt) for
    `incoming` = one SEND_MSG80 frame and `receipt` = one RECV_MSG_ACK frame."""
    _, length, recipient, seq, msgclass, offset_plain, offset_attr = _SEND_HEAD.unpack_from(incoming)
    ack = _ACK_IN.pack(_GG_SEND_MSG_ACK, 12, 2, recipient, seq)
    frame = _pack_recv(_GG_RECV_MSG80, length + 4, sender, seq, now, msgclass, offset_plain + 4,
                       offset_attr + 4) + incoming[28:]
    return ack, frame, _unpack_u32x3(receipt)[2]
