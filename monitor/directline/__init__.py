"""The governor's direct line: an event's questions in their own queue.

`events` attaches a source for a time window; `questions` takes its messages at ingest
and groups them by topic and by the question they ask; `summaries` picks each group's
most representative sentences; `decisions` marks a group answered on air or routes it
with the event's deadline; `report` tells after the event what was asked and answered.
"""

from .decisions import DirectLineError, answer_on_air, route
from .events import Event, event_of, events, live_sources, start
from .questions import group_new, groups, take

__all__ = ["DirectLineError", "Event", "answer_on_air", "event_of", "events", "group_new",
           "groups", "live_sources", "route", "start", "take"]
