"""The CycloneDX JSON schema every SBOM pipegen keeps is checked against (cyclonedx-python-lib's
strict validator, from the `sbom` extra): a file that is not a valid SBOM fails the job instead of
being archived, or attested, as one."""
from __future__ import annotations

import json
from pathlib import Path

from pipegen.errors import CheckFailed, EvaluationError

SPEC_VERSION = "1.6"


def validation_errors(document: str) -> str | None:
    """What makes `document` invalid CycloneDX JSON (the strict schema), or None."""
    try:
        # pylint: disable-next=import-outside-toplevel  # the sbom extra, only for the sbom commands
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise EvaluationError("cyclonedx-python-lib is not installed beside pipegen: install pipegen-ci[sbom]") \
            from None
    error = JsonStrictValidator(SchemaVersion.from_version(SPEC_VERSION)).validate_str(document)
    return None if error is None else str(error)


def checked_document(output: Path) -> dict:
    """The SBOM a generator has just written at `output`, read back and checked (exit 1 when invalid)."""
    text = output.read_text(encoding="utf-8")
    error = validation_errors(text)
    if error is not None:
        raise CheckFailed(f"{output}: not a valid CycloneDX {SPEC_VERSION} document: {error}")
    return json.loads(text)
