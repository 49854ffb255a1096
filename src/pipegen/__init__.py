"""pipegen: one project descriptor, CI/CD pipelines for four platforms, and the gates they call."""

__version__ = "0.2.0"
