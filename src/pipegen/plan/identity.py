"""Short-lived cloud credentials: which jobs log in to a cloud through the CI's OIDC token.

An environment's `identity` goes on that environment's deploy jobs (every job its deploy
command or kinds bring), the image's `identity` on the build job, which then logs in to the
registry with it instead of `username_secret`/`password_secret`. How a job obtains the token and
exchanges it is each platform's (GitHub's official login actions, GitLab `id_tokens:`, an Azure
DevOps workload-identity service connection); the plan only says who logs in as whom. The
token never appears in a script: the platform's step or the cloud's SDK reads it from a file.
"""
from __future__ import annotations

from pipegen.descriptor.model import CloudIdentity
from pipegen.plan.model import Job
from pipegen.records import replace

# The command-line tool each cloud's registry login below uses (the runner provides it).
CLOUD_CLI = {"azure": "az", "aws": "aws", "gcp": "gcloud"}


def registry_login(identity: CloudIdentity, registry_var: str) -> str:
    """`docker login` to the image registry with the identity's short-lived token: Azure
    Container Registry, Amazon ECR, Google Artifact Registry (the job is already logged in)."""
    registry = f'"${registry_var}"'
    if identity.cloud == "azure":
        # ACR's name is the first label of its login server (myregistry.azurecr.io).
        return f'az acr login --name "${{{registry_var}%%.*}}"'
    if identity.cloud == "aws":
        return (f"aws ecr get-login-password --region {identity.region} | "
                f"docker login --username AWS --password-stdin {registry}")
    return ("gcloud auth print-access-token | docker login --username oauth2accesstoken --password-stdin "
            f'"https://${{{registry_var}%%/*}}"')


def with_identity(job: Job, identity: CloudIdentity | None) -> Job:
    """The job logs in as `identity`; the runner needs the cloud's CLI for what the job runs."""
    if identity is None:
        return job
    return replace(job, identity=identity,
                   runner_tools=tuple(dict.fromkeys((*job.runner_tools, CLOUD_CLI[identity.cloud]))))
