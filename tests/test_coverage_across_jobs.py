"""The generated coverage steps, executed: each test level runs in a checkout of its own (as
jobs on different agents or shell runners do, at different absolute paths), and the last level
combines what every level measured. Runs the plan's own step text with bash and real coverage."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import plan_from_yaml

DESCRIPTOR = """
project: {name: shop, source: src}
targets: [github]
tests: {unit: tests/unit, integration: tests/integration}
quality: {coverage: {min: 100}}
"""
MODULE = "def price(amount, member):\n    if member:\n        return amount * 0.9\n    return amount\n"
UNIT = "from shop.prices import price\n\n\ndef test_members_pay_less():\n    assert price(10, True) == 9\n"
INTEGRATION = "from shop.prices import price\n\n\ndef test_others_pay_full():\n    assert price(10, False) == 10\n"


def checkout(root: Path) -> Path:
    for name, text in {"src/shop/__init__.py": "", "src/shop/prices.py": MODULE, "tests/unit/test_unit.py": UNIT,
                       "tests/integration/test_integration.py": INTEGRATION,
                       "pyproject.toml": "[tool.coverage.run]\nbranch = true\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def run_steps(job, cwd: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("COVERAGE_")}
    env["PYTHONPATH"] = str(cwd / "src")
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    for step in job.steps:
        if step.run.startswith("pipegen gate"):
            continue  # the gate is tested elsewhere; here: what it would read
        done = subprocess.run(["bash", "-c", "set -eu\n" + step.run.replace("python -m", f"{sys.executable} -m")],
                              cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300)
        assert done.returncode == 0, f"{step.title}:\n{done.stdout}\n{done.stderr}"


def test_levels_measured_in_different_checkouts_combine_into_one_report(tmp_path: Path):
    plan = plan_from_yaml(DESCRIPTOR)
    unit_dir, integration_dir = checkout(tmp_path / "agent-1" / "shop"), checkout(tmp_path / "agent-2" / "build")
    run_steps(plan.job("unit"), unit_dir)
    # The unit job hands its data file over; the integration job (the last level) combines.
    (integration_dir / "pipegen-coverage").mkdir()
    shutil.copy(unit_dir / "pipegen-coverage" / "unit.coverage", integration_dir / "pipegen-coverage")
    run_steps(plan.job("integration"), integration_dir)
    root = ET.parse(integration_dir / "coverage.xml").getroot()
    files = {element.get("filename") for element in root.iter("class")}
    assert files == {"src/shop/__init__.py", "src/shop/prices.py"}
    # Each level alone covers one branch of `price`; only the union reaches 100 %.
    assert float(root.get("line-rate")) == 1.0 and float(root.get("branch-rate")) == 1.0
