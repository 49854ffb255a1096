"""The Sonar job: the scanner, then pipegen's gate on the server's quality gate."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.common import env_items, gate_command, gate_mode, pipegen_for, quote, report_path, source_folders
from pipegen.plan.model import REPORT_DIR, EnvKind, EnvValue, Job, Step
from pipegen.syntax import shell_command

SONAR_SCANNER_REQUIREMENT = "pysonar>=1.0,<2"


def sonar_job(descriptor: Descriptor, coverage_job: str | None) -> Job | None:
    sonar = descriptor.quality.sonar
    if sonar is None:
        return None
    key = quote(sonar.project_key)
    source = quote(",".join(source_folders(descriptor)) or ".")
    coverage = " -Dsonar.python.coverage.reportPaths=coverage.xml" if coverage_job else ""
    allow = " --allow-no-gate" if sonar.allow_no_gate else ""
    mode = gate_mode(descriptor, "sonar")
    return Job(
        id="sonar", title="Sonar analysis and quality gate", stage="test",
        comment="Sonar scan, then pipegen waits for the server's quality gate and fails the job on ERROR "
                "(Azure's own SonarQubePublish never fails a build).",
        steps=(
            Step("Prepare the report folder", f"mkdir -p {REPORT_DIR}", reads=()),
            Step("Sonar scanner (reads the token from SONAR_TOKEN)",
                 shell_command("pysonar", '--sonar-host-url="$SONAR_HOST_URL"', f"--sonar-project-key={key}",
                               f"--sonar-sources={source}", coverage.strip())),
            Step("Sonar gate", gate_command("sonar", mode, "--report-task .scannerwork/report-task.txt",
                                            f"--timeout {sonar.timeout}{allow}")),
        ),
        # The gate and the scanner read SONAR_HOST_URL and SONAR_TOKEN, whatever the CI calls them.
        needs=(coverage_job,) if coverage_job else (), env=env_items({
            "SONAR_HOST_URL": EnvValue(EnvKind.VARIABLE, sonar.host_url_var),
            "SONAR_TOKEN": EnvValue(EnvKind.SECRET, sonar.token_secret)}),
        pipegen=pipegen_for(descriptor), pip_packages=(SONAR_SCANNER_REQUIREMENT,), full_history=True,
        install_note="The Sonar scanner only (it reads source files and coverage.xml); pipegen (core): the Sonar "
                     "gate. Not the project.",
        timeout_minutes=15 + sonar.timeout // 60, fetches=(coverage_job,) if coverage_job else (),
        artifacts=(REPORT_DIR,), junit=(report_path("sonar.junit.xml"),), secrets=(sonar.token_secret,), gate="sonar",
        gate_mode=mode)
