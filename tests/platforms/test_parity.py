"""Parity: the four files generated from one descriptor, read back by each platform's reader,
do what the plan says, except the differences listed in pipegen.platforms.differences. Checked
on the examples, on descriptors the other tests use, and on generated descriptors."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from pipegen.platforms import parity
from pipegen.platforms import readback as rb
from pipegen.platforms import get_backend
from pipegen.platforms.readers import read_back
from pipegen.descriptor.loader import load_descriptor, parse_descriptor
from pipegen.errors import DescriptorError
from pipegen.plan import Plan, build_plan

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TARGETS = ("github", "gitlab", "azure", "jenkins")
FILES = {"github": ".github/workflows/pipegen.yml", "gitlab": ".gitlab-ci.yml", "azure": "azure-pipelines.yml",
         "jenkins": "Jenkinsfile"}


def views(plan: Plan, texts: dict[str, str] | None = None) -> dict[str, rb.PipelineView]:
    release = rb.release_branch(plan)
    protected = frozenset(name for name, approval in plan.environments if approval is not None)
    texts = texts or {target: get_backend(target).render(plan) for target in TARGETS}
    return {target: read_back(target, text, release, protected) for target, text in texts.items()}


def mismatches(plan: Plan, texts: dict[str, str] | None = None) -> dict[str, list[str]]:
    expected = rb.from_plan(plan)
    found = {target: parity.compare(expected, view) for target, view in views(plan, texts).items()}
    return {target: problems for target, problems in found.items() if problems}


def plan_of(text: str) -> Plan:
    return build_plan(parse_descriptor(textwrap.dedent(text), Path("pipegen.yaml")))


@pytest.mark.parametrize("example", ["churn", "dags-and-infra", "minimal"])
def test_committed_examples_do_what_the_plan_says(example: str) -> None:
    plan = build_plan(load_descriptor(EXAMPLES / example / "pipegen.yaml"))
    texts = {target: (EXAMPLES / example / path).read_text(encoding="utf-8") for target, path in FILES.items()}
    assert mismatches(plan, texts) == {}


VARIANTS = {
    "short-lived cloud credentials for the build and each environment, provenance": """
        project: {name: p}
        targets: [github, gitlab, azure, jenkins]
        tests: {unit: tests}
        image:
          name: app
          provenance: true
          identity: {cloud: aws, role_arn: "arn:aws:iam::123456789012:role/push", region: us-east-1}
        environments:
          qa:
            deploy: {kubernetes: {manifests: k8s}, command: ./smoke.sh}
            identity:
              cloud: gcp
              workload_identity_provider: projects/1/locations/global/workloadIdentityPools/p/providers/q
              service_account: d@p.iam.gserviceaccount.com
          prod:
            deploy: ./deploy.sh
            identity: {cloud: azure, client_id: 11111111-2222-3333-4444-555555555555,
                       tenant_id: 66666666-7777-8888-9999-000000000000, service_connection: prod-wif}
    """,
    "every deploy kind, PROD plan before its approval": """
        project: {name: p, requirements: {runtime: requirements.txt}}
        targets: [github, gitlab, azure, jenkins]
        image: {name: app}
        environments:
          qa:
            deploy:
              terraform: {dir: infra, backend_config: {bucket: TF_BUCKET}, secrets: [TF_TOKEN]}
              kubernetes: {manifests: k8s, namespace: app-qa}
              airflow: {target_var: DAGS_QA}
          prod:
            deploy:
              terraform: {dir: infra, fail_on_destroy: true}
              kubernetes: {manifests: k8s, kubeconfig_secret: KUBECONFIG_PROD}
              airflow: {target: s3://dags-prod/dags}
              command: ./announce.sh
            approval: {approvers: [ops]}
            branch: main
    """,
    "custom jobs before their producers, PROD chain": """
        project: {name: p}
        targets: [github, gitlab, azure, jenkins]
        tests: {unit: tests}
        model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}
        image: {name: app, username_secret: REG_USER, password_secret: REG_PASSWORD}
        environments:
          test: {deploy: ./deploy.sh test}
          qa: {deploy: ./deploy.sh qa, secrets: [QA_TOKEN]}
          prod: {deploy: ./deploy.sh prod, approval: {approvers: [ops]}, branch: main}
        jobs:
          - {name: announce, stage: prod, needs: [deploy-prod, snapshot], inputs: [RELEASE_ID, SNAPSHOT], run: ./a.sh}
          - {name: release-id, stage: qa, outputs: [RELEASE_ID], run: pipegen output set RELEASE_ID 1}
          - {name: snapshot, stage: prod, needs: [promote-model], outputs: [SNAPSHOT], run: ./snap.sh,
             secrets: [SNAP_TOKEN]}
    """,
    "model without a prod environment": """
        project: {name: p}
        targets: [github, gitlab, azure, jenkins]
        triggers: {branches: [main, develop], pull_requests: true, schedule: "0 1 * * *"}
        tests: {unit: tests, functional: tests/functional}
        quality: {coverage: {min: 70}, sonar: {project_key: p}}
        model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}
    """,
    "approval without a branch, data paths, submodules": """
        project: {name: p, source: src, submodules: true}
        targets: [github, gitlab, azure, jenkins]
        triggers: {branches: [trunk], data_paths: ["data/**"]}
        tests: {unit: tests, integration: tests/integration}
        image: {name: app}
        environments:
          qa: {deploy: ./deploy.sh qa}
          prod: {deploy: ./deploy.sh prod, approval: {approvers: [a, b], timeout_minutes: 30}}
    """,
}


VARIANTS["the image serves the model, a QA job after the gate, drift retrains"] = """
        project: {name: p}
        targets: [github, gitlab, azure, jenkins]
        triggers: {branches: [main], pull_requests: true, schedule: "0 4 * * *"}
        tests: {unit: tests}
        model: {name: m, train: python train.py, metrics: {auc: {greater_is_better: true, threshold: 0.7}}}
        data: {drift: {current: data/now.csv, reference: data/ref.csv, on_drift: retrain}}
        image: {name: app, serves_model: true}
        environments:
          qa: {deploy: ./deploy.sh qa}
          prod: {deploy: ./deploy.sh prod, approval: {approvers: [ops]}, branch: main}
        jobs:
          - {name: model-card, stage: qa, needs: [model-gate], run: ./card.sh}
          - {name: notify, stage: prod, run: ./notify.sh}
    """


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_descriptors_do_what_the_plan_says(name: str) -> None:
    assert mismatches(plan_of(VARIANTS[name])) == {}


# ---------------------------------------------------------------------------- generated descriptors

_NAMES = st.sampled_from(["alpha", "beta", "gamma", "delta"])


@st.composite
def descriptors(draw) -> dict:
    data: dict = {"project": {"name": "gen", "source": "src", "submodules": draw(st.booleans())},
                  "targets": list(TARGETS)}
    branches = draw(st.lists(st.sampled_from(["main", "develop", "release"]), min_size=1, max_size=2, unique=True))
    data["triggers"] = {"branches": branches, "pull_requests": draw(st.booleans())}
    if draw(st.booleans()):
        data["triggers"]["schedule"] = "30 2 * * *"
    if draw(st.booleans()):
        data["triggers"]["data_paths"] = ["data/**"]
    levels = draw(st.lists(st.sampled_from(["unit", "integration", "functional"]), min_size=1, max_size=3,
                           unique=True))
    data["tests"] = {level: f"tests/{level}" for level in levels}
    if draw(st.booleans()):
        data["quality"] = {"coverage": {"min": draw(st.integers(50, 95))}}
        if draw(st.booleans()):
            data["quality"]["sonar"] = {"project_key": "gen"}
    known = ["pipegen-check", *levels]
    if draw(st.booleans()):
        data["model"] = {"name": "m", "train": "python train.py", "secrets": draw(st.sampled_from([[], ["ML_TOKEN"]])),
                         "metrics": {"auc": {"greater_is_better": True, "threshold": 0.7}}}
        known += ["train", "model-gate"]
        if draw(st.booleans()):
            data["data"] = {"drift": {"current": "data/now.csv", "reference": "data/ref.csv",
                                      "on_drift": draw(st.sampled_from(["report", "retrain", "fail"]))}}
            known.append("drift")
    environments: dict = {}
    if draw(st.booleans()):
        data["image"] = {"name": "app", "serves_model": "model" in data and draw(st.booleans())}
        if draw(st.booleans()):
            data["image"].update(username_secret="REG_USER", password_secret="REG_PASSWORD")
        known.append("build")
        for stage in ("test", "qa"):
            if draw(st.booleans()):
                environments[stage] = {"deploy": draw(_deploys(stage))}
                known += [f"deploy-{stage}"] if isinstance(environments[stage]["deploy"], str) else []
    prod = draw(st.sampled_from(["none", "plain", "approval", "approval-branch"]))
    if prod != "none":
        environments["prod"] = {"deploy": draw(_deploys("prod"))}
        known += ["deploy-prod"] if isinstance(environments["prod"]["deploy"], str) else []
        if prod.startswith("approval"):
            environments["prod"]["approval"] = {"approvers": ["ops"]}
        if prod.endswith("branch"):
            environments["prod"]["branch"] = branches[0]
    if environments:
        data["environments"] = environments
    if "model" in data:
        known.append("promote-model")
    jobs, outputs = [], []
    stage_rank = {"test": 0, "qa": 1, "prod": 2}
    ranks = {"pipegen-check": 0, "unit": 0, "integration": 0, "functional": 0, "drift": 1, "train": 1,
             "model-gate": 1,
             "build": 1, "deploy-test": 0, "deploy-qa": 1, "promote-model": 2, "deploy-prod": 2}
    if "build" in known and "deploy-test" in known:
        ranks["build"] = 0
    for index in range(draw(st.integers(0, 3))):
        name = f"custom-{draw(_NAMES)}-{index}"
        stage = draw(st.sampled_from(["test", "qa", "prod"]))
        candidates = [job for job in known if ranks.get(job, 9) <= stage_rank[stage]]
        job = {"name": name, "stage": stage, "run": f"./{name}.sh",
               "needs": draw(st.lists(st.sampled_from(candidates), max_size=2, unique=True)) if candidates else []}
        if draw(st.booleans()):
            output = f"OUT_{index}"
            job["outputs"] = [output]
            outputs.append((output, name, stage))
        if draw(st.booleans()):
            job["secrets"] = ["CUSTOM_TOKEN"]
        jobs.append(job)
        known.append(name)
        ranks[name] = stage_rank[stage]
    # Inputs may name an output produced by a job written later: order must not matter.
    for job in jobs:
        readable = [output for output, producer, stage in outputs
                    if producer != job["name"] and stage_rank[stage] <= stage_rank[job["stage"]]]
        if readable and draw(st.booleans()):
            job["inputs"] = [draw(st.sampled_from(readable))]
    if jobs:
        data["jobs"] = jobs
    return data


def _deploys(stage: str):
    """A deploy command, or deploy kinds (their jobs are not among custom jobs' needs here)."""
    kinds = {"terraform": {"dir": "infra"}, "kubernetes": {"manifests": "k8s"},
             "airflow": {"target": f"/srv/{stage}/dags", "requirements": "requirements-dags.txt"},
             "command": f"./deploy.sh {stage}"}
    chosen = st.lists(st.sampled_from(sorted(kinds)), min_size=1, max_size=3, unique=True)
    return st.one_of(st.just(f"./deploy.sh {stage}"), chosen.map(lambda names: {kind: kinds[kind] for kind in names}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(descriptors())
def test_generated_descriptors_do_what_the_plan_says(data: dict) -> None:
    try:
        plan = build_plan(parse_descriptor(yaml.safe_dump(data, sort_keys=False), Path("pipegen.yaml")))
    except DescriptorError as exc:
        # Jobs reading each other's outputs form a cycle: validate rejects it, as it must.
        if all("form a cycle" in problem.message for problem in exc.problems):
            reject()
        raise
    assert mismatches(plan) == {}
