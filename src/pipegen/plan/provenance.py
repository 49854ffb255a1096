"""Build provenance: the build job attests the image digest it pushed, and every PROD job that
deploys an image digest verifies that attestation before it runs, failing closed.

The plan only marks the jobs (`Job.attests`, `Job.verifies`); the mechanism is the platform's
own, where it has one (GitHub artifact attestations: actions/attest-build-provenance, then `gh
attestation verify`). Platforms without one render neither, and say so in their differences."""
from __future__ import annotations

from pipegen.descriptor.model import Descriptor
from pipegen.plan.jobs.image import SERVING_IMAGE_REF
from pipegen.plan.model import EnvKind, Job
from pipegen.records import replace

IMAGE_OUTPUTS = ("IMAGE_REF", SERVING_IMAGE_REF)


def deployed_image(job: Job) -> str | None:
    """The env name holding the image digest the job deploys, if it deploys one."""
    return next((name for name, value in job.env
                 if value.kind is EnvKind.OUTPUT and value.value in IMAGE_OUTPUTS), None)


def with_provenance(jobs: list[Job], descriptor: Descriptor) -> list[Job]:
    if descriptor.image is None or not descriptor.image.provenance:
        return jobs
    marked = []
    for job in jobs:
        if job.id == "build":
            job = replace(job, attests=True)
        elif job.stage == "prod" and (image := deployed_image(job)) is not None:
            job = replace(job, verifies=image)
        marked.append(job)
    return marked
