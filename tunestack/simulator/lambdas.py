"""Runs the synthesized Lambda functions in-process, from their asset code.

moto's Lambda would start a container; here the handler named by the function is imported from
the function's own code (the zip moto holds) and called with the function's environment.
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
from typing import Any
from unittest import mock

#: One invocation at a time: handlers read os.environ, which is process-wide.
_INVOKE_LOCK = threading.RLock()


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
        for name in [m for m in sys.modules if m.split(".")[0] in {"tunestack_handlers", "tunestack_runtime"}]:
            del sys.modules[name]
    module = importlib.import_module(module_name)
    return getattr(module, function_name)  # type: ignore[no-any-return]


@contextmanager
def in_process_lambdas(faults: LambdaFaults) -> Iterator[None]:
    from moto.awslambda.models import LambdaFunction

    assets = _AssetCache()

    def invoke(fn: Any, event: str | None = None) -> tuple[str, bool, str]:
        name = fn.function_name
        faults.invocations[name] = faults.invocations.get(name, 0) + 1
        payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
        with _INVOKE_LOCK:
            _set_environment(fn.environment_vars)
            try:
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

    with mock.patch.object(LambdaFunction, "_invoke_lambda", invoke):
        yield
