"""One comment per pull/merge request, found again by the marker on its first line and edited in place.

The platform says where the comments are (:class:`Thread`); finding, creating and editing are the same on every
platform: the oldest comment that starts with the marker is edited; only when there is none is one created.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlspec.platforms.http import Client


@dataclass(frozen=True)
class Thread:
    """One pull/merge request's comments, and the client of its platform's API."""

    client: Client
    what: str
    """For people: ``pull request #12 of octo/repo``."""
    comments: str
    """URL of the first page of comments (oldest first), also where a new one is POSTed without the query."""
    comment: str
    """URL of one comment, with ``{id}``."""
    update_method: str
    is_system: str = ""
    """A key whose true value marks a comment written by the platform itself (GitLab's system notes)."""


def upsert(thread: Thread, body: str, marker: str) -> str:
    """Edit the comment that starts with ``marker``, or create one; returns what was done."""
    existing = find(thread, marker)
    if existing is None:
        created = thread.client.call("POST", thread.comments.split("?", 1)[0], {"body": body}).data
        number = created.get("id") if isinstance(created, dict) else None
        return f"posted the report as comment {number} on {thread.what}"
    thread.client.call(thread.update_method, thread.comment.format(id=existing), {"body": body})
    return f"updated the report in comment {existing} on {thread.what}"


def find(thread: Thread, marker: str) -> int | None:
    """The id of the oldest comment that starts with ``marker`` (as the report writes it, not quoted)."""
    for page in thread.client.pages(thread.comments, "comments", thread.what):
        for item in page:
            if (isinstance(item, dict) and isinstance(item.get("body"), str) and item["body"].startswith(marker)
                    and not (thread.is_system and item.get(thread.is_system))
                    and isinstance(item.get("id"), int)):
                return int(item["id"])
    return None
