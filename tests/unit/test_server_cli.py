"""`gg-workbench serve` and the server's configuration: users file, --user flags, ports, signals."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from server_testing import GGClient

from gadu import events as ev
from gadu.server.config import DEMO_USERS, ConfigError, ServerConfig, load_users_file, parse_user_spec
from workbench import cli

ROOT = Path(__file__).resolve().parents[2]


def start_serve(*args: str) -> subprocess.Popen:
    # Unbuffered bytes: select() then sees every line the server prints (no Python-side buffer).
    return subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
    )


def read_line_with(process: subprocess.Popen, needle: str, timeout: float = 20.0) -> str:
    """The first stdout line containing `needle`; fails past the deadline or if the process ends."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    pending = b""
    while True:
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if needle in line.decode():
                return line.decode()
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line with {needle!r} within {timeout} s"
        if select.select([process.stdout], [], [], remaining)[0]:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, f"the server exited ({process.wait()}): {process.stderr.read() if process.stderr else ''}"
            pending += chunk


def stop(process: subprocess.Popen, signum: int = signal.SIGTERM) -> List[str]:
    """Signal the server, wait for it to exit 0, return the rest of its stdout."""
    process.send_signal(signum)
    try:
        out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    assert process.returncode == 0, err
    return out.decode().splitlines()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_with_port_zero_prints_and_writes_the_port_and_stops_on_a_signal(tmp_path, signum):
    port_file = tmp_path / "port"
    state = tmp_path / "state.sqlite3"
    process = start_serve("--port", "0", "--port-file", str(port_file), "--user", "5001:tajne hasło",
                          "--user", "5002:b", "--state", str(state))
    try:
        line = read_line_with(process, "listening on")
        port = int(line.rsplit(":", 1)[1])
        assert port_file.read_text() == f"{port}\n"
        with GGClient.logged_in(port, 5001, "tajne hasło") as user:
            seq = user.message(5002, "na później")
            assert user.wait(ev.MessageAck, seq=seq).status == 3
        with GGClient(port, 1001, DEMO_USERS[1001]) as demo:
            demo.wait(ev.LoginFailed)  # --user replaces the demo accounts
    finally:
        rest = stop(process, signum)
    assert any("stopping" in line for line in rest)
    assert state.is_file()


def test_serve_alone_has_the_demo_users_and_the_echo_contact():
    process = start_serve("--port", "0")
    try:
        port = int(read_line_with(process, "listening on").rsplit(":", 1)[1])
        with GGClient.logged_in(port, 1001, DEMO_USERS[1001]) as alice:
            alice.message(1000, "echo?")
            assert alice.wait(ev.MessageReceived, sender=1000).text == "echo?"
    finally:
        stop(process)


def test_serve_help_documents_the_users_file(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert '"users"' in out and "--port-file" in out and "--state" in out


@pytest.mark.parametrize("argv,message", [
    (["--user", "alice"], "expected UIN:PASSWORD"),
    (["--user", "0:x"], "uin must be an integer"),
    (["--user", "1:a", "--user", "1:b"], "already defined"),
    (["--user", "1000:x"], "echo uin 1000 is also a user"),
    (["--users", "/nonexistent/users.json"], "cannot read it"),
    (["--port", "70000"], "not in 0..65535"),
])
def test_bad_configuration_is_exit_2_with_a_clear_message(capsys, argv, message):
    assert cli.main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_busy_port_is_exit_1_with_a_clear_message(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["serve", "--port", str(port), "--user", "1:x"]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_users_file_is_read(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [{"uin": 7, "password": "zażółć"}, {"uin": 8, "password": ""}],
                                "note": "ignored"}), encoding="utf-8")
    assert load_users_file(path) == {7: "zażółć", 8: ""}


@pytest.mark.parametrize("content,message", [
    ("{", "not valid JSON"),
    ("[]", 'expected an object with a "users" list'),
    ('{"users": [7]}', 'expected an object with "uin" and "password"'),
    ('{"users": [{"uin": "7", "password": "x"}]}', "uin must be an integer"),
    ('{"users": [{"uin": true, "password": "x"}]}', "uin must be an integer"),
    ('{"users": [{"uin": 7, "password": 7}]}', "password must be a string"),
    ('{"users": [{"uin": 7, "password": "a\\u0000b"}]}', "NUL"),
    ('{"users": [{"uin": 7, "password": "a"}, {"uin": 7, "password": "b"}]}', "appears twice"),
])
def test_bad_users_file_is_a_config_error_naming_the_problem(tmp_path, content, message):
    path = tmp_path / "users.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_users_file(path)


def test_user_spec_keeps_colons_in_the_password():
    assert parse_user_spec("1001:a:b:c") == (1001, "a:b:c")


def test_config_refuses_limits_that_cannot_work():
    with pytest.raises(ConfigError, match="login timeout"):
        ServerConfig(login_timeout=0)
    with pytest.raises(ConfigError, match="max connections"):
        ServerConfig(max_connections=0)
    with pytest.raises(ConfigError, match="high water"):
        ServerConfig(write_high_water=10, write_limit=5)
