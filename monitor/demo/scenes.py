"""What the demo stages after the replay: each scene sets up one part of a ЦУР's day.

A scene is a function of the context that changes the database through the same
domain functions the web and the worker use, and returns a line for the console
(or None). Features add their scene in their own module here and list it below.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.context import Context

from .regional import regional_scene

Scene = Callable[[Context], "str | None"]

SCENES: list[Scene] = [regional_scene]


def play(ctx: Context, say: Callable[[str], None]) -> None:
    """Run every scene in order, reporting what each one staged."""
    for scene in SCENES:
        line = scene(ctx)
        if line:
            say(f"  {line}")
