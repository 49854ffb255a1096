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
