"""The CloudFormation stacks of one team."""
