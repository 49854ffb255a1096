"""Thresholds in one place: flags > descriptor > the shipped profile it names."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipegen.descriptor import load_descriptor
from pipegen.descriptor.model import CoverageThresholds, Descriptor, Project, PylintThresholds, Quality
from pipegen.errors import UsageError
from pipegen.gates import profiles

from .conftest import run_gate


def descriptor(quality: Quality) -> Descriptor:
    return Descriptor(path=Path("pipegen.yaml"), project=Project(name="demo"), targets=("github",), quality=quality)


def test_shipped_profiles_are_valid_and_default_has_the_documented_values() -> None:
    assert {"default", "strict", "legacy"} <= set(profiles.shipped_profiles())
    for name in profiles.shipped_profiles():
        assert set(profiles.load_profile(name)) == set(profiles.PROFILE_KEYS)
    assert profiles.load_profile("default") == {
        "coverage": {"min": 80, "diff_min": 80}, "pylint": {"min_score": 8.0}, "flake8": {"max_issues": 0},
        "ruff": {"max_issues": 0},
        "sonar": {"timeout": 300, "allow_no_gate": False}}


def test_strict_is_stricter_than_default() -> None:
    default, strict = profiles.load_profile("default"), profiles.load_profile("strict")
    assert strict["coverage"]["min"] > default["coverage"]["min"]
    assert strict["pylint"]["min_score"] > default["pylint"]["min_score"]


def test_flag_beats_descriptor_beats_profile() -> None:
    quality = Quality(profile="strict", coverage=CoverageThresholds(min=70, diff_min=None))
    resolved = profiles.resolve("coverage", {"min": None, "diff_min": None}, descriptor(quality))
    assert (resolved.get("min"), resolved.sources["min"]) == (70, "pipegen.yaml")
    assert (resolved.get("diff_min"), resolved.sources["diff_min"]) == (95, "profile strict")
    flagged = profiles.resolve("coverage", {"min": 85.0}, descriptor(quality))
    assert (flagged.get("min"), flagged.sources["min"]) == (85.0, "flag")
    assert "min=85 (flag)" in flagged.note()


def test_profile_flag_beats_the_descriptors_profile() -> None:
    quality = Quality(profile="strict", pylint=PylintThresholds(min_score=None))
    assert profiles.resolve("pylint", {}, descriptor(quality), profile="legacy").get("min_score") == 6.0


def test_no_descriptor_means_the_default_profile() -> None:
    resolved = profiles.resolve("flake8", {})
    assert (resolved.profile, resolved.get("max_issues")) == ("default", 0)


def test_unknown_profile_is_a_usage_error_listing_the_shipped_ones() -> None:
    with pytest.raises(UsageError, match="unknown gate profile 'gold'; shipped profiles: default, legacy, strict"):
        profiles.load_profile("gold")


def test_unknown_profile_exits_2_from_the_cli(tmp_path: Path) -> None:
    result = run_gate("lint", "--flake8-report", "x.txt", "--profile", "gold")
    assert result.exit_code == 2
    assert "shipped profiles: default" in result.output


def test_through_load_descriptor_only_written_keys_override_the_profile(tmp_path: Path) -> None:
    """sonar.timeout has a model default of 300; unwritten, the profile's 600 applies."""
    path = tmp_path / "pipegen.yaml"
    path.write_text("version: 1\nproject: {name: demo}\ntargets: [github]\ntests: {unit: tests}\n"
                    "quality:\n  profile: legacy\n  coverage: {min: 65}\n  sonar: {project_key: demo}\n",
                    encoding="utf-8")
    loaded = load_descriptor(path)
    assert profiles.resolve("coverage", {}, loaded).values == {"min": 65, "diff_min": 80}
    sonar = profiles.resolve("sonar", {}, loaded)
    assert (sonar.get("timeout"), sonar.sources["timeout"]) == (600, "profile legacy")


def test_descriptor_is_found_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "pipegen.yaml").write_text(
        "version: 1\nproject: {name: demo}\ntargets: [github]\ntests: {unit: tests}\n"
        "quality: {flake8: {max_issues: 3}}\n", encoding="utf-8")
    (tmp_path / "flake8.txt").write_text("a.py:1:1: E501 line too long\n" * 3, encoding="utf-8")
    result = run_gate("lint", "--flake8-report", "flake8.txt")
    assert result.exit_code == 0, result.output
    assert "max_issues=3 (pipegen.yaml)" in result.output


def test_a_bad_descriptor_is_exit_2_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("version: 1\nproject: {name: demo}\ntargets: [github]\n"
                                       "quality: {flake8: {max_issues: -1}}\n", encoding="utf-8")
    result = run_gate("lint", "--flake8-report", "x.txt", "--descriptor", "bad.yaml")
    assert result.exit_code == 2
    assert "bad.yaml:4:" in result.output
