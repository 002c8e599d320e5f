"""Offline simulator: the real synthesized state machines run by moto's Step Functions
interpreter, the Lambdas run in-process from their asset code, and a SageMaker whose jobs move
through their lifecycle in simulated time. Everything it reports is simulated.
"""
