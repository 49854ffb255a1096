"""TEST FIXTURES: the backing services an adopted service's integration tests talk to, on loopback.

- PostgreSQL: the real server from Debian's binaries (/usr/lib/postgresql/*/bin), in a throw-away
  cluster on a free port; run as an unprivileged user when the tests run as root (postgres refuses root).
- Redis: no redis-server on this machine, so a stand-in that speaks Redis's wire protocol (RESP) for
  what the fixture's client sends (PING, SET, GET, CLIENT SETINFO, SELECT) over a real TCP socket.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return versions[-1].parent if versions else None


def _unprivileged_user() -> str | None:
    """Who runs postgres: nobody changes when the tests are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root with no postgres or nobody user to run PostgreSQL as")


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not listen on 127.0.0.1:{port} within {seconds} s")


def postgres_server(user: str, database: str) -> Iterator[int]:
    """A PostgreSQL cluster whose superuser is `user` (trust authentication on loopback) with
    `database` created; yields its port and stops the server (its process group) afterwards."""
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL's binaries are not on this machine")
    owner = _unprivileged_user()
    data = Path(tempfile.mkdtemp(prefix="pipegen-pg-"))  # not under pytest's root-only tmp: postgres reads it
    if owner:
        shutil.chown(data, owner)
    port = free_port()
    as_owner = {"user": owner} if owner else {}
    subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True, **as_owner)
    process = subprocess.Popen(  # pylint: disable=consider-using-with  # stopped in the finally below
        [str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(data),
         "-c", "fsync=off", "-c", "full_page_writes=off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, **as_owner)
    try:
        _wait_for_port(port, process)
        for _ in range(50):  # listening comes a moment before accepting logins
            done = subprocess.run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user,
                                   database], capture_output=True, text=True, check=False)
            if done.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"createdb failed: {done.stderr}")
        yield port
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)
        shutil.rmtree(data, ignore_errors=True)


class _RespHandler(socketserver.StreamRequestHandler):
    """One client connection: RESP arrays of bulk strings in, simple/bulk replies out."""

    def _read_command(self) -> list[bytes] | None:
        header = self.rfile.readline()
        if not header:
            return None
        if not header.startswith(b"*"):  # an inline command
            return header.strip().split()
        parts = []
        for _ in range(int(header[1:])):
            length = int(self.rfile.readline()[1:])
            parts.append(self.rfile.read(length + 2)[:-2])
        return parts

    def handle(self) -> None:
        store: dict[bytes, bytes] = self.server.store  # type: ignore[attr-defined]
        while (command := self._read_command()) is not None:
            name = command[0].upper() if command else b""
            self.server.seen.append(name.decode())  # type: ignore[attr-defined]
            if name == b"PING":
                self.wfile.write(b"+PONG\r\n")
            elif name == b"SET" and len(command) >= 3:
                store[command[1]] = command[2]
                self.wfile.write(b"+OK\r\n")
            elif name == b"GET" and len(command) == 2:
                value = store.get(command[1])
                self.wfile.write(b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
            elif name in (b"CLIENT", b"SELECT"):
                self.wfile.write(b"+OK\r\n")
            else:
                self.wfile.write(b"-ERR unknown command '%s'\r\n" % name)


class RedisStandin(socketserver.ThreadingTCPServer):
    """TEST FIXTURE: a Redis stand-in on 127.0.0.1 (no redis-server here); `seen` lists the commands
    it answered, so a test can show the integration tests really reached it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _RespHandler)
        self.store: dict[bytes, bytes] = {}
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> "RedisStandin":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.shutdown()
        self.server_close()
