"""The image's jobs: built once, then deployed by digest to each environment."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.common import env_items, output_env, pipegen_for, quote, secret_env, variable_env
from pipegen.plan.model import STAGE_TITLES, Job, RunWhen, Step


def build_job(descriptor: Descriptor) -> Job | None:
    image = descriptor.image
    if image is None:
        return None
    # Built once, in the first stage that deploys it, and promoted from there by digest.
    test_env = descriptor.environment("test")
    stage = "test" if test_env is not None and test_env.deploy else "qa"
    ref = f'"${image.registry_var}/{image.name}:$(git rev-parse --short=12 HEAD)"'
    login = []
    if image.username_secret and image.password_secret:
        login = [f'printf \'%s\' "${image.password_secret}" | docker login "${image.registry_var}" '
                 f'--username "${image.username_secret}" --password-stdin']
    script = "\n".join([
        *login,
        f"image={ref}",
        f'docker build --file {quote(image.dockerfile)} --tag "$image" {quote(image.context)}',
        'docker push "$image"',
        "# The digest, not the tag, is what QA and PROD deploy: the same bytes everywhere.",
        "pipegen output set IMAGE_REF \"$(docker inspect --format '{{index .RepoDigests 0}}' \"$image\")\"",
    ])
    return Job(
        id="build", title="Build the image once", stage=stage,
        comment=f"Builds and pushes the image once; {'TEST, ' if stage == 'test' else ''}QA and PROD deploy "
                "this exact digest (IMAGE_REF).",
        steps=(Step("Build, push, publish the digest", script, id="image"),), outputs=("IMAGE_REF",),
        output_step="image", env=env_items({**variable_env([image.registry_var]), **secret_env(image.all_secrets)}),
        pipegen=pipegen_for(descriptor), docker=True,
        install_note="pipegen (core) only, for `pipegen output set`: Docker builds the image; not the project.",
        timeout_minutes=30, secrets=image.all_secrets,
        run_when=RunWhen.NOT_PULL_REQUEST)


def deploy_job(descriptor: Descriptor, stage: str, build: Job | None) -> Job | None:
    environment = descriptor.environment(stage)
    if environment is None or environment.deploy is None:
        return None
    env = {**secret_env(environment.secrets), **variable_env(environment.variables)}
    if build is not None:
        env.update(output_env("IMAGE_REF", build.id))
    return Job(
        id=f"deploy-{stage}", title=f"Deploy to {STAGE_TITLES[stage]}", stage=stage,
        comment=f"Deploys to {STAGE_TITLES[stage]}"
                + (f" the image digest built once in {STAGE_TITLES[build.stage]}." if build else "."),
        steps=(Step(f"Deploy to {STAGE_TITLES[stage]}", environment.deploy),), env=env_items(env),
        python=False, timeout_minutes=30, environment=stage, secrets=environment.secrets,
        run_when=RunWhen.NOT_PULL_REQUEST)
