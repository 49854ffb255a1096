"""What the hostile-input tests share: the real command in its own process (a hang is a
timeout, not a stuck suite), a secret in its environment, the check that nothing secret and
no CI logging command reached what it printed or wrote, and loopback hosts that record what
they were sent (a second one on 127.0.0.2, to prove a token does not travel there)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest

from helpers import make_repo
from loopback_json import JsonHandler

SECRET = "hostile-s3cr3t-T0KEN-9f8e7d6c5b4a"
# CI markers the caller's environment may carry: the commands must see exactly the CI each test sets.
CI_MARKERS = ("CI", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_NAME",
              "GITHUB_EVENT_PATH", "GITHUB_REF", "GITHUB_API_URL", "GITHUB_REPOSITORY", "TF_BUILD", "BUILD_REASON",
              "GITLAB_CI", "CI_PIPELINE_SOURCE", "CI_MERGE_REQUEST_IID", "CI_API_V4_URL", "CI_PROJECT_ID",
              "JENKINS_URL", "CHANGE_ID", "CHANGE_URL", "SYSTEM_PULLREQUEST_PULLREQUESTID", "PIPEGEN_GATE_MODE",
              "PIPEGEN_OUTPUTS_FILE", "PIPEGEN_OUTPUTS_LEDGER", "PIPEGEN_EVENT", "PIPEGEN_REPORT_TOKEN", "SONAR_TOKEN",
              "SONAR_HOST_URL", "PIPEGEN_ALLOW_READ", "PIPEGEN_DEBUG", "RUNNER_TEMP", "AGENT_TEMPDIRECTORY")


def environment(**extra: str) -> dict[str, str]:
    """The caller's environment without CI markers, with a secret every command can see, and `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in CI_MARKERS}
    env.update({"HOSTILE_API_TOKEN": SECRET, "MLFLOW_DISABLE_TELEMETRY": "true"}, **extra)
    return env


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err

    def explain(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out[-4000:]}\n--- stderr\n{self.err[-4000:]}"


def pipegen(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Ran:
    """The real `pipegen ARGS` in its own process, in `cwd`; a hang fails the test at `timeout`."""
    done = subprocess.run([sys.executable, "-m", "pipegen", *args], cwd=cwd, env=env or environment(),
                          capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    return Ran(done.returncode, done.stdout, done.stderr)


# What a CI's log reader would take for a command (see pipegen.scrub): GitHub `::name::` after leading
# whitespace and the legacy `##[name]` anywhere; Azure `##vso[` anywhere; GitLab's section markers (which
# need CR and ESC); Jenkins' console notes (ESC[8mha:); and a bare CR, which starts a new line for them.
_COMMAND_LINE = re.compile(r"^\s*::|##\[|##vso\[|section_(?:start|end):\d+:\S*\r\x1b\[0K|\x1b\[8mha:|\r", re.I | re.M)


def logging_commands(text: str) -> list[str]:
    """The lines of `text` a CI would read as a logging command."""
    return [line for line in re.split(r"\n", text) if _COMMAND_LINE.search(line)]


def assert_safe(ran: Ran, code: int | set[int], *files: Path, secrets: tuple[str, ...] = (SECRET,),
                commands_allowed: tuple[str, ...] = ()) -> None:
    """The documented exit code, no traceback, no secret and no logging command from data in what
    was printed or in `files` (reports the command wrote)."""
    codes = {code} if isinstance(code, int) else code
    assert ran.code in codes, ran.explain()
    assert "Traceback" not in ran.both, ran.explain()
    texts = {"output": ran.both}
    texts.update({str(path): path.read_text(encoding="utf-8", errors="replace") for path in files if path.exists()})
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text and secret[:12] not in text, f"{where} holds a secret:\n{text[-3000:]}"
        found = [line for line in logging_commands(text) if not line.startswith(commands_allowed or ("\0",))]
        assert not found, f"{where} carries CI logging commands from data: {found}"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository (its own, wherever the test's temporary folder is), as the working directory."""
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the repository, holding a secret."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.env").write_text(f"API_TOKEN={SECRET}\n", encoding="utf-8")
    (folder / "data.csv").write_text(f"a,b\n1,{SECRET}\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------- loopback hosts


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int
    payload: object = None
    headers: dict[str, str] = field(default_factory=dict)


class RecordingHost(ThreadingHTTPServer):
    """TEST FIXTURE: a loopback HTTP host that records every request (headers and body) and
    answers through `route(method, path) -> Answer` (default: 404 JSON)."""

    def __init__(self, address: str = "127.0.0.1"):
        super().__init__((address, 0), _RecordingHandler)
        self.seen: list[Seen] = []
        self.route: Callable[[str, str], Answer] = lambda method, path: Answer(404, {"message": "Not Found"})

    @property
    def url(self) -> str:
        return f"http://{self.server_address[0]}:{self.server_address[1]}"

    def carried(self, secret: str = SECRET) -> list[Seen]:
        """The requests that carried `secret` anywhere: a header or the body."""
        return [seen for seen in self.seen
                if secret in json.dumps(seen.headers) or secret.encode() in seen.body
                or any(secret in value for value in _decoded_basic(seen.headers))]


def _decoded_basic(headers: dict[str, str]) -> list[str]:
    import base64  # pylint: disable=import-outside-toplevel

    values = []
    for name, value in headers.items():
        if name.lower() == "authorization" and value.lower().startswith("basic "):
            values.append(base64.b64decode(value.split(" ", 1)[1] + "==").decode(errors="replace"))
    return values


class _RecordingHandler(JsonHandler):
    server: RecordingHost

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers.items()), body))
        answer = self.server.route(self.command, self.path)
        if isinstance(answer.payload, str):
            data = answer.payload.encode()
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._reply(answer.status, answer.payload, answer.headers)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


@pytest.fixture
def hosts() -> Iterator[tuple[RecordingHost, RecordingHost]]:
    """(the configured host on 127.0.0.1, another host on 127.0.0.2), both serving."""
    servers = (RecordingHost("127.0.0.1"), RecordingHost("127.0.0.2"))
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
