"""Property-based fuzzing (issue 11, "What it must show" 5) of the three ways hostile input
gets in: descriptors (mutations of the examples, and descriptors generated from the JSON
Schema with hostile values), gate reports (Cobertura XML, pylint json2, flake8 text) and
`pipegen output set` arguments. Properties: no traceback, exit codes from the documented
set, and for every descriptor `validate` accepts, `generate`'s output parses on every
target and is byte-identical across runs and hash seeds.

Bounded for CI: the `ci` profile (default) is derandomized (a fixed seed) and runs a few
hundred examples per property, about two minutes in all. `HYPOTHESIS_PROFILE=long` runs
far more, with fresh randomness each time (see docs/limits.md)."""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platforms.jenkins_structure import read_pipeline
from conftest import CHURN, MINIMAL
from pipegen.cli import main
from pipegen.descriptor.loader import parse_any
from pipegen.descriptor.projects import ProjectSet
from pipegen.descriptor.schema import schema
from pipegen.plan import build_plan
from pipegen.plan.projects import build_projects_plan
from pipegen.generate.render import render_file

EXIT_CODES = {0, 1, 2, 3}
TARGETS = ("github", "gitlab", "azure", "jenkins")
CI_VARIABLES = ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY", "TF_BUILD", "GITLAB_CI",
                "JENKINS_URL", "PIPEGEN_GATE_MODE", "PIPEGEN_OUTPUTS_FILE", "PIPEGEN_OUTPUTS_LEDGER", "PIPEGEN_DEBUG",
                "RUNNER_TEMP", "AGENT_TEMPDIRECTORY")
_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                     HealthCheck.function_scoped_fixture]}
settings.register_profile("ci", max_examples=150, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=2000, **_COMMON)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ACCEPTED: list[str] = []  # descriptors validate accepted, for the hash-seed comparison at the end


@contextlib.contextmanager
def in_fresh_folder() -> Iterator[Path]:
    """A new empty working directory, outside any CI (no fixture: hypothesis runs the body many times)."""
    saved_env = {name: os.environ.pop(name) for name in CI_VARIABLES if name in os.environ}
    saved_cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(saved_cwd)
            os.environ.update(saved_env)


def run_cli(*args: str) -> tuple[int, str, str]:
    """`pipegen ARGS` in-process: any exception other than SystemExit is a traceback, and fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exited:
            code = exited.code if isinstance(exited.code, int) else (0 if exited.code is None else 1)
        else:
            code = 0
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------------------- descriptors

FRAGMENTS = [
    "&a ", "*a", "&b [x, *a]", "!!int ", "!!bool ", "!!float ", "!!timestamp ", "!!binary ", "!!set ",
    "!!python/object/new:os.system ", "!!str ", "{", "}", "[", "]", ": ", "- ", "\n", "\n  ", "\t", "#", "'", '"',
    "${{ github.token }}", "$(whoami)", "$[ x ]", "`id`", "\\x98", "\\u2028", "\\ud800", "\x85", "\u2028", "\ufeff",
    ".nan", ".inf", "-.inf", "1e999", "9" * 50, "release/*", "<<: *a", "---\n", "...\n", "%YAML 1.1\n", "? ",
    "|\n  ", ">-\n  ", "~", "null", "yes", "0o17", "0x1F", "2020-99-99", "=", ";", "%", "@", "*", "\\", "\x00",
    "\x1b[31m", "é", "日本", "🙂", "ǅ", "\r\n", "\r", "jobs: [{name: j, stage: prod, run: x}]\n",
    "environments: {prod: {deploy: x, branch: 'release/*'}}\n", "quality: {coverage: {min: .nan}}\n",
]


@st.composite
def mutated_example(draw) -> str:
    """An example descriptor with a few random edits: YAML syntax and hostile values spliced in."""
    text = draw(st.sampled_from([CHURN, MINIMAL])).read_text(encoding="utf-8")
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "insert", "delete", "replace", "duplicate-line"]))
        if operation == "insert":
            payload = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)))
            text = text[:position] + payload + text[position:]
        elif operation == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 20)):]
        elif operation == "replace":
            payload = draw(st.sampled_from(FRAGMENTS))
            text = text[:position] + payload + text[position + len(payload):]
        else:
            lines = text.split("\n")
            index = draw(st.integers(0, len(lines) - 1))
            text = "\n".join(lines[:index + 1] + [lines[index]] + lines[index + 1:])
    return text


HOSTILE_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from([fragment for fragment in FRAGMENTS if fragment.strip()]),
)
SCALARS = st.one_of(HOSTILE_TEXT, st.integers(), st.floats(), st.booleans(), st.none())
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(HOSTILE_TEXT, inner, max_size=3)), max_leaves=6)


def _from_schema(node: dict, defs: dict, junk: bool, depth: int = 0) -> st.SearchStrategy:
    """Values shaped by the descriptor's own JSON Schema; with `junk`, any value may be
    replaced by hostile data of any shape. Strings are drawn from the schema's patterns
    over all of Unicode, so even valid-shaped values carry hostile characters."""
    if "$ref" in node:
        # "#/$defs/NAME", or "#/properties/NAME" (a project block reuses the top-level sections)
        return _from_schema(defs[node["$ref"].removeprefix("#/")], defs, junk, depth)
    if isinstance(node.get("type"), list):  # e.g. ["object", "null"]: one strategy per type
        return st.one_of([_from_schema({**node, "type": kind}, defs, junk, depth) for kind in node["type"]])
    if node.get("type") == "null":
        return st.none()
    if "const" in node:
        valid = st.just(node["const"])
    elif "enum" in node:
        valid = st.sampled_from(node["enum"])
    elif node.get("type") == "object" and "properties" in node and depth < 6:
        properties = {key: _from_schema(sub, defs, junk, depth + 1) for key, sub in node["properties"].items()}
        required = {key: properties.pop(key) for key in node.get("required", ()) if key in properties}
        valid = st.fixed_dictionaries(required, optional=properties)
    elif node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict) and depth < 6:
        valid = st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                                _from_schema(node["additionalProperties"], defs, junk, depth + 1), max_size=3)
    elif node.get("type") == "array" and "items" in node and depth < 6:
        valid = st.lists(_from_schema(node["items"], defs, junk, depth + 1), min_size=node.get("minItems", 0),
                         max_size=3,
                         unique_by=lambda value: json.dumps(value, sort_keys=True, default=str))
    elif node.get("type") == "string" and "pattern" in node:
        valid = st.from_regex(node["pattern"], fullmatch=True).filter(lambda text: 0 < len(text) < 40)
    elif node.get("type") in ("number", "integer"):
        low, high = node.get("minimum", 0), node.get("maximum", 10 ** 6)
        valid = st.integers(int(low), int(high)) if node["type"] == "integer" else st.floats(low, high)
    elif node.get("type") == "boolean":
        valid = st.booleans()
    else:
        valid = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=30)
    return st.one_of(valid, valid, valid, valid, valid, valid, JUNK) if depth and junk else valid


@st.composite
def generated_descriptor(draw) -> str:
    """A descriptor built from the schema, dumped as YAML (sometimes in flow style)."""
    the_schema = schema()
    junk = draw(st.sampled_from([False, False, True]))
    defs = {f"{section}/{name}": node for section in ("$defs", "properties")
            for name, node in the_schema[section].items()}
    data = draw(_from_schema(the_schema, defs, junk))
    style = draw(st.sampled_from([False, None, True]))
    return yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False, default_flow_style=style)


def render_all(text: str) -> dict[str, str]:
    parsed = parse_any(text, Path("pipegen.yaml"))
    plan = build_projects_plan(parsed) if isinstance(parsed, ProjectSet) else build_plan(parsed)
    return {target: render_file(plan, target).text for target in plan.targets}


def assert_parses(target: str, text: str) -> None:
    if target == "jenkins":
        read_pipeline(text)  # tree-sitter-groovy; raises on ERROR or MISSING nodes
    else:
        assert isinstance(yaml.safe_load(text), dict)


def check_descriptor(text: str) -> None:
    with in_fresh_folder() as folder:
        (folder / "pipegen.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
        code, _, err = run_cli("validate")
        assert code in (0, 2), (code, err)
        if code == 2:
            assert err.strip(), "refused without saying why"
            assert all(line.startswith("pipegen") for line in err.splitlines()), err
            return
        # Accepted: generate must not refuse it (validate refuses first), and every file parses.
        rendered = render_all(text)
        for target, output in rendered.items():
            assert_parses(target, output)
        assert render_all(text) == rendered  # byte-identical run to run
        code, _, err = run_cli("generate", "--quiet")
        assert code == 0, err
    if len(ACCEPTED) < 40:
        ACCEPTED.append(text)


@FUZZ
@given(mutated_example())
def test_mutated_examples(text: str) -> None:
    check_descriptor(text)


@FUZZ
@given(generated_descriptor())
def test_generated_descriptors(text: str) -> None:
    check_descriptor(text)


def test_accepted_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    """Whatever the fuzzing accepted (plus the examples and a fixed sample of mutations),
    rendered under two PYTHONHASHSEED values: byte-identical."""
    rng = random.Random(11)
    corpus = [CHURN.read_text(encoding="utf-8"), MINIMAL.read_text(encoding="utf-8"), *ACCEPTED]
    for _ in range(20):
        text = CHURN.read_text(encoding="utf-8")
        spot = rng.randrange(len(text))
        corpus.append(text[:spot] + rng.choice(FRAGMENTS) + text[spot:])
    (tmp_path / "corpus.json").write_text(json.dumps(corpus), encoding="utf-8")
    script = (
        "import hashlib, json, sys\n"
        "from pathlib import Path\n"
        "from pipegen.descriptor.loader import parse_descriptor\n"
        "from pipegen.errors import PipegenError\n"
        "from pipegen.plan import build_plan\n"
        "from pipegen.generate.render import render_file\n"
        "for text in json.loads(Path(sys.argv[1]).read_text()):\n"
        "    try:\n"
        "        plan = build_plan(parse_descriptor(text, Path('pipegen.yaml')))\n"
        "    except PipegenError as exc:\n"
        "        print('refused', hashlib.sha256(str(exc).encode()).hexdigest()); continue\n"
        "    for target in plan.targets:\n"
        "        print(target, hashlib.sha256(render_file(plan, target).text.encode()).hexdigest())\n")
    outputs = []
    for seed in ("1", "4242"):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "corpus.json")], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300)
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") >= len(corpus)


# ---------------------------------------------------------------------------- gate reports

ODD_NUMBERS = ["nan", "inf", "-inf", "1e400", "", "x", "0x10", "\u0663", " 1", "1_0", "NaN"]  # U+0663: Arabic-Indic 3
NUMBERS = st.one_of(st.floats(), st.integers(-10, 10 ** 6), st.sampled_from(ODD_NUMBERS))


@st.composite
def cobertura(draw) -> tuple[str, dict[str, str]]:
    attributes = {name: str(draw(NUMBERS)) for name in draw(st.sets(st.sampled_from(
        ["line-rate", "branch-rate", "lines-valid", "lines-covered", "branches-valid", "branches-covered"])))}
    text = '<?xml version="1.0" ?>\n<coverage ' + " ".join(
        f'{name}="{value}"' for name, value in attributes.items()) + '><packages><package name="p"/></packages>' \
        "</coverage>\n"
    cut = draw(st.one_of(st.none(), st.integers(0, len(text))))
    return (text if cut is None else text[:cut]), ({} if cut is not None and cut < len(text) else attributes)


@FUZZ
@given(cobertura(), st.one_of(st.none(), st.floats(), st.integers(-5, 150)))
def test_coverage_reports(report: tuple[str, dict[str, str]], threshold: Any) -> None:
    text, attributes = report
    with in_fresh_folder() as folder:
        (folder / "coverage.xml").write_text(text, encoding="utf-8")
        args = ["gate", "coverage", "--no-diff"] + (["--min", str(threshold)] if threshold is not None else [])
        code, out, err = run_cli(*args)
    assert code in EXIT_CODES, (code, out, err)
    if code in (0, 1):
        # Judged only from figures that mean something: a finite rate in 0..1, counts that add up.
        rate = float(attributes["line-rate"])
        assert 0.0 <= rate <= 1.0
        for part, whole in (("lines-covered", "lines-valid"), ("branches-covered", "branches-valid")):
            if part in attributes and whole in attributes:
                assert int(attributes[part]) <= int(attributes[whole])


@FUZZ
@given(st.one_of(NUMBERS, st.just("true"), st.just("null")),
       st.dictionaries(st.sampled_from(["error", "warning", "fatal", "convention"]), NUMBERS, max_size=3),
       st.one_of(st.floats(), st.integers(-5, 15)))
def test_pylint_reports(score: Any, counts: dict, min_score: Any) -> None:
    score_text = score if isinstance(score, str) and score in ("true", "null", "nan", "inf") else json.dumps(score)
    report = ('{"messages": [], "statistics": {"score": ' + score_text.replace("nan", "NaN").replace("inf", "Infinity")
              + ', "messageTypeCount": ' + json.dumps(counts) + "}}")
    with in_fresh_folder() as folder:
        (folder / "pylint.json").write_text(report, encoding="utf-8")
        code, out, err = run_cli("gate", "lint", "--pylint-report", "pylint.json", "--min-score", str(min_score))
    assert code in EXIT_CODES, (code, out, err)
    if code in (0, 1):
        assert isinstance(score, (int, float)) and 0 <= score <= 10


FLAKE8_LINES = st.one_of(
    st.builds(lambda path, row, col, code, text: f"{path}:{row}:{col}: {code} {text}",
              st.sampled_from(["a.py", "src/b.py", "c d.py"]), st.integers(0, 10 ** 6), st.integers(0, 500),
              st.from_regex(r"[A-Z]{1,3}[0-9]{1,4}", fullmatch=True), st.text(max_size=20)),
    st.integers(0, 10 ** 30).map(str), st.text(max_size=40), st.just(""))


@FUZZ
@given(st.lists(FLAKE8_LINES, max_size=8), st.integers(0, 5))
def test_flake8_reports(lines: list[str], max_issues: int) -> None:
    with in_fresh_folder() as folder:
        (folder / "flake8.txt").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
        code, out, err = run_cli("gate", "lint", "--flake8-report", "flake8.txt", "--max-issues", str(max_issues))
    assert code in EXIT_CODES, (code, out, err)


# ---------------------------------------------------------------------------- output set

PLATFORMS = {"github": {"GITHUB_ACTIONS": "true"}, "azure": {"TF_BUILD": "True"}, "gitlab": {"GITLAB_CI": "true"},
             "jenkins": {"JENKINS_URL": "http://jenkins"}, "local": {}}


@FUZZ
@given(st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=False), st.text(max_size=12)),
       st.one_of(st.text(max_size=40), st.text(alphabet=st.characters(codec="utf-8"), max_size=40)),
       st.sampled_from(sorted(PLATFORMS)))
def test_output_set(name: str, value: str, platform: str) -> None:
    with in_fresh_folder() as folder:
        os.environ.update(PLATFORMS[platform])
        wiring = {"GITHUB_OUTPUT": str(folder / "gh-out"), "GITHUB_ENV": str(folder / "gh-env"),
                  "PIPEGEN_OUTPUTS_LEDGER": str(folder / "ledger")}
        os.environ.update(wiring)
        try:
            code, out, err = run_cli("output", "set", "--", name, value)  # "--": a name may start with "-"
        finally:
            for variable in (*PLATFORMS[platform], *wiring):
                os.environ.pop(variable, None)
        written = {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir()}
        ledger = written.pop("ledger", None)
    assert code in (0, 2), (code, out, err)
    if code == 2:
        assert not written and ledger is None and "##vso" not in out
        return
    assert len(err.splitlines()) == 1
    assert ledger == f"{name}\n"
    line = f"{name}={value}\n"
    if platform == "github":
        assert written == {"gh-out": line, "gh-env": line}
    elif platform == "azure":
        assert out.splitlines()[0].startswith(f"##vso[task.setvariable variable={name};isOutput=true]")
        assert len(out.splitlines()) == 2
    else:
        assert written == {"pipegen-outputs.env": line}
    published = line.rstrip("\n").split("=", 1)
    assert published == [name, value] and len(line.splitlines()) == 1


# ---------------------------------------------------------------------------- the commands added since
#
# drift, report comment, diff, init and run (issue 18): whatever the data, the reports, the pipeline
# files, the repository's metadata or the run's state hold, no traceback, a documented exit code, and
# nothing printed that holds a secret of the environment or that a CI would read as a logging command.

FUZZ_SECRET = "fuzz-s3cr3t-T0KEN-0a1b2c3d4e5f"
COMMANDS = ["::error::x", "::set-output name=A::1", "##vso[task.setvariable variable=A]1", "##[group]", "\r",
            "\r\n", "\x1b[8mha:AAAA", "section_start:1:x\r\x1b[0K", "\n::add-mask::", FUZZ_SECRET, f" {FUZZ_SECRET}\n",
            ",", '"']
DATA_TEXT = st.one_of(st.text(max_size=12), st.sampled_from(COMMANDS), st.sampled_from(FRAGMENTS))
NEW_COMMANDS = settings(FUZZ, max_examples=min(FUZZ.max_examples, 60))
_WORKDIRS: dict[str, Path] = {}


def assert_harmless(code: int, out: str, err: str, codes: set[int]) -> None:
    from hostile.conftest import logging_commands  # pylint: disable=import-outside-toplevel

    assert code in codes, (code, out, err)
    for text in (out, err):
        assert FUZZ_SECRET not in text and FUZZ_SECRET[:10] not in text, text
        assert [line for line in logging_commands(text) if not line.startswith("##vso[task.uploadsummary]")] == [], text


@contextlib.contextmanager
def with_secret(folder: Path | None = None) -> Iterator[None]:
    """The environment holds a secret (and, with `folder`, the working directory is there)."""
    saved_cwd = os.getcwd()
    os.environ["FUZZ_API_TOKEN"] = FUZZ_SECRET
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.pop("FUZZ_API_TOKEN", None)


def committed_copy(name: str, source: Path | None, descriptor: str | None = None) -> Path:
    """A git repository made once per session: `source` copied (or `descriptor` written), committed."""
    if name not in _WORKDIRS:
        import shutil  # pylint: disable=import-outside-toplevel

        root = Path(tempfile.mkdtemp(prefix=f"pipegen-fuzz-{name}-")) / "repo"
        if source is not None:
            shutil.copytree(source, root)
        else:
            root.mkdir()
            (root / "pipegen.yaml").write_text(descriptor or "", encoding="utf-8")
        for args in (["init", "--quiet", "--initial-branch=main"], ["add", "--all"],
                     ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false",
                      "commit", "--quiet", "-m", "fuzz"], ["checkout", "--quiet", "-b", "feature"]):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
        _WORKDIRS[name] = root
    return _WORKDIRS[name]


@st.composite
def csv_text(draw) -> bytes:
    rows = draw(st.lists(st.lists(DATA_TEXT, min_size=1, max_size=3), min_size=0, max_size=6))
    quote = draw(st.booleans())
    lines = [",".join(('"' + cell.replace('"', '""') + '"') if quote else cell for cell in row) for row in rows]
    data = ("plan,region\n" if draw(st.booleans()) else "") + "\n".join(lines)
    raw = data.encode("utf-8", errors="surrogatepass")
    return raw + (b"\xff\xfe" if draw(st.integers(0, 9)) == 0 else b"")


@NEW_COMMANDS
@given(csv_text())
def test_drift_data(data: bytes) -> None:
    with in_fresh_folder() as folder, with_secret():
        (folder / "reference.csv").write_text("plan,region\nbasic,north\npremium,south\n", encoding="utf-8")
        (folder / "current.csv").write_bytes(data)
        code, out, err = run_cli("gate", "drift", "--reference", "reference.csv", "--current", "current.csv",
                                 "--markdown", "drift.md")
        markdown = (folder / "drift.md").read_text(encoding="utf-8")
    assert_harmless(code, out, err, EXIT_CODES - {2})
    assert_harmless(0, markdown, "", {0})


@NEW_COMMANDS
@given(st.lists(st.tuples(st.sampled_from(["coverage", "lint", "drift", "model", "diff", "x"]),
                          st.lists(DATA_TEXT, max_size=6).map("".join)), max_size=4))
def test_report_comment_bodies(reports: list[tuple[str, str]]) -> None:
    with in_fresh_folder() as folder, with_secret():
        (folder / "pipegen-reports").mkdir()
        for name, text in reports:
            (folder / "pipegen-reports" / f"{name}.md").write_text(text, encoding="utf-8", errors="surrogatepass")
        code, out, err = run_cli("report", "comment", "--print-body")
    assert_harmless(code, out, err, {0})


@NEW_COMMANDS
@given(st.sampled_from([".gitlab-ci.yml", "Jenkinsfile", "azure-pipelines.yml", ".github/workflows/pipegen.yml"]),
       st.lists(st.one_of(DATA_TEXT, st.sampled_from(["job:\n  script: [x]\n", "stages: [test]\n", "{", "- "])),
                max_size=8).map("".join))
def test_diff_of_any_pipeline_file(target: str, text: str) -> None:
    root = committed_copy("diff", MINIMAL.parent)
    original = (root / target).read_bytes()
    (root / target).write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        with with_secret(root):
            code, out, err = run_cli("diff", "--compare-branch", "main")
    finally:
        (root / target).write_bytes(original)
    assert_harmless(code, out, err, {0, 3})


@NEW_COMMANDS
@given(st.lists(DATA_TEXT, max_size=4).map("".join), st.lists(DATA_TEXT, max_size=3).map("".join))
def test_init_on_any_metadata(python_version: str, name: str) -> None:
    with in_fresh_folder() as folder, with_secret():
        (folder / ".python-version").write_text("3.11" + python_version, encoding="utf-8", errors="surrogatepass")
        (folder / "pyproject.toml").write_text(f"[project]\nname = {json.dumps(name)}\n", encoding="utf-8",
                                               errors="surrogatepass")
        code, out, err = run_cli("init", "--no-measure", "--target", "github")
        assert_harmless(code, out, err, {0})
        assert run_cli("validate")[0] == 0  # init never writes a descriptor it would refuse


RUN_DESCRIPTOR = "version: 1\nproject: {name: shipit}\ntargets: [github]\nenvironments:\n  qa: {deploy: echo qa}\n"


@NEW_COMMANDS
@given(st.one_of(JUNK.map(json.dumps), st.builds(lambda status, name, value: json.dumps(
    {"jobs": {"deploy-qa": {"status": status, "outputs": {name: value}, "commit": "ab"}}}),
    st.sampled_from(["passed", "failed"]), HOSTILE_TEXT, DATA_TEXT), DATA_TEXT))
def test_run_on_any_state(state: str) -> None:
    root = committed_copy("run", None, RUN_DESCRIPTOR)
    (root / ".pipegen" / "run").mkdir(parents=True, exist_ok=True)
    (root / ".pipegen" / "run" / "state.json").write_text(state, encoding="utf-8", errors="surrogatepass")
    with with_secret(root):
        code, out, err = run_cli("run", "--dry-run", "--stage", "qa")
    assert_harmless(code, out, err, {0, 2})
