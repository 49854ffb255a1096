"""What each platform's doctor needs from the user, as text for `pipegen doctor --help` and the
platform modules alike (importing this loads no HTTP library)."""
from __future__ import annotations

from typing import NamedTuple

# The name of the variable --token-env chose (the CI secret settings.doctor names). A name, not a
# secret: this variable's own name does not look secret to the scrubber, so the name is never masked.
TOKEN_FROM = "PIPEGEN_DOCTOR_AUTH_FROM"

TOKENS = {
    "github": "GITHUB_TOKEN (or GH_TOKEN): a fine-grained token with the repository permissions Secrets, "
              "Variables, Actions and Administration: read (a classic token: repo)",
    "gitlab": "GITLAB_TOKEN: a personal, project or group access token with the read_api scope, of a user "
              "with the Maintainer role on the project",
    "azure": "AZURE_DEVOPS_EXT_PAT: a personal access token with the scopes Build (Read) and Environment "
             "(Read & manage)",
    "jenkins": "JENKINS_USER and JENKINS_API_TOKEN: a user and its API token with Overall/Read, Job/Read on the "
               "multibranch job and Credentials/View",
}


class Place(NamedTuple):
    """Where a platform's API is and what is checked there, when no option says so."""

    url_env: tuple[str, ...]  # variables naming the API's base URL, first set wins (the CI's own)
    default_url: str | None
    project_help: str  # what --project names
    project_env: str  # the CI's variables that name it
    url_help: str = ""  # what the URL is, when there is no default


PLACES = {
    "github": Place(("GITHUB_API_URL",), "https://api.github.com", "OWNER/REPO", "GITHUB_REPOSITORY"),
    "gitlab": Place(("CI_API_V4_URL",), "https://gitlab.com/api/v4", "the project's id or path (group/project)",
                    "CI_PROJECT_ID or CI_PROJECT_PATH"),
    "azure": Place(("SYSTEM_COLLECTIONURI",), None,
                   "PROJECT/PIPELINE (the Azure DevOps project and the pipeline's name)",
                   "SYSTEM_TEAMPROJECT and BUILD_DEFINITIONNAME", "the organization URL, https://dev.azure.com/ORG"),
    "jenkins": Place(("JENKINS_URL",), None, "the multibranch job's path (folder/name)",
                     "JOB_NAME's parent in a branch build", "the Jenkins URL"),
}

LOCATIONS = {target: f"--api-url or {' or '.join(place.url_env)}"
             + (f" (default {place.default_url})" if place.default_url else f" ({place.url_help})")
             + f"; --project {place.project_help}, or {place.project_env}"
             for target, place in PLACES.items()}
