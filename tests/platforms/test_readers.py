"""The readers' condition languages on hand-written inputs (what generated files do not
exercise), and unreadable input reported as EvaluationError, never a traceback."""
from __future__ import annotations

import pytest

from pipegen.platforms import readback as rb
from pipegen.platforms.azure import reader as azure_reader
from pipegen.platforms.github import reader as github_reader
from pipegen.platforms.gitlab import reader as gitlab_reader
from pipegen.platforms.jenkins import reader as jenkins_reader
from pipegen.platforms.readers import read_back
from pipegen.errors import EvaluationError


@pytest.mark.parametrize("condition, event, needs_ran, runs", [
    ("${{ github.event_name == 'push' || github.event_name == 'schedule' }}", rb.SCHEDULE, True, True),
    ("${{ !(github.ref == 'refs/heads/main') }}", rb.MANUAL_OTHER, True, True),
    ("${{ always() }}", rb.PUSH_RELEASE, False, True),
    ("${{ github.ref == 'refs/heads/main' }}", rb.PUSH_RELEASE, False, False),  # a skipped need skips it
    ("${{ 'it''s' == 'it''s' && true }}", rb.PULL_REQUEST, True, True),
])
def test_github_conditions(condition, event, needs_ran, runs) -> None:
    assert github_reader.evaluate(condition, event, "main", needs_ran) is runs


@pytest.mark.parametrize("condition", ["${{ github.actor == 'x' }}", "${{ (true }}", "${{ true false }}", "${{ @ }}"])
def test_github_conditions_it_cannot_read(condition) -> None:
    with pytest.raises(rb.ConditionError):
        github_reader.evaluate(condition, rb.PUSH_RELEASE, "main", True)


@pytest.mark.parametrize("rule, event, decision", [
    ({"if": '$CI_COMMIT_BRANCH =~ /^release\\/.*$/'}, rb.PUSH_OTHER, "never"),
    ({"if": '$CI_COMMIT_BRANCH !~ /^release/', "when": "manual"}, rb.PUSH_OTHER, "manual"),
    ({"if": '$CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "main" && $CI_PIPELINE_SOURCE == "merge_request_event"'},
     rb.PULL_REQUEST, "on_success"),
    ({"if": '$CI_COMMIT_BEFORE_SHA == null'}, rb.SCHEDULE, "on_success"),
])
def test_gitlab_rules(rule, event, decision) -> None:
    variables = gitlab_reader._variables(event, "main")  # pylint: disable=protected-access
    assert gitlab_reader.decide([rule], variables) == decision


def test_gitlab_rules_it_cannot_read() -> None:
    with pytest.raises(rb.ConditionError):
        gitlab_reader.decide([{"if": "$A == /x/ =~ B"}], {})


@pytest.mark.parametrize("condition, event, ran, runs", [
    ("or(eq(variables['Build.Reason'], 'Schedule'), startsWith(variables['Build.SourceBranch'], 'refs/heads/m'))",
     rb.MANUAL_RELEASE, True, True),
    ("and(not(in(variables['Build.Reason'], 'PullRequest', 'Manual')), succeeded())", rb.SCHEDULE, True, True),
    ("and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))", rb.PUSH_RELEASE, False, False),
    ("succeededOrFailed()", rb.PUSH_RELEASE, False, True),
    ("eq(variables['System.PullRequest.TargetBranch'], 'refs/heads/main')", rb.PULL_REQUEST, True, True),
])
def test_azure_conditions(condition, event, ran, runs) -> None:
    assert azure_reader.runs(condition, event, "main", ran) is runs


@pytest.mark.parametrize("condition", ["eq(variables['x']", "frobnicate()", "eq('a' 'b')x"])
def test_azure_conditions_it_cannot_read(condition) -> None:
    with pytest.raises(rb.ConditionError):
        azure_reader.runs(condition, rb.PUSH_RELEASE, "main", True)


JENKINS = """
pipeline {
  agent none
  options {
    disableConcurrentBuilds()
    skipStagesAfterUnstable()
  }
  stages {
    stage('A') {
      when {
        allOf {
          anyOf {
            branch 'main'
            changeRequest target: 'main'
          }
          not {
            triggeredBy 'TimerTrigger'
          }
        }
      }
      options {
        timeout(time: 1, unit: 'HOURS')
      }
      steps {
        sh(label: 'gate', script: 'pipegen gate coverage --mode dry-run --min 80')
      }
      post {
        always {
          junit(testResults: 'r.xml')
        }
      }
    }
    stage('B') {
      steps {
        sh(label: 'b', script: 'true')
      }
    }
  }
}
"""


def test_jenkins_when_unstable_and_concurrency() -> None:
    view = jenkins_reader.read(JENKINS)
    assert view.jobs["A"].events == {rb.PUSH_RELEASE, rb.MANUAL_RELEASE, rb.PULL_REQUEST}
    assert view.jobs["A"].timeout_minutes == 60
    assert view.jobs["A"].gates == (rb.GateView("coverage", (("min", "80"),), "dry-run"),)
    # a dry-run gate's JUnit failures make the build UNSTABLE: B is skipped wherever A runs
    assert view.jobs["B"].events == frozenset(rb.EVENTS) - view.jobs["A"].events
    assert view.release_runs == "queue" and view.cancel_superseded == frozenset()


JENKINS_POST = """
pipeline {
  agent none
  stages {
    stage('TEST') { stages { stage('A') { agent any; steps { sh(label: 'a', script: 'true') } } } }
  }
  post {
    always {
      script {
        if (env.CHANGE_ID) {
          stage('report') {
            node {
              catchError(buildResult: 'SUCCESS', stageResult: 'SUCCESS') {
                timeout(time: 7, unit: 'MINUTES') {
                  withCredentials([string(credentialsId: 'tok', variable: 'TOKEN')]) {
                    sh(label: 'post', script: 'pipegen report comment')
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
"""


def test_jenkins_post_stage_is_a_last_job_on_pull_requests() -> None:
    view = jenkins_reader.read(JENKINS_POST)
    report = view.jobs["report"]
    assert (report.stage, report.after, report.events) == ("report", {"A"}, rb.PULL_REQUESTS)
    assert report.timeout_minutes == 7 and report.secrets == {"TOKEN"}
    assert report.steps == (rb.StepView("post", frozenset({"TOKEN"}), frozenset({"TOKEN"})),)


def test_jenkins_post_condition_it_cannot_read() -> None:
    with pytest.raises(EvaluationError, match="cannot read the Jenkins post condition"):
        read_back("jenkins", JENKINS_POST.replace("env.CHANGE_ID", "env.OTHER"))
    # an `if` with an `else` is not a post job's guard: nothing is read from it
    with_else = JENKINS_POST.replace("if (env.CHANGE_ID) {", "if (env.CHANGE_ID) { echo('pr') } else {")
    assert "report" not in jenkins_reader.read(with_else).jobs


@pytest.mark.parametrize("target, text, message", [
    ("github", "on: [push\n", "cannot read the github pipeline"),
    ("gitlab", "job: {stage: test, rules: [{if: '$A ==='}]}\n", "cannot read the gitlab pipeline"),
    ("azure", "stages: [{stage: A, condition: 'nope(', jobs: []}]\n", "cannot read the azure pipeline"),
    ("jenkins", "pipeline { options { disableConcurrentBuilds(abortPrevious: env.X) } stages { } }",
     "cannot read the jenkins pipeline"),
])
def test_unreadable_files_are_evaluation_errors(target, text, message) -> None:
    with pytest.raises(EvaluationError, match=message):
        read_back(target, text)


def test_what_a_job_waits_for_is_every_job_before_it_on_a_chain_of_any_length():
    """A chain of 20,000 needs (far past Python's recursion limit) read as sets of bits: each
    job waits for every job before it, and the sets combine with plain sets as sets do."""
    chain = {f"j{index}": [f"j{index - 1}"] if index else [] for index in range(20_000)}
    after = rb.closure(chain)
    assert len(after["j19999"]) == 19_999 and "j0" in after["j19999"] and "j19999" not in after["j19999"]
    assert after["j3"] == {"j0", "j1", "j2"} and set(after["j3"]) == {"j0", "j1", "j2"}
    assert after["j3"] - {"j1"} == {"j0", "j2"} and {"j1", "x"} & after["j3"] == {"j1"}
    assert after["j2"] <= after["j3"] and not after["j3"] <= after["j2"]
    cycle = rb.closure({"a": ["b"], "b": ["a"]})  # a cycle is tolerated: no endless walk
    assert "b" in cycle["a"]


def test_a_jenkinsfile_read_after_another_reads_as_it_does_alone(monkeypatch) -> None:
    """Unchanged stages of the file read before are reused (pipegen diff reads two versions): a
    changed stage is read from its own text."""
    from pathlib import Path  # pylint: disable=import-outside-toplevel
    from pipegen.platforms.jenkins import structure  # pylint: disable=import-outside-toplevel

    churn = Path(__file__).resolve().parents[2] / "examples" / "churn"
    before = (churn / "Jenkinsfile").read_text(encoding="utf-8")
    after = before.replace("timeout(time: 60, unit: 'MINUTES')", "timeout(time: 45, unit: 'MINUTES')")
    monkeypatch.setattr(structure, "_STAGES", structure._StageCache())  # pylint: disable=protected-access
    alone = jenkins_reader.read(after)
    monkeypatch.setattr(structure, "_STAGES", structure._StageCache())  # pylint: disable=protected-access
    first, second = jenkins_reader.read(before), jenkins_reader.read(after)
    assert second == alone != first
    timeouts = [{job.timeout_minutes for job in view.jobs.values()} for view in (first, second)]
    assert timeouts[1] - timeouts[0] == {45}


def _edits(text: str, seed: int, count: int = 12) -> list[str]:
    """Versions of a file with a few lines changed, dropped, repeated or added (seeded)."""
    import random  # pylint: disable=import-outside-toplevel

    rng = random.Random(seed)
    lines = text.split("\n")
    found = []
    for _ in range(count):
        copy = list(lines)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(copy))
            kind = rng.choice(["change", "drop", "repeat", "add"])
            if kind == "change":
                copy[at] = copy[at].replace("3", "4").replace("'", '"', 1) + " "
            elif kind == "drop":
                del copy[at]
            elif kind == "repeat":
                copy.insert(at, copy[at])
            else:
                copy.insert(at, rng.choice(["// a comment", "", "    stage('x') {", "}", "'''"]))
        found.append("\n".join(copy))
    return found


def test_tree_sitter_reparses_a_jenkinsfile_from_the_one_read_before_as_it_parses_it_alone() -> None:
    """The syntax tree of a file parsed from the previous file's tree (told which lines changed)
    is the tree of a fresh parse, for versions a few lines apart, far apart, or unrelated."""
    from pathlib import Path  # pylint: disable=import-outside-toplevel
    from pipegen.platforms.jenkins import structure  # pylint: disable=import-outside-toplevel

    files = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/Jenkinsfile"))
    cache = structure._StageCache()  # pylint: disable=protected-access
    texts = []
    for index, path in enumerate(files):
        text = path.read_text(encoding="utf-8")
        texts += [text, *_edits(text, index), text + "// after the end", text.rstrip("\n"), text + "\n\n",
                  text[:-40], text, "}\n" + text, text[:len(text) // 2] + "'" + text[len(text) // 2:]]
    for text in texts:
        source = text.encode("utf-8")
        tree, fresh = cache.parse(source).root_node, structure._PARSER.parse(source).root_node  # noqa
        assert str(tree) == str(fresh)
        assert (tree.end_byte, tree.end_point) == (fresh.end_byte, fresh.end_point)


@pytest.mark.parametrize("target", ["github", "gitlab", "azure", "jenkins"])
def test_a_version_read_after_another_reads_as_it_does_alone(target: str, monkeypatch) -> None:
    """Both versions read with shared pieces (what pipegen diff does) give the views each gives
    read alone, for the examples' files and versions of them a few lines apart."""
    from pathlib import Path  # pylint: disable=import-outside-toplevel
    from pipegen.platforms import get_backend, yaml_document  # pylint: disable=import-outside-toplevel
    from pipegen.platforms.jenkins import structure  # pylint: disable=import-outside-toplevel

    examples = Path(__file__).resolve().parents[2] / "examples"
    texts = []
    for index, path in enumerate(sorted(examples.glob(f"*/{get_backend(target).path}"))):
        text = path.read_text(encoding="utf-8")
        texts += [text, *_edits(text, index, 6), text.replace("30", "45", 3)]

    def outcome(read) -> object:
        try:
            return read()
        except EvaluationError as exc:
            return str(exc)

    for before, after in zip(texts, texts[1:]):
        monkeypatch.setattr(structure, "_STAGES", structure._StageCache())  # pylint: disable=protected-access
        alone = outcome(lambda: read_back(target, after))  # pylint: disable=cell-var-from-loop
        monkeypatch.setattr(structure, "_STAGES", structure._StageCache())  # pylint: disable=protected-access
        numbering, pieces = rb.Numbering(), yaml_document.Pieces()
        outcome(lambda: read_back(target, before, numbering=numbering, pieces=pieces))  # noqa: B023
        assert outcome(lambda: read_back(target, after, numbering=numbering, pieces=pieces)) == alone  # noqa: B023
