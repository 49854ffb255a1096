"""Where a gate's thresholds come from, in one place: command-line flags win over the
descriptor's `quality:` section, which wins over the shipped gate profile it names
(`gates/<name>.yaml`, `default` when none is named)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from pipegen.descriptor.model import DESCRIPTOR_NAME, Descriptor
from pipegen.descriptor.yaml_positions import MAX_BYTES, load_located
from pipegen.errors import UsageError, shorten
from pipegen.paths import inside, read_text
from pipegen.records import record
from pipegen.resources import gate_profiles_dir

DEFAULT_PROFILE = "default"


def _number(low: float, high: float) -> Callable[[Any], float]:
    """A converter for a finite number in [low, high] (nan passes every comparison, so it
    is refused by name)."""
    def convert(value: Any) -> float:
        # Written so nan fails: every comparison with nan is false.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise TypeError(f"a finite number in {low:g}..{high:g}")
        return float(value)
    return convert


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError("a whole number >= 0")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError("true or false")
    return value


# What a profile may hold: section -> key -> converter (raises TypeError naming what it wanted).
PROFILE_KEYS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "coverage": {"min": _number(0, 100), "diff_min": _number(0, 100)},
    "pylint": {"min_score": _number(0, 10)},
    "flake8": {"max_issues": _count},
    "ruff": {"max_issues": _count},
    "sonar": {"timeout": _number(1e-3, 86400), "allow_no_gate": _flag},
}
# Settings the descriptor may hold beyond a profile's thresholds.
DESCRIPTOR_ONLY_KEYS: dict[str, tuple[str, ...]] = {"coverage": ("compare_branch",)}


def shipped_profiles() -> list[str]:
    """Names of the profiles shipped in gates/*.yaml."""
    return sorted(path.stem for path in gate_profiles_dir().glob("*.yaml"))


def is_profile_path(name: str) -> bool:
    """A profile named by a file in the repository (./gates/team.yaml) rather than a shipped name."""
    return name.endswith((".yaml", ".yml"))


def load_profile(name: str, base: Path | None = None) -> dict[str, dict[str, Any]]:
    """The profile's thresholds, checked; an unknown name is a usage error (exit 2). A name
    ending in .yaml is a file, relative to `base` (the descriptor's folder) or the cwd."""
    if is_profile_path(name):
        path = (base or Path.cwd()) / name
        try:
            # In the repository only (no symlink out of it), no FIFO, UTF-8.
            text = read_text(inside(base or Path.cwd(), name), limit=MAX_BYTES)
        except UsageError as exc:
            raise UsageError(f"gate profile file {path} cannot be read: {exc}") from None
    else:
        path = gate_profiles_dir() / f"{name}.yaml"
        if "/" in name or "\\" in name or not path.is_file():
            raise UsageError(f"unknown gate profile {name!r}; shipped profiles: {', '.join(shipped_profiles())}, "
                             "or the path of a profile file ending in .yaml")
        text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    # Read under the descriptor's limits: a profile file is repository content too.
    located, problems = load_located(text, str(path))
    if located is None:
        raise UsageError(f"gate profile {shorten(name)!r} is not valid YAML: {problems[0]}")
    return _checked_profile(name, located.data if located.data is not None else {})


def _checked_profile(name: str, data: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(data, dict):
        raise UsageError(f"gate profile {name!r} must be a mapping of {', '.join(PROFILE_KEYS)}")
    checked: dict[str, dict[str, Any]] = {}
    for section, values in data.items():
        if section not in PROFILE_KEYS:
            raise UsageError(f"gate profile {name!r}: unknown section {section!r} (allowed: {', '.join(PROFILE_KEYS)})")
        if not isinstance(values, dict):
            raise UsageError(f"gate profile {name!r}: {section} must be a mapping")
        checked[section] = {}
        for key, value in values.items():
            convert = PROFILE_KEYS[section].get(key)
            if convert is None:
                raise UsageError(f"gate profile {name!r}: unknown key {section}.{key}")
            try:
                checked[section][key] = convert(value)
            except TypeError as exc:
                raise UsageError(f"gate profile {name!r}: {section}.{key} must be {exc}") from None
    return checked


@record
class Thresholds:
    """One gate's resolved settings, and where each came from (shown to the user, so a
    surprising threshold can be traced to the flag, descriptor or profile that set it)."""

    section: str
    profile: str
    values: dict[str, Any]
    sources: dict[str, str]

    def get(self, key: str, default: Any = None) -> Any:
        """The resolved value of `key`, or `default` when no layer sets it."""
        return self.values.get(key, default)

    def note(self) -> str:
        """One line for the result's notes: each value and where it came from."""
        parts = [f"{key}={_show(self.values[key])} ({self.sources[key]})" for key in sorted(self.values)]
        return f"thresholds: {', '.join(parts) or 'none'}; profile {self.profile}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def find_descriptor(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """--descriptor when given (it must exist), else ./pipegen.yaml when present."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"descriptor {explicit} does not exist")
        return explicit
    candidate = (cwd or Path.cwd()) / DESCRIPTOR_NAME
    return candidate if candidate.is_file() else None


def read_descriptor(explicit: Path | None) -> Descriptor | None:
    """The descriptor the thresholds come from, if any (a bad one is exit 2)."""
    path = find_descriptor(explicit)
    if path is None:
        return None
    from pipegen.descriptor import load_descriptor  # pylint: disable=import-outside-toplevel

    return load_descriptor(path)


def _descriptor_values(descriptor: Descriptor | None, section: str) -> dict[str, Any]:
    """The keys of `quality.<section>` the descriptor sets. When positions are known (a
    loaded file) only keys written in the file count, so a model default such as
    sonar.timeout=300 does not hide the profile's value."""
    if descriptor is None:
        return {}
    settings = getattr(descriptor.quality, section, None)
    if settings is None:
        return {}
    written = descriptor.positions
    values = {}
    for key in (*PROFILE_KEYS[section], *DESCRIPTOR_ONLY_KEYS.get(section, ())):
        value = getattr(settings, key, None)
        if value is None:
            continue
        if written and ("quality", section, key) not in written:
            continue
        values[key] = value
    return values


LINT_SECTIONS = ("pylint", "flake8", "ruff")


def resolve(section: str, flags: Mapping[str, Any], descriptor: Descriptor | None = None,
            profile: str | None = None, ratchet: bool = False) -> Thresholds:
    """flags > descriptor `quality.<section>` > profile (flag --profile, else the
    descriptor's `quality.profile`, else `default`). A flag set to None was not given."""
    profile_name = profile or (descriptor.quality.profile if descriptor is not None else None) or DEFAULT_PROFILE
    if descriptor is not None and section in descriptor.quality.off:
        # `quality.<section>: null` switches the check off; only an explicit flag turns it back on.
        given = {key: value for key, value in flags.items() if value is not None}
        return Thresholds(section=section, profile=profile_name, values=given,
                          sources={key: "flag" for key in given})
    layers = [
        ("flag", {key: value for key, value in flags.items() if value is not None}),
        (descriptor.path.name if descriptor is not None else DESCRIPTOR_NAME, _descriptor_values(descriptor, section)),
    ]
    # A lint ratchet replaces the profile's absolute lint bars (an existing code base would
    # fail them on day one); only thresholds written in the descriptor or flags still apply.
    # `ratchet`: the command line asked for one (--changed-lines, --baseline).
    in_descriptor = descriptor is not None and bool(descriptor.quality.lint.ratchet)
    ratchet = section in LINT_SECTIONS and (ratchet or in_descriptor)
    if not ratchet or profile:
        layers.append((f"profile {profile_name}", load_profile(profile_name, descriptor.path.parent
                                                               if descriptor is not None else None).get(section, {})))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for key, value in layer.items():
            if key not in values:
                values[key] = value
                sources[key] = source
    return Thresholds(section=section, profile=profile_name, values=values, sources=sources)
