"""GitLab CI's short-lived cloud credentials: an `id_tokens:` entry on the jobs that log in
(pipegen.plan.identity), and a first script entry that hands the token to the cloud's SDKs and CLI
the way each documents for workload identity federation (a token file the SDK reads itself)."""
from __future__ import annotations

import json
from shlex import quote

from pipegen.descriptor.model import CloudIdentity

TOKEN_VARIABLE = "PIPEGEN_OIDC_TOKEN"
_TOKEN_FILE = 'token_file="$(mktemp)"\nprintf \'%s\' "$' + TOKEN_VARIABLE + '" > "$token_file"'


def _gcp_credentials(identity: CloudIdentity) -> str:
    """Google's external-account credential configuration: the STS exchange of the token file,
    then impersonation of the service account (what `gcloud iam workload-identity-pools
    create-cred-config` writes)."""
    return json.dumps({
        "type": "external_account", "audience": f"//iam.googleapis.com/{identity.workload_identity_provider}",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"
                                             f"{identity.service_account}:generateAccessToken",
        "credential_source": {"file": "TOKEN_FILE"}}, sort_keys=True)


def login_script(identity: CloudIdentity) -> str:
    """Shell run first in the job: the cloud's SDK environment pointing at the token file."""
    if identity.cloud == "aws":
        return "\n".join([_TOKEN_FILE, f"export AWS_ROLE_ARN={quote(identity.role_arn or '')} "
                          f"AWS_REGION={quote(identity.region or '')} "
                          'AWS_WEB_IDENTITY_TOKEN_FILE="$token_file" AWS_ROLE_SESSION_NAME="gitlab-$CI_JOB_ID"'])
    if identity.cloud == "azure":
        lines = [_TOKEN_FILE, f"export AZURE_CLIENT_ID={quote(identity.client_id or '')} "
                 f"AZURE_TENANT_ID={quote(identity.tenant_id or '')} "
                 'AZURE_FEDERATED_TOKEN_FILE="$token_file"',
                 "if command -v az >/dev/null 2>&1; then",
                 '  az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" '
                 f'--federated-token "${TOKEN_VARIABLE}" --output none']
        if identity.subscription_id:
            lines.append(f"  az account set --subscription {quote(identity.subscription_id)}")
        return "\n".join([*lines, "fi"])
    config = _gcp_credentials(identity)
    return "\n".join([_TOKEN_FILE, 'credentials="$(mktemp)"',
                      f'printf \'%s\' {quote(config)} | sed "s|TOKEN_FILE|$token_file|" > "$credentials"',
                      'export GOOGLE_APPLICATION_CREDENTIALS="$credentials" '
                      'CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE="$credentials"'])
