"""User-name globs as IAM compares names: the name without regard to case (IAM user
names are unique case-insensitively), the path exactly as written.

The glob is fnmatch's (``*``, ``?``, ``[seq]``, ``[!seq]``; ``*`` also matches ``/``),
with a case rule per position, which fnmatch (one rule for the whole text) cannot do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache


def name_glob(pattern: str, text: str, name_from: int) -> bool:
    """fnmatch's glob (``*``, ``?``, ``[seq]``, ``[!seq]``) over ``text``, where the
    characters from ``name_from`` on (the user name) match without regard to case
    and those before it (the path) exactly."""
    tokens = _glob_tokens(pattern)
    # The text positions a prefix of the pattern can end at: linear in pattern x text.
    ends = {0}
    for token in tokens:
        if token is None:  # '*' matches any run of characters, '/' included (as fnmatch)
            ends = set(range(min(ends), len(text) + 1)) if ends else set()
        else:
            ends = {i + 1 for i in ends if i < len(text) and token(text[i], i >= name_from)}
        if not ends:
            return False
    return len(text) in ends


_CharTest = Callable[[str, bool], bool]


@lru_cache(maxsize=4096)  # each rule's pattern is matched against every user
def _glob_tokens(pattern: str) -> tuple[_CharTest | None, ...]:
    """The pattern as one test per character (``None`` for ``*``), as fnmatch reads it."""
    tokens: list[_CharTest | None] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1] is not None:  # '**' is '*'
                tokens.append(None)
        elif c == "?":
            tokens.append(lambda ch, fold: True)
        elif c == "[" and (end := _class_end(pattern, i)) > 0:
            tokens.append(_char_class(pattern[i:end]))
            i = end + 1
        else:
            tokens.append(_literal(c))
    return tuple(tokens)


def _class_end(pattern: str, i: int) -> int:
    """Where the ``]`` closing a class opened before ``i`` is, or -1 (then '[' is literal)."""
    j = i
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    return pattern.find("]", j)


def _literal(c: str) -> _CharTest:
    folded = c.casefold()
    return lambda ch, fold: ch == c or (fold and ch.casefold() == folded)


def _char_class(body: str) -> _CharTest:
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            ranges.append((body[k], body[k + 2]))
            k += 3
        else:
            ranges.append((body[k], body[k]))
            k += 1

    def inside(ch: str) -> bool:
        return any(lo <= ch <= hi for lo, hi in ranges)

    def test(ch: str, fold: bool) -> bool:
        found = inside(ch) or (fold and (inside(ch.lower()) or inside(ch.upper())))
        return found != negate

    return test
