"""A failure's cause as the lines a person reads: one line per problem, no envelope.

What a Catch leaves at ``$.Error`` is ``{"Error": ..., "Cause": ...}``, and the Cause comes in
three shapes:

* a Lambda function's error: the runtime's envelope as a JSON string, ``{"errorType",
  "errorMessage", "stackTrace", "requestId"}`` (Python runtime); the message is what tunestack
  raised (``tunestack_runtime.errors``), one problem per line;
* ``SendTaskFailure`` from a completion handler (a training job's FailureReason): plain text;
* a ``States.*`` error (``States.Timeout`` may carry no Cause at all), or a nested execution's
  failure (``startExecution.sync:2``: its DescribeExecution response as JSON, whose own cause the
  nested machine already described).

Step Functions holds an execution's cause to 32,768 characters and its error to 256
(botocore ``stepfunctions`` model: ``SensitiveCause``, ``SensitiveError``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: The environment variable naming the team's failure topic, for the function that publishes notices.
TOPIC_VARIABLE = "FAILURE_TOPIC_ARN"
#: SNS Publish: a Subject has fewer than 100 characters (Amazon SNS API Reference, Publish).
MAX_SUBJECT = 99
MAX_CAUSE = 32768
MAX_ERROR = 256
_TRUNCATED = "\n... (cut to the 32,768 characters an execution's cause may hold)"


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _field(document: Mapping[str, Any], name: str) -> Any:
    """A field by name in either spelling: ``.sync:2`` responses are PascalCase, ``.sync`` camelCase."""
    return document.get(name, document.get(name[0].lower() + name[1:]))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def cause_lines(error: str, cause: str | None) -> list[str]:
    """The problems a cause names, one per line, whatever shape it came in."""
    if not cause:
        return [f"{error} (Step Functions gave no cause)"] if error else []
    document = _json_object(cause)
    if document is None:
        return _lines(cause)
    if "errorMessage" in document or "errorType" in document:  # a Lambda function's envelope
        message = document.get("errorMessage")
        return _lines(str(message)) if message else [str(document.get("errorType", error))]
    nested_error, nested_cause = _field(document, "Error"), _field(document, "Cause")
    if nested_error is not None or nested_cause is not None:  # a nested execution's description
        where = _field(document, "ExecutionArn") or "the nested execution"
        status = _field(document, "Status") or "FAILED"
        head = f"{where} {str(status).lower()}" + (f" with {nested_error}" if nested_error else "")
        return [head, *cause_lines(str(nested_error or ""), str(nested_cause) if nested_cause else None)]
    return _lines(cause)


def describe(failure: Mapping[str, Any]) -> dict[str, str]:
    """``{Error, Cause}`` with the Cause as lines (``cause_lines``), within Step Functions' limits."""
    error = str(failure.get("Error") or "Failed")[:MAX_ERROR]
    raw = failure.get("Cause")
    text = "\n".join(cause_lines(error, raw if isinstance(raw, str) else None if raw is None else json.dumps(raw)))
    if len(text) > MAX_CAUSE:
        text = text[: MAX_CAUSE - len(_TRUNCATED)] + _TRUNCATED
    return {"Error": error, "Cause": text}


def notice(execution: str, described: Mapping[str, str]) -> str:
    """The failure notice's message (JSON, as subscribers and filters have read it): the execution,
    the error's name and the described cause."""
    return json.dumps({"Execution": execution, "Error": described["Error"], "Cause": described["Cause"]})
