"""Each platform's reader, by target name: the generated file read back into the neutral
`pipegen.platforms.readback.PipelineView` (the readers sit next to their backends). Imported lazily:
the Jenkins reader needs tree-sitter, an optional dependency (`pipegen-ci[diff]`)."""
from __future__ import annotations

import importlib
from dataclasses import replace

import yaml

from pipegen.errors import EvaluationError
from pipegen.platforms import approvals, yaml_document
from pipegen.platforms import readback as rb

READERS = {
    "github": "pipegen.platforms.github.reader",
    "gitlab": "pipegen.platforms.gitlab.reader",
    "azure": "pipegen.platforms.azure.reader",
    "jenkins": "pipegen.platforms.jenkins.reader",
}
# Environments whose approval the platform keeps in its settings (GitHub, Azure): the file
# only names the environment. pipegen's approvals are always on prod.
APPROVAL_ENVIRONMENTS = frozenset({"prod"})


def read_back(target: str, text: str, release: str = "main",
              protected: frozenset[str] = APPROVAL_ENVIRONMENTS,
              numbering: rb.Numbering | None = None, pieces: yaml_document.Pieces | None = None) -> rb.PipelineView:
    """The file of `target` as a PipelineView. Raises EvaluationError when it cannot be read
    (a missing optional dependency, a syntax or condition the reader does not know). Views
    compared with each other share a `numbering` (what each job waits for is a set of its bits)
    and, for the YAML files, `pieces` (an entry of the text read before is not parsed again)."""
    numbering = numbering or rb.Numbering()
    try:
        module = importlib.import_module(READERS[target])
    except ImportError as exc:
        raise EvaluationError(f"reading a {target} pipeline needs {exc.name or 'tree-sitter'}: "
                              "pip install 'pipegen-ci[diff]'") from None
    try:
        if target in ("github", "azure"):
            # The file says which environments ask for an approval (pipegen.platforms.approvals); older files
            # do not, and `protected` stands in.
            declared = approvals.declared(text)
            if declared is not None:
                protected = frozenset(declared)
            view = module.read(text, protected=protected, release=release, numbering=numbering, pieces=pieces)
            return replace(view, approvers=None if declared is None else tuple(sorted(declared.items())))
        return module.read(text, release=release, numbering=numbering, pieces=pieces)
    except (yaml.YAMLError, rb.ConditionError, ValueError, LookupError, TypeError, AttributeError) as exc:
        raise EvaluationError(f"cannot read the {target} pipeline: {exc}") from None
