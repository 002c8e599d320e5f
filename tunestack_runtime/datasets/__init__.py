"""Checks of a training dataset's layout, one per kind of model, at a cost that does not grow with
the data: listings one folder level at a time and sampled, files streamed and read up to a bound.

``layouts.py`` says which layout a model reads and which AWS page each follows; the other modules
check one family each. Errors are ``InvalidDataset`` naming the S3 key and the line or record.
"""

from __future__ import annotations

from typing import Any

from tunestack_runtime.datasets.layouts import Layout, Unchecked
from tunestack_runtime.datasets.reading import Location, holds_data
from tunestack_runtime.errors import InvalidDataset

__all__ = ["Layout", "Unchecked", "check_dataset", "check_not_empty"]

#: What the output says when an algorithm's layout is not known and nothing more specific is.
UNKNOWN = Unchecked("dataset not checked: no layout is known for this algorithm")


def check_dataset(s3: Any, layout: Layout | None, uri: str | None) -> dict[str, Any]:
    """Check the dataset at ``uri`` against ``layout``; what the execution reports about it.

    ``uri`` None: the model's default dataset, which is not checked. Raises InvalidDataset.
    """
    if uri is None:
        return {"Source": "the model's default dataset", "Checked": False}
    layout = layout or UNKNOWN
    found = layout.check(s3, Location.from_uri(uri))
    if isinstance(layout, Unchecked):
        return {"Source": uri, "Checked": False, "Reason": layout.reason, **found}
    return {"Source": uri, "Checked": True, "Layout": layout.name, "Format": layout.source, **found}


def check_not_empty(s3: Any, uri: str) -> dict[str, Any]:
    """A channel whose layout is not checked (a validation channel, a built-in's): it holds data."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")  # a prefix, or one object's key
    if not holds_data(s3, Location(bucket, prefix)):
        raise InvalidDataset(f"{uri}: no objects under this prefix")
    return {"Source": uri, "Checked": True, "Layout": "not checked for this channel; the prefix holds data"}
