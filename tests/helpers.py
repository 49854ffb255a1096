"""Running the real `pipegen` entry point in-process, as a user's shell would."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipegen.cli import main


@dataclass
class Result:
    exit_code: int
    out: str
    err: str


def run_pipegen(capsys: pytest.CaptureFixture, *args: str) -> Result:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    code = exited.value.code
    return Result(code if isinstance(code, int) else (0 if code is None else 1), captured.out, captured.err)
