"""`gg-workbench bench --core`: ClientConnection and ServerSession per round trip against the struct floor.

One process, CPU time (time.process_time), the four measurements taking turns slice by slice in each
of `runs` runs and the medians compared, so that a busy machine slows floor and core alike. Texts and seqs vary
per message; incoming HTML is what libgadu writes (escaped, <br> for newlines, UTF-8 beyond CP1250).
"""
from __future__ import annotations

import datetime
import itertools
import json
import platform
import random
import statistics
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

from gadu import packets as pk
from gadu.client import ClientConnection
from gadu.server_session import ServerSession

from .core_floor import floor_client_round, floor_server_round

__all__ = ["CoreWorkload", "core_goals", "logged_in_client", "logged_in_session", "measure_core", "run_core"]

OUR_UIN, PEER_UIN, PASSWORD = 1001, 1002, b"secret"
_WORDS = ("hello", "cześć", "zażółć gęślą jaźń", "a<b", "x & y", "'quoted'", '"dq"', "line\nbreak",
          "tab\tstop", "ok", "Ωmega", "naïve", "emoji \U0001f600", "1 > 0", "spam", "eggs")
#: Goals of issue 13: each core's CPU per round trip as a multiple of its floor's.
CORE_GOAL = 1.5


def texts(count: int, seed: int = 13) -> List[str]:
    """`count` different texts (no two alike, so no cache keyed by text helps), 1 to 8 words each."""
    rng = random.Random(seed)
    return [f"{i} " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8))) for i in range(count)]


class CoreWorkload:
    """The messages of one run, built before it: what the client sends, what it gets back, and what
    the server session gets."""

    def __init__(self, count: int, seed: int = 13, first_seq: int = 1_700_000_000) -> None:
        self.texts = texts(count, seed)
        self.seqs = [first_seq + i for i in range(count)]
        self.times = [first_seq + 7 * i for i in range(count)]
        # The server echoes each message from its peer (as B1's server does), with libgadu's HTML.
        self.client_incoming = [
            pk.SendMsgAck(pk.GG_ACK_DELIVERED, PEER_UIN, seq).encode()
            + pk.RecvMsg80.from_send(pk.SendMsg80.from_text(OUR_UIN, seq, text), PEER_UIN, when).encode()
            for text, seq, when in zip(self.texts, self.seqs, self.times)
        ]
        self.server_incoming = [pk.SendMsg80.encode_text(PEER_UIN, seq, text)
                                for text, seq in zip(self.texts, self.seqs)]
        self.receipts = [pk.RecvMsgAck.encode_seq(seq) for seq in self.seqs]


def logged_in_client(first_seq: int) -> ClientConnection:
    """A CONNECTED ClientConnection whose send_message() seqs start at `first_seq` and go up by one."""
    clock = itertools.count(first_seq).__next__
    conn = ClientConnection(OUR_UIN, PASSWORD, clock=clock)  # type: ignore[arg-type]
    conn.receive_data(pk.Welcome(0x1234).encode())
    conn.data_to_send()
    conn.receive_data(pk.Login80Ok().encode())
    return conn


def logged_in_session() -> ServerSession:
    """A CONNECTED ServerSession for OUR_UIN."""
    from gadu.hashing import GG_LOGIN_HASH_SHA1, hash_type_code, login_hash_field

    session = ServerSession({OUR_UIN: PASSWORD}.get, seed=0x1234, idle_timeout=None)
    session.start()
    code = hash_type_code(GG_LOGIN_HASH_SHA1)
    session.receive_data(pk.Login80(OUR_UIN, code, login_hash_field(code, PASSWORD, 0x1234)).encode())
    session.data_to_send()
    return session


def client_core(work: CoreWorkload) -> Callable[[int, int], float]:
    """A measure of round trips [start, stop) of `work` through one ClientConnection: CPU seconds."""
    conn = logged_in_client(work.seqs[0])
    send, receive, outbox = conn.send_message, conn.receive_data, conn.data_to_send

    def measure(start: int, stop: int) -> float:
        texts, incomings = work.texts[start:stop], work.client_incoming[start:stop]
        began = time.process_time()
        for text, incoming in zip(texts, incomings):
            send(PEER_UIN, text)
            ack, message = receive(incoming)
            ack.seq, message.plain  # noqa: B018 - what the application reads, decoded only now
            outbox()
        return time.process_time() - began

    return measure


def client_floor(work: CoreWorkload) -> Callable[[int, int], float]:
    def measure(start: int, stop: int) -> float:
        texts, seqs, incomings = work.texts[start:stop], work.seqs[start:stop], work.client_incoming[start:stop]
        began = time.process_time()
        for text, seq, incoming in zip(texts, seqs, incomings):
            floor_client_round(PEER_UIN, seq, text, incoming)
        return time.process_time() - began

    return measure


def server_core(work: CoreWorkload) -> Callable[[int, int], float]:
    """A measure of round trips through one ServerSession: the message in, its ack and its echo out,
    the receipt in."""
    session = logged_in_session()
    receive, send_ack, send_delivery = session.receive_data, session.send_ack, session.send_delivery
    delivered = pk.GG_ACK_DELIVERED

    def measure(start: int, stop: int) -> float:
        rounds = zip(work.server_incoming[start:stop], work.receipts[start:stop], work.times[start:stop])
        began = time.process_time()
        for incoming, receipt, when in rounds:
            sent = receive(incoming)[0]
            send_ack(delivered, sent.recipient, sent.seq)
            send_delivery(sent, PEER_UIN, when)
            receive(receipt)[0].seq  # noqa: B018 - what the server reads of the receipt
        return time.process_time() - began

    return measure


def server_floor(work: CoreWorkload) -> Callable[[int, int], float]:
    def measure(start: int, stop: int) -> float:
        rounds = zip(work.server_incoming[start:stop], work.receipts[start:stop], work.times[start:stop])
        began = time.process_time()
        for incoming, receipt, when in rounds:
            floor_server_round(incoming, PEER_UIN, when, receipt)
        return time.process_time() - began

    return measure


_MEASURES: Dict[str, Callable[[CoreWorkload], Callable[[int, int], float]]] = {
    "client core": client_core, "client floor": client_floor,
    "server core": server_core, "server floor": server_floor,
}
#: Round trips per slice: the four take turns slice by slice, so that a neighbour's burst on a shared
#: machine lands on all of them alike instead of on one whole measurement.
SLICE = 500


def measure_core(count: int, runs: int) -> Dict[str, List[float]]:
    """Microseconds of CPU per round trip, `runs` figures for each of the four, taking turns per slice."""
    work = CoreWorkload(count)
    found: Dict[str, List[float]] = {name: [] for name in _MEASURES}
    for _ in range(runs):
        measures = {name: make(work) for name, make in _MEASURES.items()}
        spent = dict.fromkeys(measures, 0.0)
        for start in range(0, count, SLICE):
            for name, measure in measures.items():
                spent[name] += measure(start, min(start + SLICE, count))
        for name, seconds in spent.items():
            found[name].append(seconds / count * 1e6)
    return found


def core_goals(medians: Dict[str, float]) -> List[Tuple[str, Optional[float], bool]]:
    """(goal, ratio, met) for the client and the server session against their floors."""
    found = []
    for side in ("client", "server"):
        ratio = medians[f"{side} core"] / medians[f"{side} floor"] if medians[f"{side} floor"] else None
        who = "ClientConnection" if side == "client" else "ServerSession"
        found.append((f"{who} CPU per round trip as a multiple of its struct floor's", ratio,
                      ratio is not None and ratio <= CORE_GOAL))
    return found


def run_core(count: int, runs: int, judged: bool = True) -> Tuple[str, Dict[str, float]]:
    """The report's text and the medians (us per round trip)."""
    return core_report(measure_core(count, runs), count, runs, judged)


def core_report(figures: Dict[str, List[float]], count: int, runs: int, judged: bool) -> Tuple[str, Dict[str, float]]:
    """The report's text and the medians (us per round trip) of measured figures."""
    medians = {name: statistics.median(values) for name, values in figures.items()}
    lines = [f"core: {count} round trips per run, {runs} run(s), Python {sys.version.split()[0]}, "
             f"CPU time (process_time), us per round trip, the four taking turns every {SLICE} round trips",
             f"  {'':14}{'median':>8}  runs"]
    for name, values in figures.items():
        lines.append(f"  {name:14}{medians[name]:8.2f}  " + " ".join(f"{v:.2f}" for v in values))
    lines += ["", f"Goals (issue 13), on the medians above{'' if judged else ' (not judged: --quick)'}"]
    for text, ratio, met in core_goals(medians):
        mark = "-" if not judged else ("met" if met else "missed")
        shown = f"{ratio:.2f}x" if ratio is not None else "n/a"
        lines.append(f"  [{mark}] {text}: {shown} (goal <= {CORE_GOAL:g}x)")
    return "\n".join(lines) + "\n", medians


def main(quick: bool, runs: Optional[int], json_path: Optional[str] = None) -> int:
    count = 2_000 if quick else 20_000
    repeats = runs if runs is not None else (1 if quick else 3)
    figures = measure_core(count, repeats)
    text, medians = core_report(figures, count, repeats, not quick)
    sys.stdout.write(text)
    if json_path:
        data = {"kind": "core", "python": platform.python_version(),
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "options": {"quick": quick, "runs": repeats, "round_trips": count},
                "medians": medians, "runs": figures,
                "goals": [{"goal": goal, "value": ratio, "target": f"<= {CORE_GOAL:g}",
                           "met": None if quick else met} for goal, ratio, met in core_goals(medians)]}
        with open(json_path, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.write("\n")
    return 0

