"""`pipegen gate sonar` surface: no token flag, and `pipegen --help` stays light."""
from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from pipegen.cli import cli


def test_the_token_cannot_be_passed_as_a_flag() -> None:
    help_text = CliRunner().invoke(cli, ["gate", "sonar", "--help"]).output
    assert "--token" not in help_text
    assert "SONAR_TOKEN" in help_text
    for option in ("--report-task", "--timeout", "--poll-interval", "--allow-no-gate", "--host-url"):
        assert option in help_text


def test_help_and_gate_help_import_neither_requests_nor_git() -> None:
    probe = ("import sys\nfrom click.testing import CliRunner\nfrom pipegen.cli import cli\n"
             "for args in (['--help'], ['gate', '--help'], ['gate', 'coverage', '--help'], ['gate', 'sonar', '--help'],"
             " ['gate', 'lint', '--help']):\n"
             "    assert CliRunner().invoke(cli, args).exit_code == 0\n"
             "print(sorted(m for m in ('requests', 'git', 'diff_cover', 'urllib3') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
