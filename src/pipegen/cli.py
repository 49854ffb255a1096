"""The thin command-line layer: every command lives in its own module under
`pipegen.commands` and is imported only when it is run, so `pipegen --help` and
`pipegen generate` never pay for mlflow, requests or git."""
from __future__ import annotations

import contextlib
import importlib
import sys

import click

from pipegen import __version__
from pipegen.cycle_gc import paused
from pipegen.errors import DescriptorError, PipegenError


class LazyGroup(click.Group):
    """A click group whose sub-commands are `module:attribute` strings, imported on use."""

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listed from the static table: showing help must not import every command.
        rows = [(name, self.lazy_commands[name][1]) for name in sorted(self.lazy_commands)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name][0].split(":")
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, cmd_name)


COMMANDS = {
    "init": ("pipegen.commands.init:command", "Inspect this repository and write a starter pipegen.yaml."),
    "validate": ("pipegen.commands.validate:command", "Check pipegen.yaml; every problem as file:line:col."),
    "generate": ("pipegen.commands.generate:command", "Write the pipeline files for every target."),
    "check": ("pipegen.commands.check:command", "Fail with a diff when committed pipelines are stale or edited."),
    "schema": ("pipegen.commands.schema:command", "Print the descriptor's JSON Schema."),
    "output": ("pipegen.commands.output:group", "Publish a value to later jobs and stages."),
    "gate": ("pipegen.commands.gate:group", "Quality gates: coverage, lint, sonar, model, drift, dags, terraform."),
    "deploy": ("pipegen.commands.deploy:group", "What deploy kinds' jobs run: DAG sync, Terraform seal, Kubernetes."),
    "model": ("pipegen.commands.model:group", "Promote or roll back the production model."),
    "report": ("pipegen.commands.report:group", "One self-updating gate report comment on the pull request."),
    "diff": ("pipegen.commands.diff:command", "Say what a change to the pipeline files means, per platform."),
    "run": ("pipegen.commands.run:command", "Run the pipeline on this machine: jobs, outputs, approvals."),
    "changes": ("pipegen.commands.changes:command", "Say which projects of the repository this run's commits changed."),
    "doctor": ("pipegen.commands.doctor:command", "Check the settings outside the files through each platform's API."),
    "sbom": ("pipegen.commands.sbom:group", "Write a CycloneDX SBOM of the job's Python environment."),
    "pins": ("pipegen.commands.pins:group", "Refresh what generated files pin: container images by digest."),
}

# Commands whose whole work is bounded by the descriptor's size: the cycle collector pauses
# from their imports to their end (see pipegen.cycle_gc); long-running ones (gates reading
# big reports, `run`) keep it.
BOUNDED = frozenset({"validate", "generate", "check", "schema"})


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pipegen")
def cli() -> None:
    """Generate TEST -> QA -> PROD CI/CD pipelines from pipegen.yaml, and run their gates."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: PipegenError becomes a clean message and its exit code, never a traceback."""
    args = sys.argv[1:] if argv is None else argv
    # Without argv, main is the program itself (the console script, `python -m pipegen`): it exits next.
    with paused(process_ends=argv is None) if args and args[0] in BOUNDED else contextlib.nullcontext():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        returned = cli.main(args=argv, prog_name="pipegen", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        # pylint: disable-next=import-outside-toplevel  # only on failure: a tenth of generate's imports
        from pipegen import scrub
        exc.message = scrub.clean(exc.message)  # an option's value can be anything, a token included
        exc.show()
        sys.exit(exc.exit_code)
    except PipegenError as exc:
        from pipegen import scrub  # pylint: disable=import-outside-toplevel
        # Located problems are printed bare, so editors and CI annotators can parse file:line:col.
        click.echo(scrub.clean(str(exc) if isinstance(exc, DescriptorError) else f"pipegen: {exc}"), err=True)
        sys.exit(exc.exit_code)
    sys.exit(returned if isinstance(returned, int) else 0)
