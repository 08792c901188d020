"""Closest-match suggestions for typos in keys and names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    options = list(choices)
    matches = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not matches:
        # Prefix typos such as "estim" for "estimator" score low on ratio but are obvious to a person.
        prefixed = [c for c in options if len(word) >= 3 and (c.startswith(word) or word.startswith(c))]
        matches = prefixed[:1]
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str], noun: str = "") -> str:
    """'; did you mean 'x'?' or '; expected one of: a, b, c' (short lists) or '' (long lists, no match)."""
    options = sorted(set(choices))
    match = closest(word, options)
    if match is not None:
        return f"; did you mean {match!r}?"
    if not options:
        return f"; no {noun or 'names'} are defined" if noun else ""
    if len(options) <= 12:
        return f"; expected one of: {', '.join(options)}"
    return ""
