"""Timing child processes: CPU time (user + system) and peak RSS of each child, from
os.wait4's resource usage, in interleaved rounds so machine noise hits every command alike."""
from __future__ import annotations

import os
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Sample:
    cpu: float  # seconds, user + system
    wall: float  # seconds
    rss_mib: float  # peak resident set size


@dataclass
class Series:
    label: str
    samples: list[Sample] = field(default_factory=list)

    def median(self, what: str = "cpu") -> float:
        return statistics.median(getattr(sample, what) for sample in self.samples)


def run_child(argv: list[str], cwd: Path | None = None, env: dict | None = None,
              ok_codes: tuple[int, ...] = (0,)) -> Sample:
    """Runs argv to completion; its CPU time and peak RSS come from wait4 (that child only)."""
    import time  # pylint: disable=import-outside-toplevel

    start = time.perf_counter()
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as child:
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        error = child.stderr.read().decode(errors="replace") if child.stderr else ""
    wall = time.perf_counter() - start
    if child.returncode not in ok_codes:
        raise SystemExit(f"benchmark step failed ({child.returncode}): {' '.join(map(str, argv))}\n{error}")
    return Sample(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


def interleave(commands: dict[str, dict], rounds: int) -> dict[str, Series]:
    """commands: label -> run_child keyword arguments; one of each per round, in turn."""
    series = {label: Series(label) for label in commands}
    for _ in range(rounds):
        for label, kwargs in commands.items():
            series[label].samples.append(run_child(**kwargs))
    return series


def ratio_table(series: dict[str, Series], baseline: str, what: str = "cpu") -> str:
    base = series[baseline].median(what)
    lines = [f"  {'command':<34} {'median CPU ms' if what == 'cpu' else 'median ' + what:>14} "
             f"{'wall ms':>9} {'peak RSS MiB':>13} {'ratio':>7}"]
    for label, item in series.items():
        lines.append(f"  {label:<34} {item.median(what) * 1000:14.1f} {item.median('wall') * 1000:9.1f} "
                     f"{item.median('rss_mib'):13.1f} {item.median(what) / base:6.2f}x")
    return "\n".join(lines)
