"""Every console example in the documentation runs as written, in a fresh git repository holding a
copy of the example it names, and prints what the page says (see console_examples.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from console_examples import ROOT, Block, blocks, documentation_files, normalise

EXAMPLES = ROOT / "examples"
ALL_BLOCKS = [block for path in documentation_files() for block in blocks(path)]
# Variables by which pipegen believes it runs in a CI or is told a gate mode: a reader's shell has none.
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_NAME", "TF_BUILD",
                "BUILD_REASON", "GITLAB_CI", "CI_PIPELINE_SOURCE", "JENKINS_URL", "CHANGE_ID", "PIPEGEN_GATE_MODE",
                "PIPEGEN_OUTPUTS_FILE", "PIPEGEN_EVENT", "PIPEGEN_DESCRIPTOR", "VIRTUAL_ENV", "PYTHONPATH")


def test_every_console_block_names_the_example_it_runs_in():
    unmarked = [block.where for block in ALL_BLOCKS if block.example is None]
    assert not unmarked, f"console blocks without a <!-- console-example: NAME --> line before them: {unmarked}"
    unknown = [block.where for block in ALL_BLOCKS if block.example and not (EXAMPLES / block.example).is_dir()]
    assert not unknown, f"console blocks naming no folder of examples/: {unknown}"
    assert all(block.commands for block in ALL_BLOCKS), "a console block without a `$ ` command"


def reader_environment(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in CI_VARIABLES}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80",
               HOME=str(home), MLFLOW_DISABLE_TELEMETRY="true", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PYTHONUNBUFFERED="1",  # stdout and stderr in the order the command wrote them
               GIT_AUTHOR_NAME="Docs Reader", GIT_AUTHOR_EMAIL="reader@example.test",
               GIT_COMMITTER_NAME="Docs Reader", GIT_COMMITTER_EMAIL="reader@example.test",
               GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return env


def example_repository(name: str, folder: Path, env: dict[str, str]) -> Path:
    """The example as a reader's clone would have it: its committed files, on main, one commit."""
    work = folder / name
    shutil.copytree(EXAMPLES / name, work, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))
    for args in (["init", "--quiet", "--initial-branch", "main"], ["add", "--all"],
                 ["commit", "--quiet", "--message", f"the {name} example"]):
        subprocess.run(["git", *args], cwd=work, env=env, check=True, capture_output=True)
    return work


@pytest.mark.parametrize("block", [block for block in ALL_BLOCKS if block.example], ids=lambda block: block.where)
def test_console_example_prints_what_the_page_says(block: Block, tmp_path):
    env = reader_environment(tmp_path / "home")
    (tmp_path / "home").mkdir()
    work = example_repository(block.example, tmp_path, env)
    for command in block.commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.text], cwd=work, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600, check=False)
        where = f"{block.path.relative_to(ROOT)}:{command.line}: $ {command.text}"
        assert normalise(done.stdout, work, tmp_path / "home") == normalise("\n".join(command.expected)), where
