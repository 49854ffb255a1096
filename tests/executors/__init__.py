"""Shared parts for the tests that execute generated pipelines (gitlab-ci-local, act, `pipegen run`).

Everything here is a TEST FIXTURE: the stand-ins in `bin/` (`docker`, `pysonar`), the loopback Sonar API
(`sonar.py`), a real `mlflow server` (`mlflow_server.py`), and the pytest fixtures in `plugin.py`
(registered for the whole suite by tests/conftest.py). The pipelines under test are never edited: they are
byte for byte the files `pipegen generate` wrote.
"""
