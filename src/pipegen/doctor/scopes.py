"""What each platform's doctor needs from the user, as text for `pipegen doctor --help` and the
platform modules alike (importing this loads no HTTP library)."""
from __future__ import annotations

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

LOCATIONS = {
    "github": "--api-url or GITHUB_API_URL (default https://api.github.com); --project OWNER/REPO or GITHUB_REPOSITORY",
    "gitlab": "--api-url or CI_API_V4_URL (default https://gitlab.com/api/v4); --project the project's id or "
              "path, or CI_PROJECT_ID",
    "azure": "--api-url the organization URL (https://dev.azure.com/ORG) or SYSTEM_COLLECTIONURI; --project "
             "PROJECT/PIPELINE, or SYSTEM_TEAMPROJECT and BUILD_DEFINITIONNAME",
    "jenkins": "--api-url the Jenkins URL or JENKINS_URL; --project the multibranch job's path (folder/name), "
               "or JOB_NAME's parent in a branch build",
}
