"""The backend-neutral graph of DESIGN §3, asserted on the plan itself."""
from __future__ import annotations

import pytest

from conftest import plan_from_yaml
from pipegen.errors import DescriptorError
from pipegen.plan import EnvKind, RunWhen


def test_reference_graph(churn_plan) -> None:
    assert [stage.title for stage in churn_plan.stages] == ["TEST", "QA", "PROD", "REPORT"]
    jobs = {stage.id: [job.id for job in stage.jobs] for stage in churn_plan.stages}
    assert jobs == {
        "test": ["pipegen-check", "lint", "unit", "integration", "functional", "sonar"],
        "qa": ["drift", "train", "model-gate", "build", "deploy-qa", "smoke-qa"],
        "prod": ["promote-model", "deploy-prod"],
        "report": ["report-comment"],  # report.comment: the gate report on pull requests
    }
    needs = {job.id: job.needs for job in churn_plan.jobs}
    assert needs["drift"] == () and needs["train"] == ("drift",)  # data.drift: drift before train
    assert needs["lint"] == () and needs["unit"] == () and needs["pipegen-check"] == ()  # parallel
    assert needs["integration"] == ("unit",) and needs["functional"] == ("unit", "integration")
    assert needs["sonar"] == ("functional",)  # coverage of every level is combined in the last one
    assert needs["model-gate"] == ("train", "drift")  # it fetches the drift report
    # outputs reach the jobs that need their producer directly: smoke-qa (after deploy-qa) names
    # no input, so it neither sees IMAGE_REF nor waits for build directly
    assert needs["deploy-qa"] == ("build",) and needs["smoke-qa"] == ("deploy-qa",)
    assert "IMAGE_REF" not in dict(churn_plan.job("smoke-qa").env)
    assert set(needs["promote-model"]) == {"train", "model-gate"}
    assert needs["deploy-prod"] == ("build",)
    # the report job enters the last stage: after every job, on pull requests, also after failures
    report = churn_plan.job("report-comment")
    assert report.needs == () and churn_plan.all_needs(report) == ("promote-model", "deploy-prod")
    assert (report.run_when, report.always, report.collects_reports) == (RunWhen.PULL_REQUEST, True, True)
    # it fetches the reports of the jobs that keep some, and nothing else
    assert churn_plan.report_sources == ("pipegen-check", "lint", "unit", "integration", "functional", "sonar",
                                         "drift", "model-gate")


def test_outputs_cross_stages(churn_plan) -> None:
    train, build = churn_plan.job("train"), churn_plan.job("build")
    assert train.outputs == ("MODEL_VERSION",) and train.output_step == "train"
    assert build.outputs == ("IMAGE_REF",) and build.output_step == "image"
    assert churn_plan.job("promote-model").inputs == (("MODEL_VERSION", "train"),)
    assert churn_plan.job("deploy-prod").inputs == (("IMAGE_REF", "build"),)
    assert churn_plan.job("deploy-qa").inputs == (("IMAGE_REF", "build"),)


def test_prod_needs_approval_and_main(churn_plan) -> None:
    for job in churn_plan.stages[2].jobs:
        assert job.environment == "prod"
        assert job.approval is not None and job.approval.approvers == ("release-managers",)
        assert job.run_when is RunWhen.BRANCH and job.branch == "main"
    assert churn_plan.job("deploy-qa").environment == "qa"
    assert churn_plan.job("deploy-qa").run_when is RunWhen.NOT_PULL_REQUEST
    # conditions tighten downstream: the custom smoke job inherits deploy-qa's
    assert churn_plan.job("smoke-qa").run_when is RunWhen.NOT_PULL_REQUEST
    # pull requests never train: their code would register versions in the production registry
    assert churn_plan.job("train").run_when is RunWhen.NOT_PULL_REQUEST


def test_stage_entry_needs_for_stageless_platforms(churn_plan) -> None:
    drift = churn_plan.job("drift")
    assert churn_plan.is_stage_entry(drift) and not churn_plan.is_stage_entry(churn_plan.job("train"))
    assert set(churn_plan.all_needs(drift)) == {"pipegen-check", "lint", "unit", "integration", "functional", "sonar"}
    deploy_prod = churn_plan.job("deploy-prod")
    assert churn_plan.earlier_stage_needs(deploy_prod) == ("build",)
    # The image's deployment waits for the rest of QA, not for the model's chain (no serves_model).
    assert {"build", "smoke-qa", "deploy-qa"} == set(churn_plan.all_needs(deploy_prod))
    # the promotion waits for the model's chain: train and its gate (drift comes before train)
    assert {"train", "model-gate"} <= set(churn_plan.all_needs(churn_plan.job("promote-model")))


def test_secrets_and_variables_by_name(churn_plan) -> None:
    assert churn_plan.secrets == ("SONAR_TOKEN",)
    assert churn_plan.variables == ("MLFLOW_TRACKING_URI", "REGISTRY", "SONAR_HOST_URL")
    sonar_env = dict(churn_plan.job("sonar").env)
    assert sonar_env["SONAR_TOKEN"].kind is EnvKind.SECRET
    assert all("SONAR_TOKEN" not in step.run.replace("$SONAR_TOKEN", "") or "reads the token" in step.title
               for step in churn_plan.job("sonar").steps)


def test_triggers(churn_plan) -> None:
    triggers = churn_plan.triggers
    assert triggers.branches == ("main",) and triggers.pull_requests and triggers.schedule == "0 3 * * 1"
    assert triggers.data_paths == ("data/**",)
    assert triggers.watched_paths[0] == "data/**"
    assert {"src/**", "tests/unit/**", "pipegen.yaml"} <= set(triggers.watched_paths)


def test_minimal_plan_has_test_stage_only(minimal_plan) -> None:
    assert [stage.id for stage in minimal_plan.stages] == ["test"]
    assert [job.id for job in minimal_plan.jobs] == ["pipegen-check", "unit"]
    assert minimal_plan.job("pipegen-check").steps[0].run == "pipegen check --descriptor pipegen.yaml"
    assert minimal_plan.job("unit").gate is None  # no quality section: no gates
    assert minimal_plan.triggers.watched_paths == ()


def test_gate_commands_carry_descriptor_thresholds(churn_plan) -> None:
    coverage = churn_plan.job("functional").steps[-1].run.split()
    assert coverage[coverage.index("--min") + 1] == "80"
    assert coverage[coverage.index("--diff-min") + 1] == "90"
    compare_branch = coverage[coverage.index("--compare-branch") + 1]
    assert churn_plan.job("functional").compare_branch == compare_branch == "origin/main"
    lint = churn_plan.job("lint").steps[-1].run.split()
    assert lint[lint.index("--min-score") + 1] == "8.5"
    assert lint[lint.index("--max-issues") + 1] == "0"


def test_profile_fills_what_descriptor_leaves_out() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        tests: {unit: tests}
        quality: {profile: default, coverage: {min: 95}}
        """)
    words = plan.job("unit").steps[-1].run.split()
    assert words[words.index("--min") + 1] == "95"  # descriptor wins
    assert "--diff-min" in words  # from the default profile
    assert plan.job("lint").gate == "lint"


def test_custom_job_inputs_become_direct_needs() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        tests: {unit: tests}
        image: {name: p}
        environments: {qa: {deploy: ./d.sh}}
        jobs:
          - {name: report, stage: qa, needs: [deploy-qa], run: ./r.sh, inputs: [IMAGE_REF]}
        """)
    report = plan.job("report")
    assert report.needs == ("deploy-qa", "build")
    assert dict(report.env)["IMAGE_REF"].producer == "build"


def test_custom_outputs_flow_to_later_jobs() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        jobs:
          - {name: version, stage: test, run: 'pipegen output set VERSION 1', outputs: [VERSION]}
          - {name: use, stage: qa, run: 'echo "$VERSION"', inputs: [VERSION]}
        """)
    assert plan.job("version").output_step == "run"
    assert plan.job("use").inputs == (("VERSION", "version"),)


def test_plan_is_deterministic(churn_plan) -> None:
    from conftest import CHURN, reference_descriptor_text  # pylint: disable=import-outside-toplevel
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel
    from pipegen.plan import build_plan  # pylint: disable=import-outside-toplevel

    assert plan_from_yaml(reference_descriptor_text(), str(CHURN)) == churn_plan
    assert build_plan(load_descriptor(CHURN)) == build_plan(load_descriptor(CHURN))


def test_graph_errors_are_collected() -> None:
    with pytest.raises(DescriptorError) as raised:
        plan_from_yaml("""
            project: {name: p}
            targets: [github]
            jobs:
              - {name: a, stage: test, run: x, needs: [ghost]}
              - {name: b, stage: test, run: y, outputs: [X]}
              - {name: c, stage: test, run: z, outputs: [X]}
            """)
    messages = [problem.message for problem in raised.value.problems]
    assert any("unknown job 'ghost'" in message for message in messages)
    assert any("published by both 'b' and 'c'" in message for message in messages)


def test_registry_login_uses_secrets_on_stdin() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        image: {name: p, username_secret: REG_USER, password_secret: REG_TOKEN}
        """)
    build = plan.job("build")
    first = next(step for step in build.steps if step.id == build.output_step).run.splitlines()[0]
    assert first.split("|")[1].split()[:2] == ["docker", "login"] and "--password-stdin" in first
    assert {name: value.kind.value for name, value in build.env} == {
        "REGISTRY": "variable", "REG_TOKEN": "secret", "REG_USER": "secret"}
    assert plan.secrets == ("REG_TOKEN", "REG_USER")


def test_model_jobs_read_the_registry_from_the_named_variable(churn_plan) -> None:
    for job_id in ("train", "model-gate", "promote-model"):
        env = dict(churn_plan.job(job_id).env)
        assert env["MLFLOW_TRACKING_URI"].kind is EnvKind.VARIABLE
        assert env["MLFLOW_TRACKING_URI"].value == "MLFLOW_TRACKING_URI"
    gate = churn_plan.job("model-gate").steps[-1].run.split()
    assert gate[gate.index("--mode") + 1] == "auto"  # report-only on pull requests
    assert gate[gate.index("--candidate-version") + 1] == '"$MODEL_VERSION"'
    metrics = [gate[i + 1] for i, word in enumerate(gate) if word == "--metric"]
    assert metrics == ["auc:greater_is_better=true,threshold=0.75,min_absolute_change=0.005",
                       "log_loss:greater_is_better=false,min_relative_change=0.01"]


def test_image_is_built_in_test_when_test_deploys_it() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        image: {name: p}
        environments:
          test: {deploy: ./deploy.sh test "$IMAGE_REF"}
          qa: {deploy: ./deploy.sh qa "$IMAGE_REF"}
        """)
    assert plan.job("build").stage == "test"
    assert plan.job("deploy-test").needs == ("build",)
    assert plan.job("deploy-qa").inputs == (("IMAGE_REF", "build"),)
    assert plan.earlier_stage_needs(plan.job("deploy-qa")) == ("build",)


def _chain_yaml(length: int, reverse: bool = False) -> str:
    """One TEST chain step-0 <- step-1 <- ... (each needs the one before), optionally written backwards."""
    jobs = [f"  - {{name: step-{index}, stage: test, run: echo {index}"
            + (f", needs: [step-{index - 1}]}}" if index else "}") for index in range(length)]
    if reverse:
        jobs.reverse()
    return "project: {name: p}\ntargets: [github, gitlab, azure, jenkins]\njobs:\n" + "\n".join(jobs) + "\n"


def test_a_2000_job_chain_plans_in_dependency_order_without_recursion() -> None:
    plan = plan_from_yaml(_chain_yaml(2000, reverse=True))
    steps = [job.id for job in plan.jobs if job.id.startswith("step-")]
    assert steps == [f"step-{index}" for index in range(2000)]
    assert plan.job("step-1999").needs == ("step-1998",)
    assert plan.stage_of("step-1999").id == "test"


def test_ties_keep_the_written_order() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        jobs:
          - {name: late, stage: test, run: x, needs: [early]}
          - {name: zeta, stage: test, run: x}
          - {name: early, stage: test, run: x}
          - {name: alpha, stage: test, run: x}
        """)
    custom = [job.id for job in plan.jobs if job.id in ("late", "zeta", "early", "alpha")]
    assert custom == ["zeta", "early", "late", "alpha"]


def test_a_long_cycle_is_reported_once_with_its_path() -> None:
    text = _chain_yaml(1500).replace("{name: step-0, stage: test, run: echo 0}",
                                     "{name: step-0, stage: test, run: echo 0, needs: [step-1499]}")
    with pytest.raises(DescriptorError) as raised:
        plan_from_yaml(text)
    messages = [problem.message for problem in raised.value.problems]
    assert len(messages) == 1
    path = messages[0].removeprefix("jobs form a cycle: ").split(" -> ")
    assert len(path) == 1501 and path[0] == path[-1]


def test_pipegen_is_installed_only_in_custom_jobs_that_call_it() -> None:
    plan = plan_from_yaml("""
        project: {name: p}
        targets: [github]
        jobs:
          - {name: plain, stage: test, run: ./smoke.sh}
          - {name: producer, stage: test, run: 'pipegen output set X 1', outputs: [X]}
          - {name: caller, stage: test, run: 'python -m pipegen gate lint --min-score 9'}
          - {name: reader, stage: test, run: 'cat pipegen.yaml'}
        """)
    installs = {job.id: any("pipegen-ci" in command for command in job.install_commands()) for job in plan.jobs}
    assert installs["plain"] is False and installs["reader"] is False
    assert installs["producer"] is True and installs["caller"] is True
