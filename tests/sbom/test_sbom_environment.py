"""`pipegen sbom environment` on this test environment's own Python: a valid CycloneDX document
listing what is installed; an interpreter that does not exist cannot be evaluated (exit 3)."""
from __future__ import annotations

import json
import sys

from helpers import run_pipegen
from pipegen.sbom.schema import validation_errors


def test_writes_a_valid_sbom_of_the_named_environment(capsys, tmp_path):
    output = tmp_path / "sbom" / "env.cdx.json"
    result = run_pipegen(capsys, "sbom", "environment", "--python", sys.executable, "--output", str(output))
    assert result.exit_code == 0, result.err
    text = output.read_text(encoding="utf-8")
    assert validation_errors(text) is None
    names = {component["name"].lower() for component in json.loads(text)["components"]}
    assert {"click", "jinja2", "pyyaml"} <= names  # pipegen's dependencies, installed here
    assert f"{len(json.loads(text)['components'])} components" in result.out


def test_an_interpreter_that_is_not_there_cannot_be_evaluated(capsys, tmp_path):
    result = run_pipegen(capsys, "sbom", "environment", "--python", str(tmp_path / "no-python"),
                         "--output", str(tmp_path / "env.cdx.json"))
    assert result.exit_code == 3 and "cyclonedx-py failed" in result.err


def test_a_document_that_is_not_cyclonedx_is_named_invalid():
    assert validation_errors(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{}]}))
