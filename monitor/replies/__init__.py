"""Replies to residents, published from the organisation's linked VK or Telegram account.

`publish_one` sends one reply of the outbox (monitor.incidents.outbox) and records
its fate; `run_once` drains them; moderators `retry` a failed reply or `confirm_published` one
whose answer was lost. Canned answers per topic live in data/replies/canned.toml.
"""

from monitor.titles import FAILURE_TITLES

from .moderation import ReplyError, confirm_published, replies_of, retry
from .outcome import Outcome
from .publisher import TIMEOUT, Tally, publish_one, run_once, sweep_stuck

__all__ = ["FAILURE_TITLES", "Outcome", "ReplyError", "Tally", "confirm_published", "publish_one",
           "replies_of", "retry", "run_once", "sweep_stuck", "TIMEOUT"]
