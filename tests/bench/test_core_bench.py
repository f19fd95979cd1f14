"""`gg-workbench bench --core`: the floor does the core's wire work byte for byte, and the bench runs.

The floor is checked against gadu's general paths (packet objects), not against the bench's own
measurement loop, so a floor made slower or a core made wrong meets nothing. Nothing here times anything.
"""
from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from gadu import events as ev
from gadu import packets as pk
from gadu import server_session as ss
from workbench.bench.core import PEER_UIN, CoreWorkload, logged_in_client, logged_in_session, run_core
from workbench.bench.core_floor import floor_client_round, floor_server_round

ROOT = Path(__file__).resolve().parents[2]
WORK = CoreWorkload(200)


@pytest.mark.parametrize("index", range(0, 200, 7))
def test_client_floor_does_the_client_cores_wire_work(index: int) -> None:
    text, seq, incoming = WORK.texts[index], WORK.seqs[index], WORK.client_incoming[index]
    conn = logged_in_client(seq)
    sent, used = conn.send_message(PEER_UIN, text)
    got = conn.receive_data(incoming)
    receipt = conn.data_to_send()
    frame, ack, message, floor_receipt = floor_client_round(PEER_UIN, seq, text, incoming)

    assert used == seq
    assert frame == sent == pk.SendMsg80.from_text(PEER_UIN, seq, text).encode()
    assert floor_receipt == receipt == pk.RecvMsgAck(seq).encode()
    assert isinstance(got[0], ev.MessageAck) and (got[0].status, got[0].recipient, got[0].seq) == ack
    received = got[1]
    assert isinstance(received, ev.MessageReceived)
    assert (received.sender, received.seq, received.time, received.msgclass, received.plain) == message
    decoded = pk.RecvMsg80.decode(incoming[20 + 8:])
    assert received.plain == decoded.plain and received.html == decoded.html


@pytest.mark.parametrize("index", range(0, 200, 7))
def test_server_floor_does_the_server_sessions_wire_work(index: int) -> None:
    incoming, receipt, when = WORK.server_incoming[index], WORK.receipts[index], WORK.times[index]
    session = logged_in_session()
    (event,) = session.receive_data(incoming)
    assert isinstance(event, ss.SendMessage)
    message = event.message
    ack = session.send_ack(pk.GG_ACK_DELIVERED, message.recipient, message.seq)
    echo = session.send_message(pk.RecvMsg80.from_send(message, PEER_UIN, when))
    (acked,) = session.receive_data(receipt)
    floor_ack, floor_echo, floor_seq = floor_server_round(incoming, PEER_UIN, when, receipt)

    assert floor_ack == ack == pk.SendMsgAck(pk.GG_ACK_DELIVERED, PEER_UIN, WORK.seqs[index]).encode()
    general = pk.RecvMsg80.from_send(pk.SendMsg80.decode(incoming[8:]), PEER_UIN, when).encode()
    assert floor_echo == echo == general
    assert acked == ss.MessageAcked(floor_seq) and floor_seq == WORK.seqs[index]


def test_workload_varies_texts_and_carries_libgadus_html() -> None:
    assert len(set(WORK.texts)) == len(WORK.texts)
    assert len(set(WORK.seqs)) == len(WORK.seqs)
    htmls = [pk.RecvMsg80.decode(frame[28:]).html for frame in WORK.client_incoming]
    assert any("<br>" in h for h in htmls) and any("&lt;" in h for h in htmls) and any("&amp;" in h for h in htmls)
    assert any(not h.isascii() for h in htmls)


def test_core_report_has_every_figure_and_both_goals() -> None:
    text, medians = run_core(50, 1, judged=False)
    assert set(medians) == {"client core", "client floor", "server core", "server floor"}
    assert all(value > 0 for value in medians.values())
    assert "ClientConnection CPU per round trip" in text and "ServerSession CPU per round trip" in text


def test_cli_core_option_runs_and_writes_its_json(tmp_path: Path) -> None:
    path = tmp_path / "core.json"
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "bench", "--core", "--quick", "--json", str(path)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[-] ServerSession CPU per round trip" in done.stdout
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["kind"] == "core" and data["python"] == platform.python_version()
    assert data["options"] == {"quick": True, "runs": 1, "round_trips": 2000}
    assert set(data["medians"]) == set(data["runs"]) == {"client core", "client floor", "server core", "server floor"}
    assert [goal["met"] for goal in data["goals"]] == [None, None]  # --quick judges nothing
