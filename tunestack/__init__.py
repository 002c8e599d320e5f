"""tunestack: per-team SageMaker fine-tuning and hyperparameter-tuning platforms on AWS CDK."""

__version__ = "0.1.0"
