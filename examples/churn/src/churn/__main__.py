"""`python -m churn`: what this package is (the container's default command)."""
from churn import __version__

print(f"churn {__version__}: train with `python -m churn.train`")
