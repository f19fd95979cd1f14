"""`gg-workbench serve`: run the reference GG 8.0 server (gadu/server/) in the foreground.

It prints the address it listens on (and writes the port to --port-file), logs to stderr, and stops
cleanly on SIGINT or SIGTERM, closing every connection and the offline queue.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Dict, Optional

from gadu.server import ReferenceServer
from gadu.server.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEMO_USERS,
    ECHO_UIN,
    LIMITS,
    USERS_FILE_FORMAT,
    ConfigError,
    ServerConfig,
    load_users_file,
    parse_user_spec,
)

__all__ = ["add_parser", "build_config", "run", "write_port_file"]

_EPILOG = f"""\
{USERS_FILE_FORMAT}

Without --users or --user the demo accounts exist: {", ".join(f"{u}/{p}" for u, p in DEMO_USERS.items())}
(uin/password). The echo contact ({ECHO_UIN} unless --echo-uin) answers every message with the same text.
Stop with Ctrl-C or SIGTERM."""


def add_parser(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "serve",
        help="run the reference GG 8.0 server (libgadu and the four clients log in to it)",
        description="Run the reference Gadu-Gadu 8.0 server: logins (SHA1, GG32), contact lists, presence, "
        "messages with delivery acks and an offline queue.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port to bind (default {DEFAULT_PORT}; 0 picks a free one and prints it)")
    parser.add_argument("--port-file", metavar="FILE", help="write the bound port to FILE once listening")
    parser.add_argument("--users", metavar="FILE", help="users file (JSON, format below)")
    parser.add_argument("--user", action="append", default=[], metavar="UIN:PASSWORD",
                        help="add one user (repeatable; combines with --users)")
    parser.add_argument("--echo-uin", type=int, default=ECHO_UIN,
                        help=f"uin of the echo contact (default {ECHO_UIN})")
    parser.add_argument("--no-echo", action="store_true", help="run without the echo contact")
    parser.add_argument("--state", metavar="FILE",
                        help="sqlite3 file for the offline queue, so that it survives a restart")
    parser.add_argument("--log-packets", action="store_true",
                        help="log one line per packet in and out (type, length, hex; login hashes zeroed)")
    limits = parser.add_argument_group("limits", "what one client can make the server hold (gadu/server/config.py)")
    defaults = ServerConfig()
    for limit in LIMITS:
        default = getattr(defaults, limit.name)
        limits.add_argument(limit.flag, dest=limit.name, type=limit.kind, default=default, metavar=limit.metavar,
                            help=f"{limit.what} (default {default})")
    parser.set_defaults(handler=run)


def build_config(args: argparse.Namespace) -> ServerConfig:
    """The ServerConfig the command line describes; ConfigError when it cannot be used."""
    users: Dict[int, str] = {}
    if args.users:
        users.update(load_users_file(args.users))
    for spec in args.user:
        uin, password = parse_user_spec(spec)
        if uin in users:
            raise ConfigError(f"--user {spec!r}: uin {uin} is already defined")
        users[uin] = password
    return ServerConfig(
        users=users if (args.users or args.user) else dict(DEMO_USERS),
        host=args.host,
        port=args.port,
        echo_uin=None if args.no_echo else args.echo_uin,
        state_path=args.state,
        log_packets=args.log_packets,
        **{limit.name: getattr(args, limit.name) for limit in LIMITS},  # type: ignore[arg-type]
    )


def write_port_file(path: str, port: int) -> None:
    """Write the port atomically, so that a reader polling the file never sees half a number."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(f"{port}\n")
    os.replace(temporary, path)


async def _serve(config: ServerConfig, port_file: Optional[str]) -> None:
    server = ReferenceServer(config)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows: Ctrl-C raises instead
            pass
    try:
        if port_file:
            write_port_file(port_file, server.port)
        print(f"gg-workbench serve: listening on {config.host}:{server.port}", flush=True)
        await stop.wait()
        print("gg-workbench serve: stopping", flush=True)
    finally:
        await server.stop()


def run(args: argparse.Namespace) -> int:
    try:
        config = build_config(args)
    except ConfigError as exc:
        print(f"gg-workbench serve: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    if not (args.users or args.user):
        print("gg-workbench serve: demo users " + ", ".join(f"{u}/{p}" for u, p in DEMO_USERS.items()),
              flush=True)
    try:
        asyncio.run(_serve(config, args.port_file))
    except OSError as exc:
        print(f"gg-workbench serve: cannot listen on {config.host}:{config.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover - only where signal handlers are unavailable
        pass
    return 0
