"""What the demo stages around the replay: each scene sets up one part of a ЦУР's day.

BEFORE runs before the stream is replayed (the month before it), SCENES after it:
the stream's incidents worked as far as their age allows, then what happens now (a
spike); a feature's scene goes after those.

A scene is a function of the context that changes the database through the same
domain functions the web and the worker use, and returns a line for the console
(or None). Features add their scene in their own module here and list it below.
"""

from __future__ import annotations

from collections.abc import Callable

from monitor.context import Context

from . import history, live, mass, work
from .regional import regional_scene

Scene = Callable[[Context], "str | None"]

# Before the replay: what happened before the stream (its incidents are older).
BEFORE: list[Scene] = [history.stage]

# The municipal ЦУР picks its new incidents first; then the rest are worked as far as
# their age allows; the live spike last, so that its incidents stay new.
SCENES: list[Scene] = [regional_scene, work.stage, *mass.SCENES, live.stage]


def play(ctx: Context, say: Callable[[str], None], scenes: list[Scene] | None = None) -> None:
    """Run every scene in order (SCENES unless told), reporting what each one staged."""
    for scene in SCENES if scenes is None else scenes:
        line = scene(ctx)
        if line:
            say(f"  {line}")
