"""The label sets of the label guide (data/labels.md), defined once."""

KINDS = ("complaint", "question", "suggestion", "gratitude", "other")
TOPICS = (
    "housing",
    "improvement",
    "roads_transport",
    "ecology_waste",
    "health",
    "education",
    "social",
    "construction",
    "public_services",
    "safety",
    "business",
    "other",
)
URGENCIES = ("critical", "high", "normal", "low")
SOURCES = ("vk_comment", "vk_post", "telegram")

# An incident is opened for these kinds.
ACTIONABLE_KINDS = frozenset({"complaint", "question", "suggestion"})

TASKS = {"kind": KINDS, "topic": TOPICS, "urgency": URGENCIES}
