"""The loop of a background worker: one step, a report, a sleep in one-second slices;
SIGTERM and SIGINT let the current step finish and then stop."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable


def run_loop(step: Callable[[Callable[[], bool]], object], tally, *, once: bool = False,
             interval: float = 10.0, report: Callable = lambda t: None):
    """Call `step(should_stop)` until told to stop (or once); returns `tally`."""
    stop = {"now": False}

    def ask_to_stop(signum, frame):
        stop["now"] = True

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, ask_to_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            step(lambda: stop["now"])
            report(tally)
            if once or stop["now"]:
                return tally
            for _ in range(int(interval)):
                if stop["now"]:
                    return tally
                time.sleep(1)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
