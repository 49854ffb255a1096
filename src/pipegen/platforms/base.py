"""The interface every platform backend implements, and the Jinja2 environment they share."""
from __future__ import annotations

from typing import Protocol

import jinja2

from pipegen import syntax
from pipegen.plan import Plan
from pipegen.platforms.template_cache import bytecode_cache
from pipegen.records import record
from pipegen.resources import templates_dir


@record
class Expected:
    """What a checklist item asks for, as data: the item's text is written from these values
    and `pipegen doctor` compares them with what the platform's API reports."""

    approval: bool = False  # an approval must be given before the item's jobs run
    approvers: tuple[str, ...] = ()  # who approves: reviewers, deployers, `input` submitters
    branches: tuple[str, ...] = ()  # the only branches that may deploy (environment) or that must be built (job)
    masked: bool = False  # a variable the platform masks in logs (GitLab)
    protected: bool | None = None  # True: protected; False: must stay readable by unprotected refs; None: either


NOTHING_EXPECTED = Expected()


@record
class ChecklistItem:
    """Something configured outside the generated file, which the pipeline relies on."""

    kind: str  # secret | variable | environment | schedule | credentials | tool | other
    name: str
    detail: str
    expected: Expected = NOTHING_EXPECTED


def runner_tool_items(plan: Plan, where: str) -> list[ChecklistItem]:
    """One item per command the runner must provide (Job.runner_tools): pipegen's jobs call
    them as users have them and install none. `where`: the platform's word for what runs a job."""
    users: dict[str, list[str]] = {}
    for job in plan.jobs:
        for tool in job.runner_tools:
            users.setdefault(tool, []).append(job.id)
    return [ChecklistItem("tool", tool, f"`{tool}` on PATH in {where} for {', '.join(jobs)} (the generated jobs "
                                        "call it and do not install it)")
            for tool, jobs in sorted(users.items())]


class Backend(Protocol):
    name: str  # target name: github | gitlab | azure | jenkins
    path: str  # where the file goes, relative to the repository root
    comment: str  # line-comment marker of the file's syntax: "#" or "//"

    def render(self, plan: Plan) -> str:
        """The file body (no header), deterministic for a given plan."""

    def checklist(self, plan: Plan) -> list[ChecklistItem]:
        """Settings that live outside the file (secrets, environments, approvers, ...)."""


_FILTERS = {
    "yaml": syntax.yaml_scalar,
    "yaml_block": syntax.yaml_block,
    "expression": syntax.yaml_expression,
    "groovy": syntax.groovy_string,
    "groovy_multiline": syntax.groovy_multiline,
}


def template_environment(platform: str) -> jinja2.Environment:
    """Templates under templates/<platform>/, strict about undefined names, with the
    escaping filters of pipegen.syntax."""
    options = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True, "autoescape": False}
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / platform)),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=bytecode_cache({**options, "undefined": "strict", "filters": sorted(_FILTERS)}),
        **options,
    )
    environment.filters.update(_FILTERS)
    # Templates read attributes of records only (`job.id`): the builtin getattr, called directly by
    # the compiled templates, skips Jinja's item fallback and its Python-level call per lookup (a
    # large pipeline does hundreds of thousands). A missing attribute still fails the render.
    environment.getattr = getattr  # type: ignore[method-assign]
    return environment
