"""What `pipegen run` prints while it runs, from any thread.

Three modes:
- live (the default on a terminal): one line per job (status, elapsed time, the step it is on),
  redrawn in place; messages (notes, approvals) print above the block.
- lines (the default elsewhere, e.g. a CI log): one line per state change of a job.
- verbose (`--verbose`): every line every job prints, prefixed with its job, as it comes, and the
  state changes.

Outside verbose mode a job's own output goes only to its log (.pipegen/run/logs/JOB.log); the
failing jobs' last lines are shown after the summary (see `failure_tails`)."""
from __future__ import annotations

import os
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from pipegen import scrub

TAIL_LINES = 30  # of a failing job's log, shown after the summary
REDRAW_SECONDS = 1.0
_UP_AND_CLEAR = "\x1b[{count}F\x1b[J"  # cursor to the start of the line `count` up, clear to the end of screen
_CLEAR_LINE = "\x1b[2K"


@dataclass
class _Row:
    job_id: str
    stage: str
    status: str = "waiting"
    started: float | None = None
    duration: float | None = None
    step: str = ""
    message: str = ""

    def text(self, width: int, stage_width: int, now: float) -> str:
        if self.duration is not None:
            elapsed = f"{self.duration:.1f}s"
        elif self.started is not None:
            elapsed = f"{now - self.started:.0f}s"
        else:
            elapsed = ""
        detail = self.step if self.status == "running" else self.message
        return f"{self.job_id:<{width}}  {self.stage:<{stage_width}}  {self.status:<8} {elapsed:>7}  {detail}".rstrip()


def is_terminal(stream: TextIO) -> bool:
    """A terminal that understands cursor movement (not TERM=dumb)."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


class Console:  # pylint: disable=too-many-instance-attributes  # the display's state
    """Whole lines only, from any thread; see the module's docstring for the modes."""

    def __init__(self, stream: TextIO, verbose: bool = False, live: bool = False):
        self.stream = stream
        self.verbose = verbose
        self.live = live and not verbose
        self.lock = threading.Lock()
        self.width = 0  # job ids are padded to this
        self.rows: dict[str, _Row] = {}
        self._drawn = 0  # lines of the live block on screen below the last message
        self._paused = False
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    # --- what the runner and the jobs say

    def say(self, text: str = "") -> None:
        """A message, always shown (above the live block); no secret of the caller's environment
        or of the plan reaches the console (pipegen.scrub)."""
        text = scrub.redact(text)
        with self.lock:
            self._erase()
            self.stream.write(text + "\n")
            self._draw()
            self.stream.flush()

    def emit(self, job_id: str, text: str) -> None:
        """A line of a job's output: shown only in verbose mode (the job's log has every line)."""
        if self.verbose:
            self.say(f"[{job_id:<{self.width}}] {text}")

    def note(self, job_id: str, text: str) -> None:
        """A message about a job, always shown."""
        self.say(f"[{job_id:<{self.width}}] {text}")

    def step(self, job_id: str, title: str) -> None:
        """The job started a step (shown on its live line)."""
        with self.lock:
            if job_id in self.rows:
                self.rows[job_id].step = title

    def started(self, job_id: str, what: str) -> None:
        with self.lock:
            row = self.rows.setdefault(job_id, _Row(job_id, ""))
            row.status, row.started = "running", time.monotonic()
        self._changed(job_id, f"started ({what})")

    def finished(self, job_id: str, status: str, duration: float | None = None, message: str = "") -> None:
        """A job passed, failed, was skipped or refused."""
        with self.lock:
            row = self.rows.setdefault(job_id, _Row(job_id, ""))
            row.status, row.duration, row.message = status, duration, message
        said = f"{status} in {duration:.1f}s" if duration is not None else status
        self._changed(job_id, said + (f": {message}" if message else ""))

    def _changed(self, job_id: str, text: str) -> None:
        if self.live:
            with self.lock:
                self._redraw()
        else:
            self.note(job_id, text)

    # --- the live block

    def start(self, jobs: list[tuple[str, str]]) -> None:
        """Shows one line per (job id, stage); in live mode redraws them every second until `stop`."""
        self.rows = {job_id: _Row(job_id, stage) for job_id, stage in jobs}
        if not self.live:
            return
        with self.lock:
            self._draw()
            self.stream.flush()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="pipegen-run-console", daemon=True)
        self._ticker.start()

    def stop(self, erase: bool = False) -> None:
        """Ends the live block: erased (the summary that follows says the same), or left on screen
        as it last was (after an interruption). Later calls do nothing."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self.lock:
            if self.live:
                if erase:
                    self._erase()
                else:
                    self._redraw()
                self.stream.flush()
            self.live, self._drawn = False, 0

    def pause(self) -> None:
        """Takes the block off the screen so a prompt has the terminal (see `resume`)."""
        with self.lock:
            self._erase()
            self._paused = True
            self.stream.flush()

    def resume(self) -> None:
        """Draws the block anew below whatever the prompt printed."""
        with self.lock:
            self._paused = False
            self._draw()
            self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(REDRAW_SECONDS):
            with self.lock:
                self._redraw()

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(_UP_AND_CLEAR.format(count=self._drawn))
            self._drawn = 0

    def _draw(self) -> None:
        if not self.live or self._paused or not self.rows:
            return
        columns = shutil.get_terminal_size((100, 24)).columns
        stage_width = max(len(row.stage) for row in self.rows.values())
        now = time.monotonic()
        for row in self.rows.values():
            # Cut to the terminal's width: a wrapped line would throw the count of lines to redraw off.
            text = scrub.redact(row.text(self.width, stage_width, now))
            self.stream.write(_CLEAR_LINE + text[:max(columns - 1, 1)] + "\n")
        self._drawn = len(self.rows)

    def _redraw(self) -> None:
        if not self.live or self._paused:
            return
        self._erase()
        self._draw()
        self.stream.flush()


def failure_tails(failed: list[tuple[str, str]], logs: Path, lines: int = TAIL_LINES,
                  show_tail: bool = True) -> list[str]:
    """For each (job id, why it failed): a heading naming the log, then its last `lines` lines."""
    shown: list[str] = []
    for job_id, why in failed:
        log = logs / f"{job_id}.log"
        where = _shown_path(log)
        if not log.is_file():
            shown += ["", f"{job_id} failed: {why} (no log was written)"]
            continue
        if not show_tail:
            shown += ["", f"{job_id} failed: {why}; its log: {where}"]
            continue
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
        shown += ["", f"{job_id} failed: {why}; the last {min(lines, len(text))} lines of {where}:"]
        shown += [f"  {line}" for line in text[-lines:]]
    return shown


def _shown_path(path: Path) -> str:
    """Relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
