"""Services the integration tests talk to, from docker-compose: every service that runs a
published image (a service that is built from the repository is the application itself)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.project_files import read_text

COMPOSE_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True)
class ServiceFinding:
    name: str
    image: str
    ports: tuple[int, ...]
    env: tuple[tuple[str, str], ...]


def _container_port(entry) -> int | None:
    """'5432', '5432:5432', '127.0.0.1:15432:5432/tcp' or {target: 5432}: the container's port."""
    if isinstance(entry, dict):
        entry = entry.get("target")
    text = str(entry).split("/")[0].rsplit(":", 1)[-1]
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _environment(raw) -> tuple[tuple[str, str], ...]:
    pairs = {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw if isinstance(item, str) and "=" in item)
    if isinstance(raw, dict):
        for key, value in raw.items():
            text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
            # ${VAR} interpolation is compose's, from a .env nobody commits: leave it to the checklist.
            if _ENV_NAME.match(str(key)) and "$" not in text and "\n" not in text and value is not None:
                pairs[str(key)] = text
    return tuple(sorted(pairs.items()))


def compose_services(root: Path) -> tuple[tuple[ServiceFinding, ...], str | None]:
    """(services from the first compose file, that file's name)."""
    for name in COMPOSE_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = load_bounded(read_text(path))
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            return (), name
        services = data.get("services") if isinstance(data, dict) else None
        found = []
        for service, spec in (services or {}).items() if isinstance(services, dict) else ():
            if not isinstance(spec, dict) or not isinstance(spec.get("image"), str) or "build" in spec:
                continue
            if "$" in spec["image"] or not _SERVICE_NAME.match(str(service)):
                continue
            ports = tuple(dict.fromkeys(port for entry in spec.get("ports") or spec.get("expose") or ()
                                        if (port := _container_port(entry))))
            found.append(ServiceFinding(str(service), spec["image"], ports, _environment(spec.get("environment"))))
        return tuple(found), name
    return (), None
