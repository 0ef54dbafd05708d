"""一格一长一警一专多兼: which posts a grid must have filled. Pure logic."""

from __future__ import annotations

from collections.abc import Iterable

# The two party secretaries (the branch's and the property company's, 网格"双书记") are shown
# with the posts but are not part of the staffing rule: a grid without them is not incomplete.
REQUIRED_POSTS: tuple[str, ...] = ("leader", "police", "fulltime", "parttime")


def missing_posts(held: Iterable[str]) -> list[str]:
    """The required posts nobody holds, in the rule's order.

    >>> missing_posts(["leader", "fulltime", "parttime", "parttime"])
    ['police']
    """
    held_set = set(held)
    return [p for p in REQUIRED_POSTS if p not in held_set]
