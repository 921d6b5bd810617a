"""Which discussion a reply belongs to: the text of the post that opened its thread.

A reply such as «Ефремова — тоже сухо» is about the outage announced in the post it
answers; the NLP pipeline takes that post's text as `context` for the topic.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_DEPTH = 5  # a reply to a reply to …: walk up at most this far


def thread_root(parent_id: str | None, find: Callable[[str], tuple[str, str | None] | None]) -> str | None:
    """The text of the thread's first post above a reply with `parent_id`, or None.

    `find(external_id)` gives (text, its own parent id) of a post of the same source, or
    None when that post is unknown (not collected, or deleted before we saw it)."""
    text, depth = None, 0
    while parent_id and depth < MAX_DEPTH:
        found = find(parent_id)
        if found is None:
            break
        (text, parent_id), depth = found, depth + 1
    return text


def thread_contexts(db, posts, source_ids: dict[str, int]) -> list[str | None]:
    """`thread_root` of each collected post: parents from the same batch, then the store."""
    batch = {(p.source, p.external_id): (p.text, p.parent_id) for p in posts}

    def finder(post):
        def find(external_id: str):
            if (post.source, external_id) in batch:
                return batch[(post.source, external_id)]
            row = db.execute("SELECT text, parent_external_id FROM posts WHERE source_id = ? AND external_id = ?",
                             [source_ids[post.source], external_id]).fetchone()
            return (row[0], row[1]) if row else None
        return find

    return [thread_root(p.parent_id, finder(p)) if p.parent_id else None for p in posts]
