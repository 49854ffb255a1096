"""The descriptor head the executor scenarios on the minimal example (textstats) share: what each
scenario adds (environments, a model, data drift) follows it."""
from __future__ import annotations


def textstats_descriptor(target: str) -> str:
    """The minimal example's project and unit tests, generating for `target` only."""
    return f"""\
version: 1
project:
  name: textstats
  python: "3.11"
  requirements: {{test: requirements-test.txt}}
targets: [{target}]
tests:
  unit: tests/unit
"""
