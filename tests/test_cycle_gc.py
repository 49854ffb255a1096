"""The cycle collector is off inside `paused()` and back on after it, errors and nesting included."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest

from pipegen.cycle_gc import paused

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_paused_turns_the_collector_off_and_back_on() -> None:
    assert gc.isenabled()
    with paused():
        assert not gc.isenabled()
        with paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
    assert gc.isenabled()


def test_paused_restores_the_collector_after_an_error() -> None:
    with pytest.raises(RuntimeError):
        with paused():
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_paused_as_a_decorator_keeps_the_function() -> None:
    @paused()
    def work(value: int) -> bool:
        """Doc."""
        return value == 1 and not gc.isenabled()

    assert work(1) and work.__doc__ == "Doc." and gc.isenabled()


def test_the_command_line_restores_the_collector(capsys) -> None:
    """validate/generate/check pause it for their whole run (imports included), then restore it."""
    from helpers import run_pipegen  # pylint: disable=import-outside-toplevel

    result = run_pipegen(capsys, "validate", "--descriptor", str(EXAMPLES / "minimal" / "pipegen.yaml"))
    assert result.exit_code == 0, result
    assert gc.isenabled()


def test_a_block_ending_the_process_freezes_what_it_left_alive() -> None:
    """Run as the program, a bounded command's objects are frozen when it ends: the collector, back
    on, and the shutdown's full collection never walk them. Elsewhere nothing is frozen."""
    frozen = gc.get_freeze_count()
    kept = []
    try:
        with paused():
            kept.append([[index] for index in range(1000)])
        assert gc.get_freeze_count() == frozen and gc.isenabled()
        with paused(process_ends=True):
            kept.append([[index] for index in range(1000)])
            assert not gc.isenabled()
        assert gc.get_freeze_count() >= frozen + 1000 and gc.isenabled()
    finally:
        gc.unfreeze()  # this test's process goes on


def test_the_program_freezes_its_objects_only_when_it_exits(tmp_path: Path) -> None:
    """`python -m pipegen generate` (main without argv) freezes before exiting; main(argv), as
    tests and embedders call it, does not."""
    import shutil  # pylint: disable=import-outside-toplevel
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    shutil.copy(EXAMPLES / "minimal" / "pipegen.yaml", tmp_path / "pipegen.yaml")
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: print('frozen', gc.get_freeze_count(), gc.isenabled()))\n"
             "from pipegen.cli import main\n"
             "if sys.argv[1] == 'argv':\n"
             "    try:\n"
             "        main(['generate', '--quiet'])\n"
             "    except SystemExit:\n"
             "        pass\n"
             "else:\n"
             "    sys.argv = ['pipegen', 'generate', '--quiet']\n"
             "    main()\n")
    for how, frozen in (("program", True), ("argv", False)):
        done = subprocess.run([sys.executable, "-c", probe, how], cwd=tmp_path, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr
        count, enabled = done.stdout.split()[-2:]
        assert (int(count) > 0) is frozen and enabled == "True", (how, done.stdout)
