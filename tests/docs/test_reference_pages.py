"""The reference pages cannot drift from the code: the CLI reference documents every command, the
commands page links every command to a page, the platform-differences table is the data the parity
check allows, a file shown in full is the file, and the site's nav lists every page."""
from __future__ import annotations

import re

import click
import yaml

from console_examples import ROOT, documentation_files
from pipegen.cli import cli
from pipegen.platforms.differences import markdown_table

DOCS = ROOT / "docs"
_CLICK_BLOCK = re.compile(r"^::: mkdocs-click\n((?:    :\w+: .*\n)+)", re.MULTILINE)
_COPY = re.compile(r"^<!-- copy-of: (\S+) -->\n```\w*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_COMMAND_ROW = re.compile(r"^\| `(pipegen [a-z -]+)` \|(.*)$", re.MULTILINE)
_LINK = re.compile(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)")


def leaf_commands() -> dict[str, click.Command]:
    """'pipegen gate coverage' -> its command, for every command that runs (not the groups)."""
    found: dict[str, click.Command] = {}
    pending = [("pipegen", cli)]
    context = click.Context(cli, info_name="pipegen")
    while pending:
        path, command = pending.pop()
        if isinstance(command, click.Group):
            pending += [(f"{path} {name}", command.get_command(context, name))
                        for name in command.list_commands(context)]
        else:
            found[path] = command
    return found


def test_the_cli_reference_documents_every_command():
    blocks = {}
    for match in _CLICK_BLOCK.finditer((DOCS / "cli.md").read_text(encoding="utf-8")):
        options = dict(re.findall(r"^    :(\w+): (.*)$", match.group(1), re.MULTILINE))
        module = __import__(options["module"], fromlist=[options["command"]])
        blocks[options["prog_name"]] = getattr(module, options["command"])
    commands = leaf_commands()
    assert set(blocks) == set(commands)
    assert all(blocks[name] is commands[name] for name in commands)  # each block documents its own command


def test_the_commands_page_sends_every_command_to_a_page_and_its_options():
    rows = dict(_COMMAND_ROW.findall((DOCS / "commands.md").read_text(encoding="utf-8")))
    assert set(rows) == set(leaf_commands())
    for command, row in rows.items():
        pages = _LINK.findall(row)
        assert pages and all((DOCS / page).is_file() for page in pages), command
        assert f"(cli.md#{command.replace(' ', '-')})" in row, command


def test_the_platform_differences_table_is_the_data_the_parity_check_allows():
    page = (DOCS / "platforms.md").read_text(encoding="utf-8")
    start = page.index("<!-- platform-differences:start -->\n") + len("<!-- platform-differences:start -->\n")
    end = page.index("<!-- platform-differences:end -->")
    assert page[start:end] == markdown_table()


def test_a_file_shown_in_full_is_the_file():
    shown = [(path, match) for path in documentation_files()
             for match in _COPY.finditer(path.read_text(encoding="utf-8"))]
    assert shown  # the reference descriptor, at least
    for path, match in shown:
        assert match.group(2) == (ROOT / match.group(1)).read_text(encoding="utf-8"), (path.name, match.group(1))


def test_the_nav_lists_every_page_and_only_pages_that_exist():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(items) -> list[str]:
        found = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            found += pages(value) if isinstance(value, list) else [value]
        return found
    listed = pages(config["nav"])
    assert sorted(listed) == sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))


def test_the_readme_links_only_to_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme)
    assert targets and all((ROOT / target).exists() for target in targets), targets
