"""The gate-report job (`report: {comment: true}`) on every platform, read back from the
generated files: last, on pull/merge requests only, also after a failed gate, with write
access and the platform's token in that one job (step) only."""
from __future__ import annotations

import textwrap

import pytest
import yaml

from conftest import plan_from_yaml
from jenkins_structure import Call, If, Ref, read_pipeline
from pipegen.platforms import get_backend
from pipegen.errors import DescriptorError

DESCRIPTOR = textwrap.dedent("""\
    version: 1
    project: {name: review-demo, python: "3.11", requirements: {test: requirements-test.txt}}
    targets: [github, gitlab, azure, jenkins]
    triggers: {branches: [main], pull_requests: true}
    tests: {unit: tests/unit, integration: tests/integration}
    quality: {coverage: {min: 80}, pylint: {min_score: 8}}
    report: {comment: true, host: gitlab, token_secret: REVIEW_TOKEN}
""")


@pytest.fixture(name="plan")
def fixture_plan():
    return plan_from_yaml(DESCRIPTOR)


def render(plan, target: str) -> str:
    return get_backend(target).render(plan)


def test_plan_puts_the_report_last_on_pull_requests(plan):
    assert plan.stages[-1].id == "report"
    (job,) = plan.stages[-1].jobs
    assert (job.id, job.always, job.collects_reports, job.review_comment) == ("report-comment", True, True, True)
    assert job.run_when.value == "pull-request"


def test_github(plan):
    workflow = yaml.safe_load(render(plan, "github"))
    jobs = workflow["jobs"]
    report = jobs["report-comment"]
    assert report["if"] == "${{ always() && github.event_name == 'pull_request' }}"
    assert report["permissions"] == {"contents": "read", "pull-requests": "write"}
    others = [job for key, job in jobs.items() if key != "report-comment"]
    assert all("pull-requests" not in job.get("permissions", {}) for job in others)
    ancestors, frontier = set(), list(report["needs"])
    while frontier:
        need = frontier.pop()
        ancestors.add(need)
        frontier += [n for n in jobs[need].get("needs", []) if n not in ancestors]
    assert ancestors == set(jobs) - {"report-comment"}  # after every other job
    fetch = next(step for step in report["steps"] if step.get("uses", "").startswith("actions/download-artifact@"))
    assert fetch["with"]["pattern"] == "reports-*" and fetch["with"]["merge-multiple"] is True
    # an artifact of one folder holds the folder's contents: merged back into the folder the comment reads
    assert fetch["with"]["path"] == "pipegen-reports"
    with_token = [step for job in jobs.values() for step in job["steps"] if "GITHUB_TOKEN" in str(step.get("env"))]
    # GitHub comments on its own pull requests: report.host (Jenkins') is not carried here
    assert [step["run"] for step in with_token] == ["pipegen report comment --reports-dir pipegen-reports"]
    assert with_token[0]["env"] == {"PIPEGEN_REPORT_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}


def test_gitlab(plan):
    pipeline = yaml.safe_load(render(plan, "gitlab"))
    assert pipeline["stages"][-1] == "report"
    job = pipeline["report-comment"]
    assert job["stage"] == "report"
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "always",
                             "allow_failure": True}]
    # No `needs:`: stage order, so it starts after every earlier job. `dependencies:`: only the
    # artifacts (reports) of the jobs that keep some, not every job's hand-overs and dotenv outputs.
    assert "needs" not in job
    keeping = [key for key, other in pipeline.items() if isinstance(other, dict)
               and "pipegen-reports" in other.get("artifacts", {}).get("paths", []) and key != "report-comment"]
    assert job["dependencies"] == keeping == ["pipegen-check", "lint", "unit", "integration"]
    assert job["script"][-1] == "pipegen report comment --reports-dir pipegen-reports"
    assert "PIPEGEN_REPORT_HOST" not in job.get("variables", {})
    # REVIEW_TOKEN is read from the masked variable, under the name the command reads.
    assert job.get("variables", {}).get("PIPEGEN_REPORT_TOKEN") == "${REVIEW_TOKEN}"
    for key, other in pipeline.items():
        if isinstance(other, dict) and "script" in other and other.get("artifacts", {}).get("paths"):
            assert other["artifacts"]["when"] == "always", key  # a failed gate's report is kept


def test_azure(plan):
    pipeline = yaml.safe_load(render(plan, "azure"))
    stage = pipeline["stages"][-1]
    assert stage["stage"] == "REPORT"
    assert stage["condition"] == "and(always(), eq(variables['Build.Reason'], 'PullRequest'))"
    steps = [step for other in pipeline["stages"] for job in other["jobs"] for step in job["steps"]]
    with_token = [step for step in steps if "System.AccessToken" in str(step)]
    assert len(with_token) == 1 and with_token[0]["env"] == {"PIPEGEN_REPORT_TOKEN": "$(System.AccessToken)"}
    assert with_token[0]["bash"].splitlines()[-1] == "pipegen report comment --reports-dir pipegen-reports"
    fetch = stage["jobs"][0]["steps"][1]
    assert fetch["task"] == "DownloadPipelineArtifact@2" and fetch["inputs"]["itemPattern"] == "**/*.md"
    checklist = get_backend("azure").checklist(plan)
    assert any("Contribute to pull requests" in item.name for item in checklist)


def _calls(body) -> list[Call]:
    return [item for item in body or [] if isinstance(item, Call)]


def test_jenkins(plan):
    text = render(plan, "jenkins")
    pipeline = read_pipeline(text)
    assert pipeline.directives[-1] == "post" and "report-comment" not in [s.name for s in pipeline.all_stages()]
    (script,) = _calls(pipeline.post["always"])
    (condition,) = script.body
    assert isinstance(condition, If) and condition.condition == Ref("env.CHANGE_ID")  # pull requests only
    (stage,) = condition.body
    assert (stage.name, stage.args) == ("stage", ["report-comment"])  # its own stage in the build's view
    (node,) = _calls(stage.body)
    (catch,) = _calls(node.body)
    assert (catch.name, catch.kwargs) == ("catchError", {"buildResult": "SUCCESS", "stageResult": "SUCCESS"})
    (timeout,) = _calls(catch.body)
    names = [call.name for call in _calls(timeout.body)]
    assert names[:2] == ["checkout", "unstashReports"] and names[-1] == "withEnv"
    # Jenkins posts through the repository host: report.host reaches `pipegen report comment --host`
    # through PIPEGEN_REPORT_HOST, on this platform only
    host = _calls(timeout.body)[-1]
    assert host.args == [["PIPEGEN_REPORT_HOST=gitlab"]]
    (binding,) = _calls(host.body)
    assert binding.name == "withCredentials"
    assert "review-token" in repr(binding.args) and "PIPEGEN_REPORT_TOKEN" in repr(binding.args)
    # every gate stage stashes its report folder for the post section, also when it fails
    stashed = {call.kwargs["name"] for stage in pipeline.all_stages()
               for call in stage.post.get("always", []) if isinstance(call, Call) and call.name == "stash"}
    # (pipegen-check writes the pipeline diff's Markdown on pull requests)
    assert stashed == {"reports-pipegen-check", "reports-lint", "reports-unit", "reports-integration"}
    unstashed = [call.args[0] for call in _calls(timeout.body) if call.name == "unstashReports"]
    assert set(unstashed) == stashed
    items = {item.name for item in get_backend("jenkins").checklist(plan)}
    assert "review-token" in items


def test_descriptor_rules(tmp_path):
    for bad, message in ((DESCRIPTOR.replace("host: gitlab, ", ""), "set report.host"),
                         (DESCRIPTOR.replace(", token_secret: REVIEW_TOKEN", ""), "report.token_secret"),
                         (DESCRIPTOR.replace("host: gitlab", "host: gitea"), "report.host")):
        with pytest.raises(DescriptorError, match=message):
            plan_from_yaml(bad)


def test_the_report_job_reads_back_as_the_plan_says(plan):
    """Every platform's parity reader sees the report job: last (after every other job), on
    pull requests only, with the token only where the plan puts it; on GitLab it sees only the
    outputs of gate jobs (their dotenv travels with their reports), on Jenkins it is the scripted
    stage of the pipeline's `post { always }`."""
    from pipegen.platforms import parity  # pylint: disable=import-outside-toplevel
    from pipegen.platforms import readback as rb  # pylint: disable=import-outside-toplevel
    from pipegen.platforms.readers import read_back  # pylint: disable=import-outside-toplevel

    expected = rb.from_plan(plan)
    report = expected.jobs["report-comment"]
    assert report.events == {rb.PULL_REQUEST} and report.after == set(expected.jobs) - {"report-comment"}
    for target in ("github", "gitlab", "azure", "jenkins"):
        view = read_back(target, render(plan, target), rb.release_branch(plan), frozenset())
        found = view.jobs["report-comment"]
        # (a Jenkins multibranch job also builds pull requests into other branches)
        assert rb.PULL_REQUEST in found.events and found.events <= rb.PULL_REQUESTS, target
        assert found.after == set(view.jobs) - {"report-comment"}, target
        assert found.stage == "report", target
        problems = [line for line in parity.compare(expected, view) if "report-comment" in line]
        assert problems == [], (target, problems)


def test_no_report_job_without_pull_requests():
    plan = plan_from_yaml(DESCRIPTOR.replace("pull_requests: true", "pull_requests: false"))
    assert "report" not in [stage.id for stage in plan.stages]
