"""Identifiers namespaced by platform, so one store can hold every platform.

An id is ``"<platform>:<native id>[:<more>]"``: ``discord:81234``, ``telegram:-100123:55``.
Ids are plain strings so they survive JSON, SQL and pickling unchanged.
"""

from __future__ import annotations

PLATFORMS = ("discord", "telegram", "console")


def make_id(platform: str, *parts: object) -> str:
    """Build a namespaced id; raises on an unknown platform so typos fail early."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    if not parts:
        raise ValueError("an id needs at least one native part")
    return ":".join((platform, *(str(p) for p in parts)))


def platform_of(identifier: str) -> str:
    """The platform an id belongs to."""
    platform, sep, _ = identifier.partition(":")
    if not sep or platform not in PLATFORMS:
        raise ValueError(f"{identifier!r} is not a namespaced id like 'discord:123'")
    return platform


def native_part(identifier: str) -> str:
    """The id without its platform prefix (what the platform itself calls it)."""
    platform_of(identifier)
    return identifier.split(":", 1)[1]
