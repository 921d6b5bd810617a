"""What is happening now: a burst of «нет воды» from one quarter of Арзамас in the last hour.

data/demo/live.jsonl is replayed so that its last message arrived a few minutes ago
(its texts name no time of day). The burst becomes a spike as it would live: one mass
incident for its messages, the spike banner over the queue and on Сводка for
`[spikes] follow_hours`.
"""

from __future__ import annotations

from datetime import timedelta

from monitor.clock import FrozenClock
from monitor.context import Context

from . import DEMO_DIR, replay

LIVE_STREAM = DEMO_DIR / "live.jsonl"
AGO = timedelta(minutes=4)  # the last message of the burst, before the demo starts


def stage(ctx: Context) -> str | None:
    """Replay the burst to end a few minutes ago; a line for the console."""
    live = ctx.clock
    ctx.clock = FrozenClock(live.now() - AGO)
    try:
        report, _ = replay(ctx, LIVE_STREAM, exact=True)
    finally:
        ctx.clock = live
    if not report.spikes:
        return None
    return (f"сейчас: всплеск «нет воды» в Арзамасе (сообщений за последний час — "
            f"{report.received}), один массовый инцидент")
