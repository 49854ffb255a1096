"""churn: a tiny, real churn classifier — synthetic data, scikit-learn, tracked in MLflow.

It is the example project pipegen's reference descriptor describes: `python -m churn.train`
fits a model, logs its metrics, registers a version and publishes MODEL_VERSION.
"""
__version__ = "0.1.0"
