"""Services the integration tests talk to, from docker-compose: every service that runs a
published image. A service built from the repository (`build:`) is the application itself or its
test runner, never a CI service (no registry holds its image): what it reads from its environment
is what the tests read, so that environment is carried into tests.env, each compose hostname
rewritten to where the CI runs the service (${<NAME>_HOST}, ${<NAME>_PORT})."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipegen.descriptor.yaml_positions import load_bounded
from pipegen.init.detect.ci_competition import runs_checks
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

    @property
    def prefix(self) -> str:
        return self.name.upper().replace("-", "_")


@dataclass(frozen=True)
class TestEnvironment:
    """What the tests read, from the repository's own files, and what was left out (and why)."""

    env: tuple[tuple[str, str], ...] = ()  # name -> value, service hosts as ${<NAME>_HOST}
    sources: tuple[str, ...] = ()  # where the values came from, for the descriptor's comment
    left_out: tuple[tuple[str, str], ...] = ()  # name -> why it is not in tests.env
    built: tuple[tuple[str, str], ...] = ()  # compose services built from the repository -> build context
    # Built from a folder without Python (a database image with its init script): a service the
    # tests need that no registry holds.
    built_services: tuple[tuple[str, str], ...] = ()


_CONTAINER_ONLY = {"PATH", "PYTHONPATH", "HOME", "PWD", "HOSTNAME", "VIRTUAL_ENV"}
_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}$]*))?\}|\$[A-Za-z_]")


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


def _compose(root: Path) -> tuple[dict, str | None]:
    """(the first compose file's services mapping, that file's name)."""
    for name in COMPOSE_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            data = load_bounded(read_text(path))
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            return {}, name
        services = data.get("services") if isinstance(data, dict) else None
        return (services if isinstance(services, dict) else {}), name
    return {}, None


def compose_services(root: Path) -> tuple[tuple[ServiceFinding, ...], str | None]:
    """(services from the first compose file, that file's name)."""
    services, name = _compose(root)
    if name is None:
        return (), None
    found = []
    for service, spec in services.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("image"), str) or "build" in spec:
            continue
        if "$" in spec["image"] or not _SERVICE_NAME.match(str(service)):
            continue
        ports = tuple(dict.fromkeys(port for entry in spec.get("ports") or spec.get("expose") or ()
                                    if (port := _container_port(entry))))
        found.append(ServiceFinding(str(service), spec["image"], ports, _environment(spec.get("environment"))))
    return tuple(found), name


def _raw_environment(raw) -> dict[str, object]:
    """compose's `environment`, as a mapping (a list of KEY=VALUE, or KEY alone: from the shell)."""
    if isinstance(raw, list):
        return {item.split("=", 1)[0]: (item.split("=", 1)[1] if "=" in item else None)
                for item in raw if isinstance(item, str)}
    return raw if isinstance(raw, dict) else {}


def _interpolated(text: str) -> tuple[str | None, str]:
    """compose's ${VAR:-default} resolved to its default; (None, why) when a value comes from a
    .env file or the shell (nobody commits those: a CI variable then)."""
    def default(match: re.Match) -> str:
        if match.group("op") is None:
            raise LookupError(match.group(0))
        return match.group("default")
    try:
        return _INTERPOLATION.sub(default, text), ""
    except LookupError as missing:
        return None, f"{missing} comes from compose's .env or the shell: set it as a CI variable"


def _host_pattern(host: str) -> re.Pattern:
    # A host is the whole value, or follows `@` or `//` (URLs, DSNs); `/db` at a URL's end is a path.
    return re.compile(rf"(?:(?<=@)|(?<=//)|^){re.escape(host)}(?::(?P<port>\d+))?(?=[/?:,;\s]|$)")


@dataclass(frozen=True)
class Hosts:
    """How the host names in what the tests read map to where pipegen's CI runs each service."""

    services: tuple[ServiceFinding, ...] = ()  # each reached by its compose name
    local: tuple[str, ...] = ()  # localhost names: `localhost:PORT` is the service listening on PORT
    aliases: tuple[tuple[str, ServiceFinding], ...] = ()  # other names a CI file gives a service
    absent: tuple[tuple[str, str], ...] = ()  # host -> why it does not run in pipegen's CI

    def named(self) -> list[tuple[str, ServiceFinding]]:
        return [(service.name, service) for service in self.services] + list(self.aliases)


def rewrite_hosts(value: str, hosts: Hosts) -> str:
    """`value` with each service's host name (or a local one, such as localhost, when followed by the service's
    port) written as where the CI runs it: ${<NAME>_HOST}[:${<NAME>_PORT}]."""
    for host, service in hosts.named():
        def address(match: re.Match, service=service) -> str:
            port = match.group("port")
            if port is None:
                return f"${{{service.prefix}_HOST}}"
            if service.ports and int(port) == service.ports[0]:
                return f"${{{service.prefix}_HOST}}:${{{service.prefix}_PORT}}"
            return f"${{{service.prefix}_HOST}}:{port}"
        value = _host_pattern(host).sub(address, value)
    for service in hosts.services:
        for host in hosts.local:
            for port in service.ports[:1]:
                value = re.sub(rf"(?:(?<=@)|(?<=//)|^){re.escape(host)}:{port}(?=[/?,;\s]|$)",
                               f"${{{service.prefix}_HOST}}:${{{service.prefix}_PORT}}", value)
    return value


def _port_reference(name: str, value: str, services: tuple[ServiceFinding, ...]) -> str:
    """DB_PORT=5432 where one service listens on 5432: that service's port wherever it runs."""
    owners = [service for service in services if service.ports and value == str(service.ports[0])]
    return f"${{{owners[0].prefix}_PORT}}" if name.endswith("PORT") and len(owners) == 1 else value


def _not_carried(name: str, raw) -> str:
    """Why a compose or CI variable cannot be carried as written ('' when it can)."""
    text = str(raw).lower() if isinstance(raw, bool) else str(raw)
    reasons = ((not _ENV_NAME.match(str(name)), "not a variable name the CI platforms all accept"),
               (raw is None, "passed through from the shell that runs compose: set it as a CI variable"),
               ("\n" in text or "\r" in text or "`" in text,
                "spans lines or holds a backquote: set it as a CI variable"),
               (name in _CONTAINER_ONLY or text.startswith("/"), "a path inside the container"))
    return next((why for applies, why in reasons if applies), "")


def carried_value(name: str, raw, hosts: Hosts) -> tuple[str | None, str]:
    """(the value tests.env carries, or None; why not) for one variable the tests read."""
    why = _not_carried(name, raw)
    if why:
        return None, why
    text, why = _interpolated(str(raw).lower() if isinstance(raw, bool) else str(raw))
    if text is None:
        return None, why
    if "$" in text:
        return None, "holds a '$' that is not a service's host or port"
    for other, absent in hosts.absent:
        if _host_pattern(other).search(text):
            return None, f"names {other}, {absent}"
    text = _port_reference(name, rewrite_hosts(text, hosts), hosts.services)
    provided = {f"{service.prefix}_HOST" for service in hosts.services} | \
        {f"{service.prefix}_PORT" for service in hosts.services if service.ports}
    if name in provided:
        return None, "pipegen sets it: where the CI runs the service"
    return text, ""


def _runs_tests(spec: dict) -> bool:
    return runs_checks(" ".join(str(spec.get(key) or "") for key in ("command", "entrypoint")))


def compose_test_environment(root: Path, services: tuple[ServiceFinding, ...]) -> TestEnvironment:
    """The environment of the compose services built from the repository (the application, its
    test runner), as the tests in CI should see it."""
    raw_services, name = _compose(root)
    built = tuple((str(service), str(spec["build"] if isinstance(spec["build"], str) else
                                     spec["build"].get("context", ".") if isinstance(spec["build"], dict) else "."))
                  for service, spec in raw_services.items() if isinstance(spec, dict) and "build" in spec)
    env: dict[str, str] = {}
    left_out: dict[str, str] = {}
    # The test runner's environment first: where it and the application differ, the tests read its.
    runners = [service for service, _ in built if _runs_tests(raw_services[service])]
    python = [service for service, context in built if service in runners or _holds_python(root / context)]
    for service in runners + [service for service in python if service not in runners]:
        for key, raw in _raw_environment(raw_services[service].get("environment")).items():
            if key in env or key in left_out:
                continue
            value, why = carried_value(str(key), raw, _built_absent(services, built))
            if value is None:
                left_out[str(key)] = why
            else:
                env[str(key)] = value
    sources = (f"{name} ({', '.join(python)})",) if env else ()
    return TestEnvironment(tuple(env.items()), sources, tuple(left_out.items()),
                           tuple(pair for pair in built if pair[0] in python),
                           tuple(pair for pair in built if pair[0] not in python))


def _built_absent(services: tuple[ServiceFinding, ...], built: tuple[tuple[str, str], ...]) -> Hosts:
    """The compose services running in CI by their names; those built from the repository run nowhere there."""
    return Hosts(services, absent=tuple((service, "which is built from this repository and does not run in CI")
                                        for service, _ in built))


def _holds_python(folder: Path) -> bool:
    """A build context with Python code or its packaging: the application (or its tests), not a
    database or proxy image built with a script."""
    if not folder.is_dir():
        return True  # unknown: the cautious reading, no service made up for it
    markers = ("pyproject.toml", "setup.py", "requirements.txt", "Pipfile", "manage.py")
    return any((folder / marker).is_file() for marker in markers) or any(folder.glob("*.py")) \
        or any(folder.glob("*/*.py"))
