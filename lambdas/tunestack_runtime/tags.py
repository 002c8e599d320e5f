"""The tags tunestack puts on what it creates in SageMaker; IAM conditions read the team tag."""

TEAM_TAG = "tunestack:team"
EXECUTION_TAG = "tunestack:execution"
MODEL_TAG = "tunestack:model"
#: A custom training image's serving image, for a later deploy of the model.
INFERENCE_IMAGE_TAG = "tunestack:inference-image"
