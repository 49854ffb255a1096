"""The one scrubber (pipegen.scrub): which secrets it knows, the spellings it finds them in
(whitespace, encodings, a fragment at a message cut), and how it makes data harmless for the
log readers of all four CI platforms."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from pipegen import scrub
from pipegen.errors import EvaluationError
from pipegen.gates.result import Condition, GateResult, Status

TOKEN = "glpat-Zx81qWe4rTy7uIo0pAs3"
ENV = {"GITLAB_REVIEW_TOKEN": TOKEN, "HOME": "/home/me", "SHORT_TOKEN": "1234", "DB_PASSWORD": "correct-horse",
       "GIT_AUTHOR_NAME": "Jane Developer", "PIPEGEN_REPORT_TOKEN": "abcd"}


def test_secrets_known_by_name_registration_and_length():
    known = scrub.known_secrets(ENV)
    assert TOKEN in known and "correct-horse" in known
    assert "abcd" in known  # a variable pipegen knows holds a token: four characters are enough
    assert "1234" not in known  # a value whose name only looks secret must be 8 characters or more
    assert "Jane Developer" not in known and "/home/me" not in known
    scrub.register_names(["DEPLOY_KEY_FILE"])
    assert "/etc/deploy/key" in scrub.known_secrets({"DEPLOY_KEY_FILE": "/etc/deploy/key"})


@pytest.mark.parametrize("spelling", [
    TOKEN, f"{TOKEN}\n", f"  {TOKEN}  ", TOKEN[:8] + "\n" + TOKEN[8:], " ".join(TOKEN),
    quote(TOKEN + "/", safe=""), json.dumps(TOKEN + '"')[1:-1], repr(TOKEN + "\n")[1:-1],
])
def test_a_secret_is_masked_whatever_its_whitespace_or_encoding(spelling):
    text = scrub.redact(f"the server said: {spelling} (denied)", ENV)
    assert TOKEN not in text.replace(" ", "").replace("\n", "") and "***" in text


def test_basic_auth_and_url_passwords_are_masked():
    header = base64.b64encode(f"{TOKEN}:".encode()).decode()
    assert TOKEN not in scrub.redact(f"Authorization: Basic {header}", ENV) and header not in \
        scrub.redact(f"Basic {header}", ENV)
    assert scrub.redact("cannot reach https://ci:p4ss-w0rd@mlflow.example/api", {}) == \
        "cannot reach https://ci:***@mlflow.example/api"


@pytest.mark.parametrize("cut", ["…", "...", "... (40 more characters)", ""])
def test_the_head_of_a_secret_left_by_a_cut_is_masked(cut):
    for size in (6, 12, len(TOKEN) - 1):
        text = scrub.redact(f"denied for token {TOKEN[:size]}{cut}", ENV)
        assert TOKEN[:6] not in text, text
    assert TOKEN[-8:] not in scrub.redact(f"…{TOKEN[-8:]} was refused", ENV)
    assert scrub.redact("tok…", ENV) == "tok…"  # under six characters, a fragment is not a secret's


def test_cutting_redacts_first_so_no_head_is_left():
    text = "x" * 195 + TOKEN + "y" * 50
    assert TOKEN[:5] not in scrub.cut(text, 200, ENV)
    assert scrub.cut("short", 200, ENV) == "short"


LINES = {
    "github": ["::error::forged", "   ::set-output name=A::1", "\t::add-mask::x", "x ##[set-env name=A;]1"],
    "azure": ["##vso[task.setvariable variable=A]1", "prefix ##VSO[task.complete result=Failed]x", "##[group]g"],
    "gitlab": ["section_start:1700000000:forged\r\x1b[0Kfolded", "\x1b[0Ksection_end:1:forged\r\x1b[0K"],
    "jenkins": ["\x1b[8mha:AAAAdGhpcw==\x1b[0m", "a\rb"],
}


@pytest.mark.parametrize("platform", sorted(LINES))
def test_no_line_of_data_can_start_a_logging_command(platform):
    text = scrub.neutralise("\n".join(LINES[platform]))
    for line in text.split("\n"):
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line and "##vso[" not in line.lower(), line
        assert "\r" not in line and "\x1b" not in line, line
        assert not line.lstrip().startswith(("section_start:", "section_end:")), line
    assert text.count("\n") == len(LINES[platform]) - 1  # one line in, one line out


def test_ordinary_text_is_left_as_it_is():
    text = "gate coverage: PASS\n| a | b |\n  note: 80 % (::not at the start is fine)\n## A heading"
    assert scrub.clean(text, ENV) == text


def test_logging_commands_pipegen_issues_keep_their_prefix_only():
    line = scrub.logging_command("##vso[task.uploadsummary]", "/tmp/x\n##vso[task.setvariable variable=A]1")
    assert line.startswith("##vso[task.uploadsummary]/tmp/x\\n##vso [") and "\n" not in line


def test_a_gate_result_is_cleaned_field_by_field_and_keeps_its_types():
    result = GateResult("drift", conditions=[Condition(f"::error::{TOKEN}", ">=", 1.5, TOKEN, Status.FAIL, "x\ny")],
                        notes=[f"##vso[task.complete]{TOKEN}"], data={"features": [{TOKEN: [TOKEN, 3]}]})
    cleaned = scrub.clean_data(result, ENV)
    condition = cleaned.conditions[0]
    assert condition.status is Status.FAIL and condition.threshold == 1.5
    assert condition.metric == ": :error::***" and condition.actual == "***" and condition.detail == "x\ny"
    assert cleaned.notes == ["##vso [task.complete]***"] and cleaned.data == {"features": [{"***": ["***", 3]}]}
    assert result.notes == [f"##vso[task.complete]{TOKEN}"]  # the original is not changed


def test_a_credential_is_trimmed_registered_and_refused_with_inner_whitespace():
    assert scrub.credential(f" {TOKEN}\n", "X_TOKEN") == TOKEN
    assert scrub.credential("", "X_TOKEN") is None and scrub.credential("  \n", "X_TOKEN") is None
    with pytest.raises(EvaluationError, match="X_TOKEN has whitespace or a control character") as refused:
        scrub.credential(f"{TOKEN[:5]}\n{TOKEN[5:]}", "X_TOKEN")
    assert TOKEN[:5] not in str(refused.value)


def test_without_known_secrets_a_url_password_is_still_redacted_and_data_still_neutralised():
    """The shortcuts for texts with nothing to change (a report of many categories) keep both."""
    cleaned = scrub.clean_data({"url": "https://user:hunter22@db.example/x", "categories": ["c-1", "##[group]x", "ok"]},
                               {})
    assert cleaned == {"url": "https://user:***@db.example/x", "categories": ["c-1", "## [group]x", "ok"]}
