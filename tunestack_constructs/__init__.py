"""tunestack's own CDK constructs.

Named ``tunestack_constructs`` rather than ``constructs`` so that ``import constructs`` always
reaches the library every CDK import needs.
"""

# Facts the constructs share with the Lambdas (the local-storage instance families) live in the
# runtime that ships in the Lambda asset; put it on the import path before any construct loads.
import tunestack.runtime_path  # noqa: F401
