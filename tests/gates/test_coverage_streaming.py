"""The changed-lines check streams the report and keeps only the changed files' classes;
its figures are the same as diff-cover's on the whole report (the way the gate read it
before), for a real coverage.py report and variants of its shape."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipegen.gates.compare_branch import find_base
from pipegen.gates.coverage import ChangedLines, changed_lines

from .test_coverage import CALLS_EVERYTHING


def whole_report_figures(report: Path, compare_branch: str) -> ChangedLines:
    """The reference: diff-cover's library on the fully parsed report."""
    # pylint: disable=import-outside-toplevel
    from diff_cover.diff_reporter import GitDiffReporter
    from diff_cover.git_diff import GitDiffTool
    from diff_cover.git_path import GitPathTool
    from diff_cover.report_generator import JsonReportGenerator
    from diff_cover.violationsreporters.violations_reporter import XmlCoverageReporter

    GitPathTool.set_cwd(os.getcwd())
    diff = GitDiffReporter(compare_branch, git_diff=GitDiffTool("...", ignore_whitespace=False))
    generator = JsonReportGenerator(XmlCoverageReporter([ET.parse(report).getroot()]), diff)
    uncovered = {path: lines for path in generator.src_paths() if (lines := generator.violation_lines(path))}
    return ChangedLines(measured=generator.total_num_lines(), uncovered=uncovered)


def _other_class(filename: str, lines: int = 30) -> ET.Element:
    element = ET.Element("class", {"name": filename.rsplit("/", 1)[-1], "filename": filename})
    rows = ET.SubElement(element, "lines")
    for number in range(1, lines + 1):
        ET.SubElement(rows, "line", {"number": str(number), "hits": str(number % 2)})
    return element


def _variants(root: ET.Element, project_root: Path) -> dict[str, ET.Element]:
    """Shapes other tools (or other coverage.py settings) write."""
    source = root.find("sources/source").text
    real = root.find(".//class")
    variants = {"as written by coverage.py": root}

    padded = copy.deepcopy(root)
    classes = padded.find(".//classes")
    for index in range(300):  # other files, same-named files in other folders before and after
        classes.insert(0, _other_class(f"pkg{index}/mod.py"))
        classes.append(_other_class(f"sub{index}/{real.get('filename')}"))
    variants["padded with other and same-named files"] = padded

    relative = copy.deepcopy(root)
    relative.find(".//class").set("filename", "./" + real.get("filename"))
    variants["./ relative file name"] = relative

    absolute = copy.deepcopy(root)
    absolute.remove(absolute.find("sources"))
    absolute.find(".//class").set("filename", os.path.join(source, real.get("filename")))
    variants["absolute file name, no sources"] = absolute

    repo_relative = copy.deepcopy(root)
    repo_relative.remove(repo_relative.find("sources"))
    repo_relative.find(".//class").set("filename", os.path.relpath(os.path.join(source, real.get("filename")),
                                                                   project_root))
    variants["repository-relative name, no sources"] = repo_relative

    split = copy.deepcopy(root)
    first = split.find(".//class")
    second = copy.deepcopy(first)
    lines_one, lines_two = first.find("lines"), second.find("lines")
    for line in list(lines_one)[::2]:
        lines_one.remove(line)
    for line in list(lines_two)[1::2]:
        lines_two.remove(line)
    split.find(".//classes").append(second)
    variants["one file in two classes"] = split

    sources_last = copy.deepcopy(root)
    sources = sources_last.find("sources")
    sources_last.remove(sources)
    sources_last.append(sources)
    variants["sources after packages"] = sources_last
    return variants


@pytest.mark.parametrize("shape", ["as written by coverage.py", "padded with other and same-named files",
                                   "./ relative file name", "absolute file name, no sources",
                                   "repository-relative name, no sources", "one file in two classes",
                                   "sources after packages"])
@pytest.mark.parametrize("driver", [CALLS_EVERYTHING, "import calc\ncalc.add(1, 2)\n"],
                         ids=["covered", "partly covered"])
def test_streamed_figures_equal_whole_report_figures(project_factory, shape: str, driver: str) -> None:
    project = project_factory(driver=driver)
    root = _variants(ET.parse(project.coverage_xml).getroot(), project.root)[shape]
    report = project.root / "variant.xml"
    ET.ElementTree(root).write(report, encoding="utf-8", xml_declaration=True)
    expected = whole_report_figures(report, "origin/main")
    assert expected.measured > 0
    assert changed_lines(report, find_base("origin/main")) == expected


def test_a_clover_shaped_report_gets_the_same_figures(project_factory) -> None:
    project = project_factory(driver="import calc\ncalc.add(1, 2)\n")
    source = ET.parse(project.coverage_xml).getroot()
    real = source.find(".//class")
    clover = ET.Element("coverage", {"clover": "4.4.1", "generated": "1", "line-rate": "0.5"})
    project_element = ET.SubElement(clover, "project")
    file_element = ET.SubElement(project_element, "file", {
        "name": real.get("filename"), "path": os.path.join(source.find("sources/source").text, real.get("filename"))})
    for line in real.iter("line"):
        ET.SubElement(file_element, "line", {"num": line.get("number"), "count": line.get("hits"), "type": "stmt"})
    report = project.root / "clover.xml"
    ET.ElementTree(clover).write(report, encoding="utf-8", xml_declaration=True)
    assert changed_lines(report, find_base("origin/main")) == whole_report_figures(report, "origin/main")
