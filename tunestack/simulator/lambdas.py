"""Runs the synthesized Lambda functions in-process, from their asset code.

moto's Lambda would start a container; here the handler named by the function is imported from
the function's own code (the zip moto holds) and called with the function's environment. Every
AWS request a handler makes is logged, in order, the way a dry run would list it.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import sys
import tempfile
import threading
import traceback
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

#: One invocation at a time: handlers read os.environ, which is process-wide.
_INVOKE_LOCK = threading.RLock()

#: On the thread a handler runs on: ``function``, the function's name; ``in_request``, whether one
#: of its AWS requests is under way (so calls moto makes while serving it are not the handler's).
_CALLER = threading.local()


def _set_environment(variables: dict[str, Any]) -> None:
    """Give the handler its function's environment. Keys are only ever set, never removed: moto's
    interpreter threads copy os.environ while a handler runs (creating clients), and a copy taken
    while another thread clears it fails with KeyError. The sandbox restores os.environ at its end."""
    os.environ.update({k: str(v) for k, v in variables.items()})


@dataclass
class FakeContext:
    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = "simulated"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "simulated"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@dataclass
class LambdaFaults:
    """Failures the Lambda service itself injects, by function name: after the handler ran, the
    invocation fails with ``error_type`` ``times`` times (a launch that created its job and then
    lost its response)."""

    after_run: dict[str, tuple[str, int]] = field(default_factory=dict)
    invocations: dict[str, int] = field(default_factory=dict)

    def take(self, function_name: str) -> str | None:
        for name, (error_type, times) in list(self.after_run.items()):
            if name in function_name and times > 0:
                self.after_run[name] = (error_type, times - 1)
                return error_type
        return None


@dataclass
class RequestLog:
    """Every AWS request the handlers made, in order: ``function``, ``service``, ``operation`` (the
    API's name), ``parameters`` (as the handler passed them, made JSON-safe) and, when AWS rejected
    it, ``error`` (its code)."""

    entries: list[dict[str, Any]] = field(default_factory=list)


def json_safe(value: Any) -> Any:
    """``value`` as JSON can hold it: bytes and streams as ``<N bytes>``, datetimes as ISO strings."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((json_safe(v) for v in value), key=repr)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "read"):
        return _stream_size(value)
    return f"<{type(value).__name__}>"


def _stream_size(stream: Any) -> str:
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (AttributeError, OSError, ValueError):
        return "<stream>"
    return f"<{end - here} bytes>"


@contextmanager
def logged_requests(log: RequestLog) -> Iterator[None]:
    """Append to ``log`` each request a client makes on a thread that runs a handler."""
    from botocore.client import BaseClient
    from botocore.exceptions import BotoCoreError, ClientError

    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        function = getattr(_CALLER, "function", None)
        if function is None or _CALLER.in_request:
            return original(client, operation_name, api_params)
        entry = {
            "function": function,
            "service": client.meta.service_model.service_name,
            "operation": operation_name,
            "parameters": json_safe(api_params),
        }
        log.entries.append(entry)
        _CALLER.in_request = True
        try:
            return original(client, operation_name, api_params)
        except ClientError as error:
            entry["error"] = error.response.get("Error", {}).get("Code") or type(error).__name__
            raise
        except BotoCoreError as error:  # refused before it was sent, e.g. a parameter the API lacks
            entry["error"] = type(error).__name__
            raise
        finally:
            _CALLER.in_request = False

    with mock.patch.object(BaseClient, "_make_api_call", make_api_call):
        yield


def current_function() -> str | None:
    """The function whose handler runs on this thread (None: the simulator itself)."""
    return getattr(_CALLER, "function", None)


@contextmanager
def _running(function_name: str) -> Iterator[None]:
    """Mark this thread as running ``function_name``'s handler (a handler may invoke another)."""
    outer = getattr(_CALLER, "function", None), getattr(_CALLER, "in_request", False)
    _CALLER.function, _CALLER.in_request = function_name, False
    try:
        yield
    finally:
        _CALLER.function, _CALLER.in_request = outer


class _AssetCache:
    def __init__(self) -> None:
        self._dirs: dict[int, str] = {}
        self.root = tempfile.mkdtemp(prefix="tunestack-assets-")

    def directory(self, code: bytes) -> str:
        key = hash(code)
        if key not in self._dirs:
            target = os.path.join(self.root, str(len(self._dirs)))
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(target)
            self._dirs[key] = target
        return self._dirs[key]


def _load_handler(asset_dir: str, handler: str) -> Callable[[Any, Any], Any]:
    module_name, function_name = handler.rsplit(".", 1)
    if sys.path[0] != asset_dir:
        if asset_dir in sys.path:
            sys.path.remove(asset_dir)
        sys.path.insert(0, asset_dir)
        for name in [m for m in sys.modules if m.split(".")[0] == "tunestack_runtime"]:
            del sys.modules[name]
    module = importlib.import_module(module_name)
    return getattr(module, function_name)  # type: ignore[no-any-return]


@contextmanager
def in_process_lambdas(faults: LambdaFaults, requests: RequestLog) -> Iterator[None]:
    from moto.awslambda.models import LambdaFunction

    assets = _AssetCache()

    def invoke(fn: Any, event: str | None = None) -> tuple[str, bool, str]:
        name = fn.function_name
        faults.invocations[name] = faults.invocations.get(name, 0) + 1
        payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
        with _INVOKE_LOCK:
            _set_environment(fn.environment_vars)
            try:
                with _running(name):  # requests made while its module loads are the function's too
                    handler = _load_handler(assets.directory(fn.code_bytes), fn.handler)
                    result = handler(payload, FakeContext(function_name=name))
            except Exception as error:  # the function's error, as Lambda reports it
                body = {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_exc().splitlines()[-3:],
                }
                return json.dumps(body), True, ""
        injected = faults.take(name)
        if injected:
            return json.dumps({"errorType": injected, "errorMessage": "simulated Lambda service failure"}), True, ""
        return json.dumps(result), False, ""

    with mock.patch.object(LambdaFunction, "_invoke_lambda", invoke), logged_requests(requests):
        yield
