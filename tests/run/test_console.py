"""pipegen run's display in each mode, on the text it writes (the real command's output is tested in
test_output.py): the live block redrawn in place, one line per state change, the verbose stream, and
the failing jobs' tails."""
from __future__ import annotations

import io
from pathlib import Path

from pipegen.run import console as console_module
from pipegen.run.console import Console, failure_tails

UP_AND_CLEAR = "\x1b[2F\x1b[J"  # back over a block of two job lines


def test_live_block_redraws_in_place_and_messages_print_above_it(monkeypatch) -> None:
    monkeypatch.setattr(console_module, "REDRAW_SECONDS", 3600)  # only the redraws a change makes
    stream = io.StringIO()
    console = Console(stream, live=True)
    console.width = 4
    console.start([("lint", "test"), ("unit", "test")])
    console.started("lint", "test: Lint")
    console.step("lint", "Lint gate")
    console.emit("lint", "Requirement already satisfied: ruff")  # the job's own output: its log only
    console.say("pipegen run: note: something to know")
    console.finished("lint", "failed", 2.5, "step 'Lint gate' exited with 1")
    before_end = stream.getvalue()
    console.stop(erase=True)
    text = stream.getvalue()
    assert "Requirement already satisfied" not in text
    frames = before_end.split(UP_AND_CLEAR)
    assert frames[0].splitlines()[0].endswith("lint  test  waiting")
    # The message went above a fresh block, which then showed the step the running job is on.
    assert frames[2].startswith("pipegen run: note: something to know\n")
    assert "lint  test  running" in frames[2] and "Lint gate" in frames[2]
    assert frames[-1].splitlines()[0].endswith("lint  test  failed      2.5s  step 'Lint gate' exited with 1")
    assert text.endswith(UP_AND_CLEAR)  # at the end the block makes way for the summary
    console.say("after")
    assert stream.getvalue().endswith(UP_AND_CLEAR + "after\n")  # nothing is redrawn once stopped


def test_a_prompt_gets_the_terminal_and_the_block_comes_back_below_it(monkeypatch) -> None:
    monkeypatch.setattr(console_module, "REDRAW_SECONDS", 3600)
    stream = io.StringIO()
    console = Console(stream, live=True)
    console.start([("deploy", "prod"), ("smoke", "prod")])
    console.pause()
    stream.write("Approve? [y/N]: y\n")  # what the prompt prints while the block is off the screen
    console.finished("deploy", "refused", message="prod was not approved")  # not drawn while paused
    console.resume()
    console.stop()
    after_prompt = stream.getvalue().split("Approve? [y/N]: y\n")[1]
    assert after_prompt.splitlines()[0].endswith("deploy  prod  refused           prod was not approved")


def test_without_a_terminal_each_state_change_is_one_line() -> None:
    stream = io.StringIO()
    console = Console(stream)
    console.width = 4
    console.start([("unit", "test")])
    console.started("unit", "test: Unit tests")
    console.emit("unit", "Collecting pytest")
    console.finished("unit", "failed", 39.64, "step 'Coverage gate' exited with 1")
    console.finished("docs", "skipped", message="unit did not pass")
    console.stop(erase=True)
    assert stream.getvalue().splitlines() == [
        "[unit] started (test: Unit tests)",
        "[unit] failed in 39.6s: step 'Coverage gate' exited with 1",
        "[docs] skipped: unit did not pass"]


def test_verbose_streams_every_job_line() -> None:
    stream = io.StringIO()
    console = Console(stream, verbose=True, live=True)  # verbose wins over a terminal
    console.width = 4
    console.start([("unit", "test")])
    console.emit("unit", "Collecting pytest")
    console.stop()
    assert stream.getvalue() == "[unit] Collecting pytest\n"


def test_failure_tails_show_the_last_lines_under_the_logs_path(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    logs = tmp_path / ".pipegen" / "run" / "logs"
    logs.mkdir(parents=True)
    (logs / "unit.log").write_text("".join(f"line {number}\n" for number in range(1, 41)), encoding="utf-8")
    shown = failure_tails([("unit", "step 'Tests' exited with 1"), ("lint", "could not prepare")], logs, lines=3)
    assert shown == ["", "unit failed: step 'Tests' exited with 1; the last 3 lines of .pipegen/run/logs/unit.log:",
                     "  line 38", "  line 39", "  line 40",
                     "", "lint failed: could not prepare (no log was written)"]
    assert failure_tails([("unit", "why")], logs, show_tail=False) == [
        "", "unit failed: why; its log: .pipegen/run/logs/unit.log"]
