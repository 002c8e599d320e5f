"""What the request log keeps of a handler's parameters."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from decimal import Decimal

from tunestack.simulator.lambdas import json_safe


def test_parameters_are_kept_as_passed_and_made_json_safe() -> None:
    stream = io.BytesIO(b"0123456789")
    stream.seek(4)
    parameters = {
        "Bucket": "b",
        "Body": b"\x00" * 1234,
        "Stream": stream,
        "StartTime": datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
        "MaxResults": 100,
        "Enabled": True,
        "Item": {"Count": Decimal("3"), "Ratio": Decimal("0.5"), "Tags": {"b", "a"}},
        "Channels": [{"ChannelName": "train"}],
        "Token": None,
    }
    safe = json_safe(parameters)
    assert safe == {
        "Bucket": "b",
        "Body": "<1234 bytes>",
        "Stream": "<6 bytes>",
        "StartTime": "2024-05-01T12:30:00+00:00",
        "MaxResults": 100,
        "Enabled": True,
        "Item": {"Count": 3, "Ratio": 0.5, "Tags": ["a", "b"]},
        "Channels": [{"ChannelName": "train"}],
        "Token": None,
    }
    assert stream.tell() == 4  # the stream is left where the handler had it
    json.dumps(safe)
