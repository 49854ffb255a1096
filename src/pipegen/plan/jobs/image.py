"""The image's jobs: built once, then deployed by digest to each environment (the deploy kinds,
`pipegen.plan.deploy`). An image that serves the model is built for the candidate version and
recorded on it; PROD deploys the image recorded on the champion, after promotion."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.identity import registry_login, with_identity
from pipegen.plan.jobs.common import (
    env_items,
    output_env,
    pipegen_for,
    project_environment,
    quote,
    report_path,
    secret_env,
    variable_env,
)
from pipegen.plan.jobs.model import model_registry_env
from pipegen.plan.model import Job, RunWhen, Step
from pipegen.syntax import shell_command

SERVING_IMAGE_REF = "SERVING_IMAGE_REF"
SBOM_PATH = report_path("sbom/python-environment.cdx.json")
IMAGE_SBOM_PATH = report_path("sbom/image.cdx.json")
_BUILD_INSTALL_NOTE = ("The project's runtime requirements, whose environment the first SBOM records (cyclonedx-py); "
                       "pipegen with {tools} (syft reads the built image for the second). Docker builds the image.")
_TOOLS = "the SBOM tools, for `pipegen sbom` and `pipegen output set`"
_SERVING_TOOLS = ("MLflow and the SBOM tools, for `pipegen model record-image`, `pipegen sbom` and "
                  "`pipegen output set`")


def _image_sbom_lines() -> list[str]:
    """What the pushed image contains (OS packages too), read by syft from the image Docker holds:
    `docker save` is what syft's own Docker source does through the daemon's API, here through the
    docker CLI the job already uses (on GitLab's dind service too). Named by its digest; an invalid
    SBOM fails the job before IMAGE_REF is published."""
    return [
        "# What the image contains (OS packages, Python distributions), by syft; named by the digest pushed.",
        'saved="$(mktemp -d)"',
        "trap 'rm -rf \"$saved\"' EXIT  # the saved image, also when a later line fails",
        'docker save --output "$saved/image.tar" "$image"',
        shell_command('pipegen sbom image "docker-archive:$saved/image.tar"', '--image-ref "$digest"',
                      f"--output {quote(IMAGE_SBOM_PATH)}"),
    ]


def build_job(descriptor: Descriptor) -> Job | None:
    image = descriptor.image
    if image is None:
        return None
    # Built once, in the first stage that deploys it, and promoted from there by digest.
    test_env = descriptor.environment("test")
    stage = "test" if test_env is not None and test_env.deploys else "qa"
    serving = image.serves_model and descriptor.model is not None and stage == "qa"
    ref = f'"${image.registry_var}/{image.name}:$(git rev-parse --short=12 HEAD)"'
    login = []
    if image.identity is not None:
        login = ["# A short-lived token of the image's cloud identity logs in: no stored registry password.",
                 registry_login(image.identity, image.registry_var)]
    elif image.username_secret and image.password_secret:
        login = [f'printf \'%s\' "${image.password_secret}" | docker login "${image.registry_var}" '
                 f'--username "${image.username_secret}" --password-stdin']
    build_arg = ' --build-arg MODEL_VERSION="$MODEL_VERSION"' if serving else ""
    lines = [
        *login,
        f"image={ref}",
        f'docker build --file {quote(image.dockerfile)}{build_arg} --tag "$image" {quote(image.context)}',
        'docker push "$image"',
        "# The digest, not the tag, is what QA and PROD deploy: the same bytes everywhere.",
        "digest=\"$(docker inspect --format '{{index .RepoDigests 0}}' \"$image\")\"",
        *_image_sbom_lines(),
        'pipegen output set IMAGE_REF "$digest"',
    ]
    env = {**variable_env([image.registry_var]), **secret_env(image.all_secrets)}
    secrets = image.all_secrets
    if serving:
        model = descriptor.model
        lines += ["# The model version this image serves keeps its digest: PROD deploys the champion's image.",
                  shell_command("pipegen model record-image", f"--model-name {quote(model.name)}",
                                '--version "$MODEL_VERSION"', '--image-ref "$digest"')]
        env.update({**model_registry_env(descriptor), **output_env("MODEL_VERSION", "train")})
        secrets = tuple(dict.fromkeys((*secrets, *model.secrets)))
    # Before the build: an invalid SBOM stops the job before anything is pushed. It reads no secret.
    sbom = Step("Record the Python environment's SBOM (CycloneDX)",
                shell_command("pipegen sbom environment", f"--output {quote(SBOM_PATH)}"), reads=())
    job = Job(
        id="build", title="Build the image once", stage=stage,
        comment=f"Builds and pushes the image once; {'TEST, ' if stage == 'test' else ''}QA and PROD deploy "
                "this exact digest (IMAGE_REF)."
                + (" It serves the candidate model (build argument MODEL_VERSION) and is recorded on that "
                   "version, so PROD deploys the image of the version promotion made champion." if serving else ""),
        steps=(sbom, Step("Build, push, record what the image contains, publish the digest", "\n".join(lines),
                          id="image")), outputs=("IMAGE_REF",),
        output_step="image", env=env_items(env), artifacts=(SBOM_PATH, IMAGE_SBOM_PATH),
        sboms=(SBOM_PATH, IMAGE_SBOM_PATH), image_sbom=IMAGE_SBOM_PATH,
        pipegen=pipegen_for(descriptor, "mlflow", "sbom") if serving else pipegen_for(descriptor, "sbom"),
        docker=True, **project_environment(descriptor, ("runtime",)),
        install_note=_BUILD_INSTALL_NOTE.format(tools=_SERVING_TOOLS if serving else _TOOLS),
        timeout_minutes=30, secrets=secrets, run_when=RunWhen.NOT_PULL_REQUEST)
    return with_identity(job, image.identity)


def serving_image_job(descriptor: Descriptor, prod_model: list[Job]) -> Job | None:
    """PROD, after promotion: the image recorded on the champion version, whichever version that
    is (the candidate when promoted, the previous champion when the gate kept it out)."""
    image, model, prod = descriptor.image, descriptor.model, descriptor.environment("prod")
    serves = image is not None and image.serves_model and model is not None and bool(prod_model)
    if not serves or prod is None or not prod.deploys:
        return None
    return Job(
        id="serving-image", title="The champion's serving image", stage="prod",
        comment=f"Reads the version behind the {model.champion_alias!r} alias after promotion and publishes the "
                "image built for it (SERVING_IMAGE_REF): the deployed service and the alias cannot disagree.",
        steps=(Step("Select the champion's image", "\n".join([
            shell_command('ref="$(pipegen model serving-image', f"--model-name {quote(model.name)}",
                          f'--champion-alias {quote(model.champion_alias)})"'),
            f'pipegen output set {SERVING_IMAGE_REF} "$ref"']), id="serving"),),
        needs=tuple(job.id for job in prod_model), outputs=(SERVING_IMAGE_REF,), output_step="serving",
        env=env_items(model_registry_env(descriptor)), pipegen=pipegen_for(descriptor, "mlflow"),
        install_note="pipegen with MLflow, for `pipegen model serving-image`; not the project.", timeout_minutes=10,
        secrets=model.secrets)
