"""Kill -9 rounds against `gg-workbench serve --state FILE`, in the two phases of the offline queue.

queueing_round: alice streams to offline carol and the server is killed after a random number of
GG_ACK_QUEUED; after a restart carol must get every acknowledged message, once.
delivery_round: carol logs in to a full mailbox and the server is killed after she has read a random
number of messages; after a restart she must get the rest. A message may come twice only if she read
it before the kill and no pong proved the server had taken her GG_RECV_MSG_ACK for it.

`python tests/unit/durability_rounds.py --rounds N` runs more rounds than the suite and prints figures.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Set

from server_process import Peer, ServeProcess

from gadu import events as ev
from gadu import packets as p

__all__ = ["ALICE", "CAROL", "Tally", "delivery_round", "queueing_round", "serve_args"]

ALICE, CAROL = 1001, 1003
PASSWORDS = {ALICE: "alice", CAROL: "carol"}
#: Messages alice may have sent and not yet seen acknowledged.
WINDOW = 64


def serve_args(state: Path) -> List[str]:
    return ["--state", str(state), "--no-echo", *(f"--user={uin}:{pw}" for uin, pw in PASSWORDS.items())]


@dataclass
class Tally:
    rounds: int = 0
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    duplicates: int = 0
    problems: List[str] = field(default_factory=list)


def _text(seq: int) -> str:
    return f"wiadomość {seq}"


def _drain_carol(server: ServeProcess) -> List[int]:
    """Carol logs in, reads everything queued for her, confirms it, and goes."""
    carol = Peer.logged_in(server.port, CAROL, PASSWORDS[CAROL])
    try:
        events, _ = carol.read_until_pong()
        carol.read_until_pong()  # her GG_RECV_MSG_ACKs went before this ping: all are taken
    finally:
        carol.close()
    return [e.seq for e in events if isinstance(e, ev.MessageReceived)]


def queueing_round(start: Callable[[], ServeProcess], server: ServeProcess, rng: random.Random,
                   first_seq: int, count: int, tally: Tally) -> ServeProcess:
    """Stream `count` messages to offline carol, kill the server mid-stream, restart, check."""
    kill_after = rng.randint(1, count * 3 // 4)
    alice = Peer.logged_in(server.port, ALICE, PASSWORDS[ALICE])
    sent: List[int] = []
    acked: Set[int] = set()
    killed = False
    try:
        while not alice.closed:
            while not killed and len(sent) < count and len(sent) - len(acked) < WINDOW:
                seq = first_seq + len(sent)
                if not alice.send(p.SendMsg80.encode_text(CAROL, seq, _text(seq))):
                    break
                sent.append(seq)
            for event in alice.read():
                if isinstance(event, ev.MessageAck) and event.status == p.GG_ACK_QUEUED:
                    acked.add(event.seq)
            if not killed and len(acked) >= kill_after:
                server.kill()
                killed = True
    finally:
        alice.close()
    assert killed, "the server died by itself"
    server = start()
    delivered = _drain_carol(server)
    tally.rounds += 1
    tally.sent += len(sent)
    tally.acked += len(acked)
    tally.delivered += len(delivered)
    lost = acked - set(delivered)
    if lost:
        tally.problems.append(f"queueing: {len(lost)} acknowledged messages lost, e.g. {sorted(lost)[:5]}")
    if len(delivered) != len(set(delivered)):
        tally.problems.append("queueing: a message came twice")
    if not set(delivered) <= set(sent):
        tally.problems.append("queueing: a message nobody sent")
    return server


def delivery_round(start: Callable[[], ServeProcess], server: ServeProcess, rng: random.Random,
                   first_seq: int, count: int, tally: Tally) -> ServeProcess:
    """Queue `count` messages for carol; kill the server while she reads them; restart, check."""
    seqs = list(range(first_seq, first_seq + count))
    alice = Peer.logged_in(server.port, ALICE, PASSWORDS[ALICE])
    try:
        acked: Set[int] = set()
        for seq in seqs:
            alice.send(p.SendMsg80.encode_text(CAROL, seq, _text(seq)))
        while len(acked) < count:
            events = alice.read()
            assert not alice.closed, "the server closed alice's connection"
            for event in events:
                assert isinstance(event, ev.MessageAck) and event.status == p.GG_ACK_QUEUED, event
                acked.add(event.seq)
    finally:
        alice.close()
    kill_after = rng.randint(1, count - 1)
    first: List[int] = []
    confirmed: Set[int] = set()  # read, and a pong after her ack proves the server took it
    pinged_after: Dict[int, List[int]] = {}  # pings sent -> what had been read before
    pings = pongs = 0
    # Small reads: she reads and confirms a few messages at a time while the server takes her acks.
    carol = Peer.logged_in(server.port, CAROL, PASSWORDS[CAROL], chunk=rng.choice((128, 512, 4096)))
    try:
        while not carol.closed:
            for event in carol.read():
                if isinstance(event, ev.MessageReceived):
                    first.append(event.seq)
                elif isinstance(event, ev.Pong):
                    confirmed.update(pinged_after.pop(pongs))
                    pongs += 1
            if server.process.poll() is None:
                if len(first) >= kill_after:
                    server.kill()
                elif rng.random() < 0.3:  # now and then, learn what the server has taken
                    pinged_after[pings] = list(first)
                    pings += 1
                    carol.send(carol.conn.send_ping())
    finally:
        carol.close()
    server = start()
    second = _drain_carol(server)
    tally.rounds += 1
    tally.sent += count
    tally.acked += count
    tally.delivered += len(first) + len(second)
    tally.duplicates += len(set(first) & set(second))
    lost = set(seqs) - set(first) - set(second)
    if lost:
        tally.problems.append(f"delivery: {len(lost)} queued messages lost, e.g. {sorted(lost)[:5]}")
    again = confirmed & set(second)
    if again:
        tally.problems.append(f"delivery: {len(again)} confirmed messages came again, e.g. {sorted(again)[:5]}")
    if len(first) != len(set(first)) or len(second) != len(set(second)):
        tally.problems.append("delivery: a message came twice in one session")
    return server


def run(rounds: int, count: int, folder: Path, seed: int) -> Dict[str, Tally]:
    """`rounds` of each phase on one state file; returns a tally per phase."""
    rng = random.Random(seed)
    state = folder / "state.db"

    def start() -> ServeProcess:
        return ServeProcess(serve_args(state), folder / "serve.log")

    tallies = {"queueing": Tally(), "delivery": Tally()}
    server = start()
    try:
        seq = 1
        for _ in range(rounds):
            server = queueing_round(start, server, rng, seq, count, tallies["queueing"])
            seq += count
            server = delivery_round(start, server, rng, seq, count, tallies["delivery"])
            seq += count
    finally:
        server.kill()
    return tallies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--messages", type=int, default=300, help="messages per round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tallies = run(args.rounds, args.messages, Path(folder), args.seed)
    for phase, tally in tallies.items():
        print(f"{phase}: {tally.rounds} kills, {tally.sent} sent, {tally.acked} acknowledged as queued, "
              f"{tally.delivered} delivered, {tally.duplicates} duplicates, problems: {tally.problems or 'none'}")
    return 1 if any(t.problems for t in tallies.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
