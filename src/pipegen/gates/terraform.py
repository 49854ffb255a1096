"""The Terraform plan gate: a saved plan (`terraform show -json PLAN`) summarised for the
reviewer: how many resources are added, changed, destroyed and replaced, and each resource by
address. Destroys and replacements are flagged; with `fail_on_destroy` they fail the job."""
from __future__ import annotations

from pipegen.errors import EvaluationError
from pipegen.gates.result import Condition, GateResult, Status

# `resource_changes[].change.actions` as Terraform's JSON output format documents them.
ACTIONS = {
    ("no-op",): "no-op", ("read",): "read", ("create",): "create", ("update",): "update", ("delete",): "delete",
    ("delete", "create"): "replace", ("create", "delete"): "replace", ("forget",): "forget",
}
COUNTED = ("create", "update", "delete", "replace")
METRICS = {"create": "to add", "update": "to change", "delete": "to destroy", "replace": "to replace"}


def changes(plan: dict) -> list[tuple[str, str]]:
    """(address, action) of every resource the plan changes, in the plan's order."""
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise EvaluationError("not a Terraform plan in JSON (terraform show -json PLAN)")
    found = []
    for change in plan.get("resource_changes") or ():
        actions = tuple((change.get("change") or {}).get("actions") or ())
        action = ACTIONS.get(actions, "+".join(actions) or "unknown")
        if action not in ("no-op", "read"):
            found.append((str(change.get("address", "?")), action))
    return found


def evaluate(plan: dict, environment: str | None = None, fail_on_destroy: bool = False) -> GateResult:
    found = changes(plan)
    flagged = Status.FAIL if fail_on_destroy else Status.WARN
    result = GateResult(gate="terraform")
    for action in COUNTED:
        count = sum(1 for _, done in found if done == action)
        destructive = action in ("delete", "replace")
        status = flagged if destructive and count else Status.PASS
        detail = ""
        if destructive and count:
            detail = "refused (fail_on_destroy)" if fail_on_destroy else "flagged: read before approving"
        result.conditions.append(Condition(METRICS[action], "==" if destructive else "count",
                                           0 if destructive else None, count, status, detail))
    for address, action in found:
        destructive = action in ("delete", "replace")
        result.conditions.append(Condition(address, "action", None, action,
                                           flagged if destructive else Status.PASS,
                                           "destroys" if action == "delete" else
                                           "destroys and recreates" if action == "replace" else ""))
    if plan.get("errored"):
        result.error = "the plan errored: it cannot be applied"
    where = f" for {environment}" if environment else ""
    result.notes.append(f"Terraform {plan.get('terraform_version', '?')} plan{where}: "
                        + (f"{len(found)} resource change(s)" if found else "no changes"))
    result.data = {"environment": environment, "changes": [{"address": a, "action": b} for a, b in found]}
    return result
