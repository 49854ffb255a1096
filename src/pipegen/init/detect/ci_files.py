"""CI files already in the repository, per platform, and which of them pipegen did not write.
A pipeline pipegen did not write that runs on the same events and does the same work as the one
pipegen writes would run on every push too (pipegen.init.detect.ci_competition decides): init says
what to do with it and `generate` refuses to write beside it. The others are listed as kept."""
from __future__ import annotations

from pathlib import Path

from pipegen.init.detect.ci_competition import (
    ExistingPipeline,
    Mainline,
    azure_pipeline,
    github_workflow,
    jenkins_candidates,
    jenkins_file,
)
from pipegen.project_files import read_text

# Where `pipegen generate` writes, per platform.
GENERATED = {"github": ".github/workflows/pipegen.yml", "gitlab": ".gitlab-ci.yml",
             "azure": "azure-pipelines.yml", "jenkins": "Jenkinsfile"}
# Further places each platform reads pipelines from (Azure: any YAML the project points a pipeline at;
# these are the usual folders).
_FOLDERS = {"github": (".github/workflows",), "azure": ("azure-pipelines", ".azure-pipelines", ".azuredevops")}
# CI systems pipegen does not generate for: reported, so the team can retire them.
OTHER_CI = (".travis.yml", ".circleci/config.yml", "bitbucket-pipelines.yml", ".drone.yml", "appveyor.yml",
            "cloudbuild.yaml", "buildspec.yml")


def ci_files(root: Path) -> dict[str, tuple[str, ...]]:
    """platform -> CI files present (relative paths), including pipegen's own."""
    found: dict[str, tuple[str, ...]] = {}
    for target, generated in GENERATED.items():
        paths = [generated] if (root / generated).is_file() else []
        for folder in _FOLDERS.get(target, ()):
            if (root / folder).is_dir():
                paths += [f"{folder}/{path.name}" for path in sorted((root / folder).iterdir())
                          if path.is_file() and path.suffix in (".yml", ".yaml")]
        if target == "jenkins":
            paths += jenkins_candidates(root)
        if paths:
            found[target] = tuple(dict.fromkeys(paths))
    return found


def written_by_pipegen(path: Path) -> bool:
    # pylint: disable-next=import-outside-toplevel  # render is light; kept out of init's import path
    from pipegen.generate.render import split_generated
    # Read only inside the repository and never from a FIFO (read_text gives "" then).
    return split_generated(read_text(path))[0] is not None


def existing_pipelines(root: Path, target: str, mainline: Mainline = Mainline()) -> tuple[ExistingPipeline, ...]:
    """The platform's CI files pipegen did not write, besides the file it writes itself (that
    one is protected by `generate`'s own refusal to overwrite), each competing or kept."""
    found = []
    for path in ci_files(root).get(target, ()):
        if path == GENERATED[target] or written_by_pipegen(root / path):
            continue
        if target == "github":
            found.append(github_workflow(root, path, mainline))
        elif target == "azure":
            found.append(azure_pipeline(root, path, mainline))
        else:
            found.append(jenkins_file(root, path))
    return tuple(found)


def foreign_files(root: Path, target: str, mainline: Mainline = Mainline()) -> tuple[ExistingPipeline, ...]:
    """The platform's pipelines pipegen did not write that compete with the one it writes."""
    return tuple(pipeline for pipeline in existing_pipelines(root, target, mainline) if pipeline.competes)


def other_ci(root: Path) -> tuple[str, ...]:
    return tuple(path for path in OTHER_CI if (root / path).is_file())
