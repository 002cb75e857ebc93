"""The library's errors, raised at construction time.

Every error names the construct path, the prop, the bad value and the fix, so
that a user reads one line and knows what to change.

Hierarchy::

    ConstructsLibError            base class; catch this to catch everything below
    └── PropsError                a prop has a bad value (also a ValueError)
        ├── MainContainerError    the main container cannot be chosen
        └── CollisionError        a name, port or path is already taken in the pod
"""

from __future__ import annotations

import re
from typing import Any

# scheme://user:password@host -> scheme://***@host (up to the authority's last '@'), and
# scp-like user:password@host: -> ***@host:, so that no credential reaches a log.
_CREDENTIALS = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
_SCP_CREDENTIALS = re.compile(r"^[^@\s/:]+:[^@\s/]+@")


def _redact(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return _SCP_CREDENTIALS.sub("***@", _CREDENTIALS.sub(r"\1***@", value))


class ConstructsLibError(Exception):
    """Base class of every error this library raises."""


class PropsError(ConstructsLibError, ValueError):
    """A prop has a value the pattern cannot turn into a working manifest.

    Attributes:
        path: construct path of the pattern (``chart/id``).
        prop: name of the offending prop (``period``, ``auth.password``...).
        value: the value that was given.
        fix: what to change.
    """

    def __init__(self, path: str, prop: str, value: Any, problem: str, fix: str) -> None:
        value = _redact(value)
        self.path = path
        self.prop = prop
        self.value = value
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {prop}={value!r}: {problem}. Fix: {fix}")


class MainContainerError(PropsError):
    """The Deployment has no container, or several and none was named."""


class CollisionError(PropsError):
    """A container name, port, volume name or mount path is already taken in the pod."""
