"""The MLflow model registry: reading versions and aliases (`registry`), and moving the champion
alias (`promotion`). mlflow is imported only where it is used."""
from pipegen.model_registry.promotion import Outcome, promote, rollback
from pipegen.model_registry.registry import (
                                             DEFAULT_TRACKING_URI,
                                             INSTALL_HINT,
                                             PREVIOUS_ALIAS,
                                             Registry,
                                             bound_http_retries,
                                             missing_sqlite_registry,
                                             short_reason,
                                             tracking_uri,
)

__all__ = ["DEFAULT_TRACKING_URI", "INSTALL_HINT", "PREVIOUS_ALIAS", "Outcome", "Registry", "bound_http_retries",
           "missing_sqlite_registry", "promote", "rollback", "short_reason", "tracking_uri"]
