"""tunestack's own CDK constructs.

Named ``tunestack_constructs`` rather than ``constructs`` so that ``import constructs`` always
reaches the library every CDK import needs.
"""
