"""Simulated time for the Step Functions interpreter: task timeouts and retry back-off.

moto's interpreter waits for a task with ``threading.Event.wait(timeout)`` and sleeps between
retries with ``time.sleep``. Both are replaced inside the interpreter's modules only (never
globally), so a 28-day job or a 30-minute back-off takes no real time, and a timeout fires exactly
when the simulator moves the clock past it.
"""

from __future__ import annotations

import threading
import time as real_time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

_POLL_SECONDS = 0.002


class SimClock:
    def __init__(self) -> None:
        self._now = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0  # simulated seconds spent in retry back-off
        self.interrupted = False  # an execution was stopped: pending task waits give up at once

    @property
    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


class _SimEvent:
    """A threading.Event whose wait timeout runs on the simulated clock."""

    def __init__(self, clock: SimClock) -> None:
        self._event = threading.Event()
        self._clock = clock

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None:
            return self._event.wait()
        deadline = self._clock.now + timeout
        while not self._event.wait(_POLL_SECONDS):
            if self._clock.now >= deadline or self._clock.interrupted:
                return False
        return True


@contextmanager
def simulated_time(clock: SimClock) -> Iterator[SimClock]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    threading_shim: Any = types.SimpleNamespace(
        **{name: getattr(threading, name) for name in dir(threading) if not name.startswith("__")}
    )
    threading_shim.Event = lambda: _SimEvent(clock)

    def sleep(seconds: float) -> None:
        clock.slept += seconds
        real_time.sleep(0)

    time_shim: Any = types.SimpleNamespace(
        **{name: getattr(real_time, name) for name in dir(real_time) if not name.startswith("__")}
    )
    time_shim.sleep = sleep
    with (
        mock.patch.object(execute_state, "threading", threading_shim),
        mock.patch.object(retrier_decl, "time", time_shim),
    ):
        yield clock
