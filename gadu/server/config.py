"""What the reference server is told: its users, its address, its limits (ServerConfig).

Users come from a JSON file, from `UIN:PASSWORD` strings, or from the built-in demo accounts.
Nothing here does I/O beyond reading the users file; the server itself is in reference.py.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, Mapping, Optional, Tuple, Union

from ..limits import MAX_CONTACTS, SERVER_IDLE_TIMEOUT, SERVER_LOGIN_TIMEOUT, WRITE_LIMIT

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEMO_USERS",
    "ECHO_UIN",
    "LIMITS",
    "USERS_FILE_FORMAT",
    "ConfigError",
    "Limit",
    "ServerConfig",
    "load_users_file",
    "parse_user_spec",
    "seconds_or_off",
]

#: Loopback only by default: this is a test server with demo passwords.
DEFAULT_HOST = "127.0.0.1"
#: The port of the Gadu-Gadu servers (protocol.html 1.1).
DEFAULT_PORT = 8074
#: The echo contact answers every message with the same text; no password, nobody logs in as it.
ECHO_UIN = 1000
#: Accounts that exist when no users are given, so that `gg-workbench serve` alone is usable.
DEMO_USERS: Mapping[int, str] = {1001: "alice", 1002: "bob", 1003: "carol", 1004: "dave"}
#: The largest uin the protocol can carry (`<I`).
_MAX_UIN = 0xFFFFFFFF

USERS_FILE_FORMAT = """\
Users file (JSON, UTF-8): an object with a "users" list; each user has a numeric "uin" and a
"password" string (hashed as UTF-8; no NUL byte). For example:
  {"users": [{"uin": 1001, "password": "alice"}, {"uin": 1002, "password": "bob"}]}
Other keys are ignored, so the file can carry notes. A uin must be unique and in 1..4294967295."""


@dataclass(frozen=True)
class Limit:
    """One bound on what a client can make the server hold: a ServerConfig field and its serve flag."""

    name: str
    flag: str
    kind: Callable[[str], object]
    metavar: str
    what: str


def seconds_or_off(text: str) -> Optional[float]:
    """A --flag's seconds, where 0 or "off" means no limit at all (None)."""
    if text.strip().lower() in ("0", "off"):
        return None
    return float(text)


#: Every limit, in the order `gg-workbench serve --help` lists them; each default is ServerConfig's.
LIMITS: Tuple[Limit, ...] = (
    Limit("max_connections", "--max-connections", int, "N", "open connections; one more is closed at once"),
    Limit("max_pending_logins", "--max-pending-logins", int, "N",
          "connections that have not logged in; more wait for a place, without GG_WELCOME"),
    Limit("login_timeout", "--login-timeout", float, "SECONDS", "a connection's lifetime before its login"),
    Limit("idle_timeout", "--idle-timeout", seconds_or_off, "SECONDS",
          "silence after which a logged-in client is dropped (0 or off: never)"),
    Limit("login_failures", "--login-failures", int, "N",
          "failed logins of one uin within the window, after which its logins are refused unchecked"),
    Limit("login_failure_window", "--login-failure-window", float, "SECONDS", "the window of --login-failures"),
    Limit("mailbox_size", "--mailbox-size", int, "N",
          "offline messages kept per recipient; past it senders get GG_ACK_MBOXFULL"),
    Limit("max_contacts", "--max-contacts", int, "N", "contacts per session"),
    Limit("write_high_water", "--write-high-water", int, "BYTES",
          "bytes buffered for a client before the server stops reading from it"),
    Limit("write_limit", "--write-limit", int, "BYTES",
          "bytes buffered for a client that does not read before it is disconnected"),
    Limit("max_unconfirmed", "--max-unconfirmed", int, "N",
          "messages written to a session and not yet confirmed while offline ones wait for theirs"),
    Limit("listen_backlog", "--listen-backlog", int, "N", "connections the kernel holds before they are accepted"),
)


class ConfigError(ValueError):
    """The server's configuration (users file, --user flag, limits) cannot be used as given."""


def _check_user(uin: object, password: object, where: str) -> None:
    if isinstance(uin, bool) or not isinstance(uin, int) or not 0 < uin <= _MAX_UIN:
        raise ConfigError(f"{where}: uin must be an integer in 1..{_MAX_UIN}, got {uin!r}")
    if not isinstance(password, str):
        raise ConfigError(f"{where}: password must be a string, got {type(password).__name__}")
    if "\x00" in password:
        raise ConfigError(f"{where}: a password cannot contain a NUL character (libgadu hashes C strings)")


def parse_user_spec(spec: str) -> Tuple[int, str]:
    """`"1001:secret"` -> (1001, "secret"); the password is everything after the first colon."""
    uin_text, colon, password = spec.partition(":")
    if not colon or not uin_text.strip().isdigit():
        raise ConfigError(f"--user {spec!r}: expected UIN:PASSWORD, e.g. 1001:alice")
    uin = int(uin_text)
    _check_user(uin, password, f"--user {spec!r}")
    return uin, password


def load_users_file(path: Union[str, Path]) -> Dict[int, str]:
    """Read a users file (format in USERS_FILE_FORMAT) into {uin: password}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"users file {path}: cannot read it: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ConfigError(f"users file {path}: not valid JSON in UTF-8: {exc}") from exc
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list):
        raise ConfigError(f'users file {path}: expected an object with a "users" list')
    result: Dict[int, str] = {}
    for index, entry in enumerate(users):
        where = f"users file {path}, users[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f'{where}: expected an object with "uin" and "password"')
        uin, password = entry.get("uin"), entry.get("password")
        _check_user(uin, password, where)
        if uin in result:
            raise ConfigError(f"{where}: uin {uin} appears twice")
        result[uin] = password  # type: ignore[index,assignment]  # _check_user checked both
    return result


@dataclass
class ServerConfig:
    """Everything the reference server needs; the defaults are what `gg-workbench serve` uses."""

    users: Dict[int, str] = field(default_factory=lambda: dict(DEMO_USERS))
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: None turns the echo contact off.
    echo_uin: Optional[int] = ECHO_UIN
    #: sqlite3 file for the offline queue; None keeps it in memory (lost on restart).
    state_path: Optional[str] = None
    #: One log line per packet in and out (never a password or a hash).
    log_packets: bool = False
    #: Seconds a connection may stay without logging in (the ServerSession's deadline).
    login_timeout: float = SERVER_LOGIN_TIMEOUT
    #: Seconds a logged-in client may send nothing (a pinging client never gets near); None: no limit.
    idle_timeout: Optional[float] = SERVER_IDLE_TIMEOUT
    #: Open connections at most; one more is closed at once with a log line.
    max_connections: int = 1024
    #: Connections that have not logged in yet, at most; one more is closed at once with a log line.
    max_pending_logins: int = 256
    #: Failed logins of one uin within login_failure_window seconds, after which its logins are
    #: refused without a password check until the window passes (gadu/server/login_throttle.py).
    login_failures: int = 10
    login_failure_window: float = 30.0
    #: Contacts one session may list (GG_NOTIFY_* and GG_ADD_NOTIFY); past it the session is closed.
    max_contacts: int = MAX_CONTACTS
    #: listen() backlog: connections the kernel holds before the server accepts them.
    listen_backlog: int = 128
    #: Bytes queued for one slow reader before the server stops reading from it (flow control)...
    write_high_water: int = 256 * 1024
    #: ... and before it gives up on it and disconnects.
    write_limit: int = WRITE_LIMIT
    #: Offline messages kept for one user; past it senders get GG_ACK_MBOXFULL.
    mailbox_size: int = 1000
    #: Messages written to one session and not yet confirmed with GG_RECV_MSG_ACK while offline ones
    #: are outstanding (each is remembered to match acks); past it the session is closed.
    max_unconfirmed: int = 5000

    def __post_init__(self) -> None:
        for uin, password in self.users.items():
            _check_user(uin, password, f"user {uin}")
        if self.echo_uin is not None:
            _check_user(self.echo_uin, "", "echo uin")
            if self.echo_uin in self.users:
                raise ConfigError(f"echo uin {self.echo_uin} is also a user; pick another --echo-uin")
        if not 0 <= self.port <= 0xFFFF:
            raise ConfigError(f"port {self.port} is not in 0..65535")
        if self.login_timeout <= 0:
            raise ConfigError(f"login timeout must be positive, got {self.login_timeout}")
        if self.idle_timeout is not None and self.idle_timeout <= 0:
            raise ConfigError(f"idle timeout must be positive or None (no limit), got {self.idle_timeout}")
        if self.listen_backlog < 1:
            raise ConfigError(f"listen backlog must be at least 1, got {self.listen_backlog}")
        if self.max_connections < 1:
            raise ConfigError(f"max connections must be at least 1, got {self.max_connections}")
        for name in ("max_pending_logins", "login_failures", "max_contacts"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1, got {getattr(self, name)}")
        if self.login_failure_window <= 0:
            raise ConfigError(f"login failure window must be positive, got {self.login_failure_window}")
        if not 0 < self.write_high_water <= self.write_limit:
            raise ConfigError("write buffer limits must satisfy 0 < high water <= limit")
        if self.max_unconfirmed <= self.mailbox_size:
            raise ConfigError(f"max unconfirmed messages ({self.max_unconfirmed}) must exceed the mailbox size"
                              f" ({self.mailbox_size}): a whole mailbox is written before its acks come")
        if self.mailbox_size < 0:
            raise ConfigError(f"mailbox size cannot be negative, got {self.mailbox_size}")

    @classmethod
    def with_users(cls, users: Iterable[Tuple[int, str]], **options: object) -> ServerConfig:
        """A config whose users are exactly these (uin, password) pairs."""
        table: Dict[int, str] = {}
        for uin, password in users:
            if uin in table:
                raise ConfigError(f"uin {uin} is given twice")
            table[uin] = password
        return cls(users=table, **options)  # type: ignore[arg-type]
