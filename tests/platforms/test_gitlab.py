"""GitLab CI backend: parse the generated .gitlab-ci.yml and check its structure."""
from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from importlib import resources

import jsonschema
import pytest
import yaml

from conftest import plan_from_yaml
from platforms.install_lines import installed, pipegen_lines
from pipegen.pins.images import shipped_catalog
from pipegen.platforms.gitlab.backend import GitlabBackend, expression_string, glob_regex
from pipegen.plan import Plan

BACKEND = GitlabBackend()
TOP_LEVEL = {"stages", "variables", "workflow", "default", "include", "image", "services", "cache",
             "before_script", "after_script"}
TEST_JOBS = {"pipegen-check", "lint", "unit", "integration", "functional", "sonar"}
QA_JOBS = {"train", "model-gate", "build", "deploy-qa", "smoke-qa"}
PROD_JOBS = {"promote-model", "deploy-prod"}
ON_MAIN = '$CI_COMMIT_BRANCH == "main"'
MR_PIPELINE = '$CI_PIPELINE_SOURCE == "merge_request_event"'
MINUTES = re.compile(r"^\d+m$")
# name:tag@digest, the tag a version (readable in review), the digest what the registry pulls
PINNED_IMAGE = re.compile(r"^[a-z0-9./-]+:\d+(\.\d+)+(-[a-z]+)*@sha256:[0-9a-f]{64}$")


def render(plan: Plan) -> dict:
    return yaml.safe_load(BACKEND.render(plan))


@pytest.fixture(scope="module")
def churn(churn_plan: Plan) -> dict:
    return render(churn_plan)


@pytest.fixture(scope="module")
def minimal(minimal_plan: Plan) -> dict:
    return render(minimal_plan)


def jobs_of(config: dict) -> dict[str, dict]:
    return {key: value for key, value in config.items() if key not in TOP_LEVEL}


def waits_for(config: dict, key: str) -> set[str]:
    """Direct predecessors: `needs:` if given, else every job of the earlier stages."""
    job = config[key]
    if "needs" in job:
        return {need["job"] if isinstance(need, dict) else need for need in job["needs"]}
    stages = config["stages"]
    earlier = stages[:stages.index(job["stage"])]
    return {other for other, value in jobs_of(config).items() if value["stage"] in earlier}


def ancestors(config: dict, key: str) -> set[str]:
    found: set[str] = set()
    pending = [key]
    while pending:
        for parent in waits_for(config, pending.pop()):
            if parent not in found:
                found.add(parent)
                pending.append(parent)
    return found


def needs_of(job: dict) -> dict[str, bool]:
    """need -> artifacts flag."""
    return {need["job"]: need["artifacts"] for need in job["needs"]}


def commands(job: dict, section: str = "script") -> list[str]:
    return job.get(section, [])


def command_words(job: dict, prefix: str) -> list[str]:
    """The shell words of the script command that starts with `prefix` (after `set -eu`)."""
    for text in commands(job):
        # A step may start with a guard (e.g. no candidate when training was skipped).
        for line in text.replace("\\\n", " ").splitlines():
            if line.startswith(prefix):
                return shlex.split(line)
    raise AssertionError(f"no command starting with {prefix!r}")


def flag_values(words: list[str], flag: str) -> list[str]:
    return [words[index + 1] for index, word in enumerate(words) if word == flag]


@lru_cache(maxsize=1)
def gitlab_schema() -> dict:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "gitlab-ci.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- shape


def test_validates_against_check_jsonschema_vendored_schema(churn, minimal):
    for config in (churn, minimal):
        jsonschema.validate(config, gitlab_schema())


def test_stages_present_only_when_they_have_jobs(churn, minimal):
    assert churn["stages"] == ["test", "qa", "prod", "report"]
    assert minimal["stages"] == ["test"]
    assert set(jobs_of(minimal)) == {"pipegen-check", "unit"}
    assert {job["stage"] for job in jobs_of(churn).values()} == {"test", "qa", "prod", "report"}
    assert [key for key, job in jobs_of(churn).items() if job["stage"] == "report"] == ["report-comment"]


def test_churn_report_job_runs_last_on_merge_requests_with_only_the_reports(churn):
    report = churn["report-comment"]
    # stage order (no `needs:`): after every earlier job; merge requests only, also after a failure,
    # and its own failure never fails the pipeline
    assert "needs" not in report
    assert report["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "always",
                                "allow_failure": True}]
    # the artifacts of the jobs that keep reports, not the hand-overs or outputs of train/build/deploy
    keeping = [key for key, job in jobs_of(churn).items()
               if "pipegen-reports" in job.get("artifacts", {}).get("paths", []) and key != "report-comment"]
    assert report["dependencies"] == keeping
    assert not {"train", "build", "deploy-qa", "promote-model"} & set(report["dependencies"])
    # the token: the masked REVIEW_TOKEN under the name the command reads, in this job only
    assert report["variables"] == {"PIPEGEN_REPORT_TOKEN": "${REVIEW_TOKEN}"}
    assert [key for key, job in jobs_of(churn).items() if "REVIEW_TOKEN" in str(job.get("variables"))] == [
        "report-comment"]


def test_job_keys_are_plan_ids(churn, churn_plan):
    assert set(jobs_of(churn)) == {job.id for job in churn_plan.jobs} | {"approve-prod"}
    for job in churn_plan.jobs:
        assert churn[job.id]["stage"] == job.stage


def test_deterministic(churn_plan, minimal_plan):
    for plan in (churn_plan, minimal_plan):
        assert BACKEND.render(plan) == BACKEND.render(plan)


def test_every_job_has_a_timeout(churn, churn_plan):
    for key, job in jobs_of(churn).items():
        assert MINUTES.match(job["timeout"]), key
    for job in churn_plan.jobs:
        assert churn[job.id]["timeout"] == f"{job.timeout_minutes}m"


def test_images_are_pinned(churn):
    assert churn["default"]["image"] == "python:3.11-slim@" + shipped_catalog()["python:3.11-slim"].digest
    images = [churn["default"]["image"]] + [job["image"] for job in jobs_of(churn).values() if "image" in job]
    images += [service for job in jobs_of(churn).values() for service in job.get("services", [])]
    for image in images:
        assert PINNED_IMAGE.match(image), image


# ---------------------------------------------------------------------------- graph


def test_lint_and_unit_run_in_parallel(churn):
    assert "lint" not in ancestors(churn, "unit") and "unit" not in ancestors(churn, "lint")
    assert "needs" not in churn["lint"] and "needs" not in churn["unit"]


def test_test_pyramid_and_sonar_order(churn):
    # every level hands its coverage data on; the last one combines them and hands coverage.xml to sonar
    assert needs_of(churn["integration"]) == {"unit": True}
    assert needs_of(churn["functional"]) == {"integration": True, "unit": True}
    assert needs_of(churn["sonar"]) == {"functional": True}
    assert "coverage.xml" in churn["functional"]["artifacts"]["paths"]


def test_qa_chains(churn):
    assert needs_of(churn["model-gate"]) == {"train": True, "drift": True}  # the drift report
    assert needs_of(churn["deploy-qa"]) == {"build": True}
    # smoke-qa reads no output: it waits for deploy-qa and downloads nothing of it
    assert needs_of(churn["smoke-qa"]) == {"deploy-qa": False}
    assert {"build", "deploy-qa"} <= ancestors(churn, "smoke-qa")
    assert "train" in ancestors(churn, "model-gate")


def test_stage_entry_jobs_wait_for_the_whole_previous_stage(churn):
    for key in ("drift", "build"):
        assert "needs" not in churn[key]  # `needs:` would ignore stage order
        assert churn[key]["dependencies"] == []  # and download nothing
        assert TEST_JOBS <= ancestors(churn, key)


# ---------------------------------------------------------------------------- outputs


def test_outputs_are_dotenv_reports_of_their_producers(churn):
    for producer in ("train", "build"):
        assert churn[producer]["artifacts"]["reports"]["dotenv"] == "pipegen-outputs.env"
    train = commands(churn["train"])  # on_drift: retrain: skipped on a schedule when nothing moved
    assert "  python -m churn.train" in train[0].splitlines() and 'if [ "${DATA_DRIFT:-true}" = false ]' in train[0]
    assert train[1:] == ["pipegen output check MODEL_VERSION"]
    assert commands(churn["build"])[-1] == "pipegen output check IMAGE_REF"
    publish = shlex.split(commands(churn["build"])[1].splitlines()[-1])  # the step after the SBOM's
    assert publish[:4] == ["pipegen", "output", "set", "IMAGE_REF"]


def test_prod_reads_qa_outputs_through_needs(churn):
    assert needs_of(churn["promote-model"]) == {"approve-prod": False, "train": True, "model-gate": False}
    assert needs_of(churn["deploy-prod"]) == {"approve-prod": False, "build": True}
    assert "--candidate-version" in command_words(churn["promote-model"], "pipegen model promote")
    assert flag_values(command_words(churn["promote-model"], "pipegen model promote"),
                       "--candidate-version") == ["$MODEL_VERSION"]
    assert commands(churn["deploy-prod"]) == ['./deploy.sh prod "$IMAGE_REF"']
    for key in ("promote-model", "deploy-prod", "model-gate", "deploy-qa"):
        assert not {"MODEL_VERSION", "IMAGE_REF"} & set(churn[key].get("variables", {}))


# ---------------------------------------------------------------------------- approvals and conditions


def test_prod_waits_for_a_blocking_manual_approval_after_qa(churn):
    approve = churn["approve-prod"]
    assert approve["stage"] == "prod"
    assert approve["rules"] == [{"if": ON_MAIN, "when": "manual", "allow_failure": False}]
    assert approve["environment"] == {"name": "prod", "action": "prepare"}
    # The approval waits for QA but the model's chain: a failed model gate stops its promotion,
    # not the image's deployment.
    model_chain = {"drift", "train", "model-gate"}
    assert (QA_JOBS | TEST_JOBS) - model_chain <= ancestors(churn, "approve-prod")
    assert not model_chain & ancestors(churn, "approve-prod")
    assert all(need["artifacts"] is False for need in approve["needs"])
    for key in PROD_JOBS:
        assert "approve-prod" in needs_of(churn[key])
    assert QA_JOBS <= ancestors(churn, "promote-model")
    assert not model_chain & ancestors(churn, "deploy-prod")


def test_prod_only_on_main(churn):
    for key in PROD_JOBS | {"approve-prod"}:
        assert churn[key]["rules"][0]["if"] == ON_MAIN
        assert len(churn[key]["rules"]) == 1
    assert churn["deploy-prod"]["environment"]["name"] == "prod"
    assert churn["deploy-qa"]["environment"]["name"] == "qa"


def test_image_jobs_skip_merge_request_pipelines(churn):
    for key in ("build", "deploy-qa", "smoke-qa", "train", "model-gate"):
        assert churn[key]["rules"] == [{"if": MR_PIPELINE, "when": "never"}, {"when": "on_success"}]
    for key in TEST_JOBS:
        assert "rules" not in churn[key]


def test_deployments_are_not_interruptible(churn):
    assert churn["default"]["interruptible"] is True
    for key in ("deploy-qa", "deploy-prod", "promote-model"):
        assert churn[key]["interruptible"] is False
        assert churn[key]["resource_group"] == key


# ---------------------------------------------------------------------------- triggers


def test_workflow_rules_implement_the_triggers(churn, churn_plan):
    rules = churn["workflow"]["rules"]
    conditions = [rule["if"] for rule in rules]
    # merge requests only into the trigger branches, as GitHub and Azure do
    assert conditions[:4] == [f'{MR_PIPELINE} && ($CI_MERGE_REQUEST_TARGET_BRANCH_NAME == "main")',
                              '$CI_PIPELINE_SOURCE == "schedule"', '$CI_PIPELINE_SOURCE == "web"',
                              "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS"]
    assert rules[3]["when"] == "never"
    push, first_push = rules[4], rules[5]
    zero = "0" * 40
    assert push["if"] == ('$CI_PIPELINE_SOURCE == "push" && ' + ON_MAIN
                          + f' && $CI_COMMIT_BEFORE_SHA && $CI_COMMIT_BEFORE_SHA != "{zero}"')
    expected = [path + "/*" if path.endswith("**") else path for path in churn_plan.triggers.watched_paths]
    assert push["changes"] == {"paths": expected}  # no compare_to: a push to main compares its own commits
    assert "data/**/*" in expected
    # GitLab runs a branch's first push whatever changed; the rule set says so explicitly
    assert first_push == {"if": '$CI_PIPELINE_SOURCE == "push" && ' + ON_MAIN
                          + f' && ($CI_COMMIT_BEFORE_SHA == null || $CI_COMMIT_BEFORE_SHA == "{zero}")'}
    assert len(rules) == 6
    assert churn["workflow"]["auto_cancel"] == {"on_new_commit": "conservative"}


def test_schedule_is_on_the_checklist(churn_plan):
    schedules = [item for item in BACKEND.checklist(churn_plan) if item.kind == "schedule"]
    assert [item.name for item in schedules] == ["0 3 * * 1"]
    assert "Pipeline schedules" in schedules[0].detail and "main" in schedules[0].detail


def test_triggers_without_pull_requests_or_data_paths():
    plan = plan_from_yaml("""
        project: {name: lib}
        targets: [gitlab]
        triggers: {branches: [main, release/*], pull_requests: false}
        tests: {unit: tests}
    """)
    rules = render(plan)["workflow"]["rules"]
    assert [rule["if"] for rule in rules] == [
        '$CI_PIPELINE_SOURCE == "web"',
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main"',
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH =~ /^release\\/[^\\/]*$/',
    ]
    assert not any("changes" in rule for rule in rules)


# ---------------------------------------------------------------------------- gates and reports


def test_gate_thresholds_are_the_descriptors(churn):
    coverage = command_words(churn["functional"], "pipegen gate coverage")
    assert flag_values(coverage, "--min") == ["80"] and flag_values(coverage, "--diff-min") == ["90"]
    assert flag_values(coverage, "--compare-branch") == ["origin/main"]
    lint = command_words(churn["lint"], "pipegen gate lint")
    assert flag_values(lint, "--min-score") == ["8.5"] and flag_values(lint, "--max-issues") == ["0"]
    sonar = command_words(churn["sonar"], "pipegen gate sonar")
    assert flag_values(sonar, "--timeout") == ["300"]
    model = command_words(churn["model-gate"], "pipegen gate model")
    assert flag_values(model, "--mode") == ["auto"]
    assert flag_values(model, "--metric") == ["auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005",
                                              "log_loss:greater_is_better=false,min_relative_change=0.01"]


def test_junit_and_reports_are_kept_even_when_the_job_fails(churn, churn_plan):
    for job in churn_plan.jobs:
        artifacts = churn[job.id].get("artifacts")
        if job.junit:
            assert artifacts["reports"]["junit"] == list(job.junit)
            assert artifacts["when"] == "always"
        if job.artifacts:
            assert set(job.artifacts) <= set(artifacts["paths"])


def test_diff_coverage_gets_full_history_and_the_compare_branch(churn):
    assert churn["functional"]["variables"]["GIT_DEPTH"] == "0"
    assert churn["sonar"]["variables"]["GIT_DEPTH"] == "0"
    fetch = [text for text in commands(churn["functional"], "before_script") if "git fetch" in text]
    assert fetch and "+refs/heads/main:refs/remotes/origin/main" in fetch[-1]


@pytest.mark.parametrize("compare", ["main", "origin/main", "refs/heads/main"])
def test_a_compare_branch_named_without_origin_is_fetched_from_origin(compare):
    """init writes `compare_branch: main` in a repository without a remote; a GitLab checkout has no
    local main, so the job fetches origin's, where the gates look for a bare name next."""
    config = render(plan_from_yaml(f"""
version: 1
project: {{name: lib, python: "3.11"}}
targets: [gitlab]
tests: {{unit: tests}}
quality:
  coverage: {{min: 0, diff_min: 80, compare_branch: {compare}}}
  lint: {{tools: [flake8], ratchet: [changed-lines]}}
"""))
    for job in ("unit", "lint"):
        fetch = [text for text in commands(config[job], "before_script") if "git fetch" in text]
        assert fetch and "+refs/heads/main:refs/remotes/origin/main" in fetch[-1], config[job]


def test_install_step_uses_requirements_and_pinned_pipegen(churn, churn_plan):
    for job in churn_plan.jobs:
        if not job.python:
            assert "before_script" not in churn[job.id] and "cache" not in churn[job.id]
            continue
        text = next(text for text in commands(churn[job.id], "before_script") if "pip install" in text)
        found = installed(text.removeprefix("set -eu\n"))
        assert found["requirements"] == list(job.requirements)
        assert found["packages"] == list(job.pip_packages)
        assert [words[-1] for words in pipegen_lines(text)] == ([job.pipegen] if job.pipegen else [])


def _installed(job: dict) -> set[str]:
    """What a job's install commands install: requirement files, packages, the project, pipegen."""
    found = set()
    for text in commands(job, "before_script"):
        for where in ("job", "pipegen"):
            found |= {f"{where}:{item}" for items in installed(text, where).values() for item in items}
    return found


def _install_caches(config: dict, plan: Plan) -> tuple[dict[str, tuple[str, set]], list[tuple[str, str, set]]]:
    """(writer per cache key: (job, what it installs), readers: (job, key, what it installs)),
    checking that every job that installs has a cache and every key has one writer."""
    writers, readers = {}, []
    for job in plan.jobs:
        installed = _installed(config[job.id])
        if not installed:
            assert "cache" not in config[job.id], job.id  # nothing to cache
            continue
        cache = config[job.id]["cache"]
        assert cache["paths"] == [".cache/uv", ".cache/pip"]
        key = repr(cache["key"])
        if cache.get("policy") == "pull":
            readers.append((job.id, key, installed))
        else:
            assert "policy" not in cache and key not in writers, (job.id, key)  # one writer per key
            writers[key] = (job.id, installed)
    for job_id, key, installed in readers:  # a reader's installs are all in the cache it reads
        assert installed <= writers[key][1], job_id
    return writers, readers


def test_install_cache_one_writer_per_key_and_readers_covered(churn, churn_plan):
    assert "cache" not in churn["default"]
    assert churn["variables"]["UV_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/uv"
    assert churn["variables"]["PIP_CACHE_DIR"] == "$CI_PROJECT_DIR/.cache/pip"  # pip installs uv where needed
    writers, readers = _install_caches(churn, churn_plan)
    assert readers and len(writers) > 1


def test_install_cache_written_by_the_first_job_installing_all_of_it():
    """Jobs that call pipegen (outputs) come after many that do not: each reads the cache of the
    first job, in plan order, that installs all it installs; the plain jobs read the first plain one's."""
    jobs = [f"  - {{name: plain-{index}, stage: test, run: ./plain.sh}}" for index in range(30)]
    jobs += [f"  - {{name: publishes-{index}, stage: qa, run: ./publish.sh, outputs: [OUT_{index}]}}"
             for index in range(30)]
    plan = plan_from_yaml("project: {name: lib}\ntargets: [gitlab]\ntests: {unit: tests}\njobs:\n"
                          + "\n".join(jobs) + "\n")
    config = render(plan)
    writers, readers = _install_caches(config, plan)
    writer_of = {key: writer for key, (writer, _) in writers.items()}
    read = {job_id: writer_of[key] for job_id, key, _ in readers}
    assert {read[f"plain-{index}"] for index in range(1, 30)} <= {"plain-0", "unit"}
    assert {read[f"publishes-{index}"] for index in range(1, 30)} == {"publishes-0"}
    assert "publishes-0" in writer_of.values()


# ---------------------------------------------------------------------------- security


def test_secrets_only_by_name(churn, churn_plan):
    declared = set(churn.get("variables", {}))
    declared |= {name for job in jobs_of(churn).values() for name in job.get("variables", {})}
    assert not declared & set(churn_plan.secrets) and not declared & set(churn_plan.variables)
    text = BACKEND.render(churn_plan)
    assert "$[[" not in text  # no CI expressions in scripts


def test_docker_build_job_has_its_own_daemon(churn):
    build = churn["build"]
    assert build["image"].startswith("docker:") and build["services"][0].split("@")[0].endswith("-dind")
    assert build["variables"]["DOCKER_TLS_CERTDIR"] == "/certs"
    installs = commands(build, "before_script")
    # pipegen in a venv of its own, from Alpine's python3 (externally managed: never pip into it)
    assert any("job_python=\"$(python3 -c " in text and '"$uv" venv --quiet --allow-existing --python "$job_python" '
               in text for text in installs)
    assert any("python3 -m pip install --break-system-packages --quiet --target" in text for text in installs)


def test_literal_env_values_are_not_expanded_and_scripts_round_trip():
    hostile = "a: b # c '\" $HOME ${X} \\ `x`"
    run = "echo 'one: two' # not a comment\nprintf '%s\\n' \"$HOME\" | tee out.txt"
    plan = plan_from_yaml(f"""
        project: {{name: lib}}
        targets: [gitlab]
        tests: {{unit: tests}}
        jobs:
          - name: custom
            stage: test
            needs: [unit]
            env: {{GREETING: {json.dumps(hostile)}}}
            run: {json.dumps(run)}
    """)
    config = render(plan)
    jsonschema.validate(config, gitlab_schema())
    assert config["custom"]["variables"]["GREETING"] == {"value": hostile, "expand": False}
    assert config["custom"]["script"] == ["set -eu\n" + run]


# ---------------------------------------------------------------------------- settings


def test_shell_runner_settings():
    plan = plan_from_yaml("""
        project: {name: app, python: "3.12"}
        targets: [gitlab]
        tests: {unit: tests}
        image: {name: app}
        settings: {gitlab: {shell: true, tags: [shell, docker]}}
    """)
    config = render(plan)
    jsonschema.validate(config, gitlab_schema())
    assert "image" not in config["default"] and config["default"]["tags"] == ["shell", "docker"]
    assert "image" not in config["build"] and "services" not in config["build"]
    assert commands(config["unit"], "before_script")[0].endswith(
        'python3.12 -m venv "$CI_PROJECT_DIR/.venv"\n. "$CI_PROJECT_DIR/.venv/bin/activate"')
    runner = [item for item in BACKEND.checklist(plan) if item.name == "runner with Docker"]
    assert runner and "shell runner" in runner[0].detail


def test_custom_image_and_reserved_job_names():
    plan = plan_from_yaml("""
        project: {name: app}
        targets: [gitlab]
        tests: {unit: tests}
        settings: {gitlab: {image: "registry.example.com/py:3.11"}}
        jobs:
          - {name: default, stage: test, needs: [unit], run: echo hi}
          - {name: pages, stage: test, needs: [default], run: echo site}
    """)
    config = render(plan)
    jsonschema.validate(config, gitlab_schema())
    assert config["default"]["image"] == "registry.example.com/py:3.11"
    assert config["default-job"]["script"] == ["echo hi"]
    assert needs_of(config["pages-job"]) == {"default-job": False}


def test_branch_only_prod_with_a_glob_and_expression_quoting():
    assert expression_string("main") == '"main"'
    assert expression_string('a"b') == "'a\"b'"
    assert expression_string("a\"b'c/d") == "/^a\\\"b\\'c\\/d$/"
    assert glob_regex("release/**") == "/^release\\/.*$/"
    plan = plan_from_yaml("""
        project: {name: app}
        targets: [gitlab]
        tests: {unit: tests}
        environments:
          prod: {deploy: ./deploy.sh, branch: "release/*", approval: {approvers: [ops]}}
    """)
    config = render(plan)
    jsonschema.validate(config, gitlab_schema())
    assert config["approve-prod"]["rules"][0]["if"] == "$CI_COMMIT_BRANCH =~ /^release\\/[^\\/]*$/"
    assert config["deploy-prod"]["rules"] == [{"if": "$CI_COMMIT_BRANCH =~ /^release\\/[^\\/]*$/"}]


# ---------------------------------------------------------------------------- checklist


def test_checklist(churn_plan):
    items = {(item.kind, item.name): item.detail for item in BACKEND.checklist(churn_plan)}
    assert "masked" in items[("secret", "SONAR_TOKEN")]
    assert {name for kind, name in items if kind == "variable"} == set(churn_plan.variables)
    assert "release-managers" in items[("environment", "prod")]
    assert "approve-prod" in items[("environment", "prod")]
    assert ("environment", "qa") in items
    assert "privileged" in items[("other", "runner with Docker")]


def test_entry_consumer_keeps_stage_order_and_downloads_only_its_producers():
    plan = plan_from_yaml("""
        project: {name: app}
        targets: [gitlab]
        tests: {unit: tests}
        image: {name: app}
        environments:
          qa: {deploy: ./deploy.sh qa, approval: {approvers: [qa-leads]}}
          prod: {deploy: ./deploy.sh prod, approval: false}
    """)
    config = render(plan)
    jsonschema.validate(config, gitlab_schema())
    # No approval on PROD: stage order alone makes deploy-prod wait for all of QA.
    assert "needs" not in config["deploy-prod"] and config["deploy-prod"]["dependencies"] == ["build"]
    assert {"build", "deploy-qa", "approve-qa"} <= ancestors(config, "deploy-prod")
    # An approval on QA gates the QA deployment only.
    assert needs_of(config["deploy-qa"]) == {"approve-qa": False, "build": True}
    assert config["approve-qa"]["rules"] == [{"if": MR_PIPELINE, "when": "never"},
                                             {"when": "manual", "allow_failure": False}]
    assert "approve-prod" not in config
