"""No command opens a file any other way than through the one safe reader (pipegen.paths):
every call in the source that opens, reads or writes a path by itself (`open(`, `Path.open`,
`read_text`, `read_bytes`, `write_text`, `write_bytes`, `os.open`, `os.fdopen`, an XML or
Parquet parser handed a file) is listed here with the reason it is not a user-named file. A new
one fails this test: read it through `pipegen.paths` (or `pipegen.project_files`), or, when it
is pipegen's own file, add it below with the reason."""
from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "pipegen"
READER = "paths.py"
METHODS = frozenset({"open", "read_text", "read_bytes", "write_text", "write_bytes", "iterparse", "fdopen"})

REVIEWED = {
    "pins/images.py:shipped_catalog:read_text": "the image catalog shipped inside the package",
    "sbom/schema.py:checked_document:read_text": ("the SBOM cyclonedx-py or syft has just written at the output "
                                                  "path, read back to validate it"),
    "descriptor/schema.py:schema_text:read_text": "the JSON Schema shipped inside the package",
    "gates/profiles.py:load_profile:read_text": "a gate profile shipped inside the package (a name, never a path)",
    "gates/coverage.py:_changed_files_report:ET.iterparse": "parses the stream paths.open_binary opened",
    "gates/coverage.py:_changed_files_report:ET.parse": "parses the stream paths.open_binary opened",
    "gates/drift.py:read_table:pyarrow.parquet.read_table": "parses the stream paths.open_binary opened",
    "generate/files.py:_write_temporary:os.fdopen": "pipegen's own temporary file (mkstemp) beside a checked target",
    "init/starter.py:write_descriptor:os.fdopen": "pipegen's own temporary file (mkstemp) beside the descriptor",
    "init/starter.py:_place:open": "creates the backup exclusively (mode x), from bytes the safe reader read",
    "run/executor.py:_new_log:os.open": "a new job log in the run's own checked logs folder, O_NOFOLLOW",
    "run/executor.py:_new_log:os.fdopen": "the job log just opened",
    "run/console.py:failure_tails:read_text": "a job log pipegen run wrote (redacted, O_NOFOLLOW) in its folder",
    "init/measure/configs.py:pylint_settings:write_text": "the sanitised pylint settings in init's throw-away folder",
    "init/measure/configs.py:flake8_settings:open": "the sanitised flake8 settings in init's throw-away copy",
    "init/measure/environment.py:_recorded:read_text": "the record inside pipegen's own cached linter environment",
    "init/measure/environment.py:_make:write_text": "the record inside pipegen's own cached linter environment",
    "init/measure/workspace.py:copy_for_linting:write_bytes": "init's throw-away copy, of bytes the safe reader read",
    "run/venv.py:_relink_prefix:read_bytes": "scripts inside a venv pipegen made",
    "run/venv.py:_relink_prefix:write_bytes": "scripts inside a venv pipegen made",
    "run/venv.py:seed_from_cache:read_text": "the prefix file pipegen wrote into its venv cache",
    "run/venv.py:store_in_cache:write_text": "the prefix file pipegen writes into its venv cache",
    "commands/deploy.py:kubernetes_render:write_text": "the rendered manifests, to the file --out names (its output)",
    "deploy/kubernetes.py:_kubeconfig:os.open": "a new kubeconfig in pipegen's own temporary folder, O_EXCL, mode 0600",
    "deploy/kubernetes.py:_kubeconfig:os.fdopen": "the kubeconfig just opened",
    "deploy/terraform.py:seal:write_text": "the seal pipegen writes beside the saved plan it just checked",
    "gates/dags.py:load:read_bytes": "the probe script shipped inside the package",
    "gates/dags.py:load:write_bytes": "a copy of the probe in the gate's own temporary folder",
    "gates/dags.py:load:read_text": "the probe's JSON answer in the gate's own temporary folder",
    "gates/dags_probe.py:main:open": "the probe (run in Airflow's Python) writes its answer where the gate told it",
}


def _file_calls(module: str, text: str) -> set[str]:
    """`module:function:call` for each call in `text` that opens, reads or writes a file by itself."""
    found: set[str] = set()
    scope: list[str] = []

    class Visitor(ast.NodeVisitor):
        def visit_FunctionDef(self, node: ast.AST) -> None:
            scope.append(node.name)
            self.generic_visit(node)
            scope.pop()

        visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

        def visit_Call(self, node: ast.Call) -> None:
            name = _opening_call(node.func)
            if name is not None:
                found.add(f"{module}:{scope[-1] if scope else '<module>'}:{name}")
            self.generic_visit(node)

    Visitor().visit(ast.parse(text))
    return found


def _opening_call(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return "open" if func.id == "open" else None
    if not isinstance(func, ast.Attribute):
        return None
    receiver = ast.unparse(func.value)
    if receiver == "paths":  # the reader itself
        return None
    if func.attr in ("iterparse", "parse") and receiver in ("ET", "ElementTree", "etree"):
        return f"{receiver}.{func.attr}"
    if func.attr == "read_table" and "parquet" in receiver:
        return f"{receiver}.{func.attr}"
    if func.attr in ("open", "fdopen") and receiver in ("os", "io"):
        return f"{receiver}.{func.attr}"
    if func.attr in METHODS - {"iterparse", "fdopen"}:
        return func.attr
    return None


def test_every_file_access_outside_the_reader_is_reviewed() -> None:
    found = set()
    for path in sorted(SOURCE.rglob("*.py")):
        module = path.relative_to(SOURCE).as_posix()
        if module != READER:
            found |= _file_calls(module, path.read_text(encoding="utf-8"))
    assert found - set(REVIEWED) == set(), "read these through pipegen.paths (or review them here)"
    assert set(REVIEWED) - found == set(), "reviewed calls that are gone: remove them from REVIEWED"


def test_the_scan_sees_every_way_of_opening() -> None:
    probe = ("def f(p):\n    open(p)\n    p.read_text()\n    p.open('rb')\n    os.open(p, 0)\n"
             "    paths.read_text(p)\n    ET.parse(p)\n    pq.parquet.read_table(p)\n    io.open(p)\n")
    assert _file_calls("probe.py", probe) == {f"probe.py:f:{call}" for call in (
        "open", "read_text", "os.open", "ET.parse", "pq.parquet.read_table", "io.open")}
