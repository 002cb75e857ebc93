"""The library's errors, raised at construction time.

Every error names the construct path, the prop, the bad value and the fix, so
that a user reads one line and knows what to change.

Hierarchy::

    ConstructsLibError            base class; catch this to catch everything below
    └── PropsError                a prop has a bad value (also a ValueError)
        ├── MainContainerError    the main container cannot be chosen
        ├── CollisionError        a name, port or path is already taken in the pod
        └── PodSecurityError      restricted_pod_security: the final pod breaks a rule

Checks that need the final pod run when the app synthesizes; their errors reach the caller
of ``app.synth()`` as these same types (see ``_synth.py``), not as jsii ``RuntimeError`` exceptions.
"""

from __future__ import annotations

import re
from typing import Any

# What a credential looks like in text the library would copy into a manifest. One detector
# for every prop, and the same one redacts values in error messages.
#: userinfo in any URL (``https://token@``, ``file://user:pw@``, ``redis://:pw@``); only ssh's
#: bare user (``ssh://git@host``) names no secret, and is allowed by :func:`credential_in`.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://([^/?#\s@]+)@")
#: scp-like ``user:password@host:``.
_SCP_PASSWORD = re.compile(r"^[^@\s/:]+:[^@\s/]+@")
_SECRET_WORDS = (
    r"pass(word|wd)?|pwd|token|secret|api[-_.]?key|apikey|access[-_.]?key|credentials?|private[-_.]?key"
)
#: ``?private_token=...``, ``&sig=...``: secrets in a query string.
_SECRET_QUERY = re.compile(
    rf"(?i)[?&;]([^=&#\s]*({_SECRET_WORDS})[^=&#\s]*|key|sig|signature|auth|authorization|x-amz-signature)=[^&#\s]"
)
#: ``--redis.password=...``, ``-token=...``: a secret flag with its value inline (a flag that
#: names a file, a path, an env variable or a name of something is fine).
_SECRET_FLAG = re.compile(
    rf"(?i)^--?[\w.-]*({_SECRET_WORDS})(?![\w.-]*[-_.](file|path|dir|env|name|ref))[\w.-]*(=\S|$)"
)
#: an HTTP credential header, e.g. ``http.extraHeader:Authorization: Bearer ...``.
_AUTH_HEADER = re.compile(r"(?i)\b(proxy-)?authorization\s*:\s*\S|\bbearer\s+\S|\bbasic\s+[a-z0-9+/=]{8,}")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def credential_in(text: str) -> str | None:
    """Why ``text`` looks like it carries a credential, or None."""
    for m in _URL_USERINFO.finditer(text):
        scheme, userinfo = m.group(1).lower(), m.group(2)
        if not (scheme in ("ssh", "git+ssh") and ":" not in userinfo):
            return "a URL carries credentials (user or token before '@')"
    if _SCP_PASSWORD.match(text):
        return "the address carries a password (user:password@)"
    if _SECRET_QUERY.search(text):
        return "a URL's query string carries a secret parameter"
    if _SECRET_FLAG.match(text):
        return "a flag that takes a secret has its value inline"
    if _AUTH_HEADER.search(text):
        return "an HTTP Authorization header is inline"
    if _PEM.search(text):
        return "a private key is inline"
    return None


def _redact_text(text: str) -> str:
    """``text`` with the credential parts masked, the rest kept so that the value is recognisable."""
    text = _URL_USERINFO.sub(
        lambda m: m.group(0) if credential_in(m.group(0) + "x") is None else f"{m.group(1)}://***@", text
    )
    text = _SCP_PASSWORD.sub("***@", text)
    text = re.sub(
        r"([?&;][^=&#\s]*=)[^&#\s]*",
        lambda m: m.group(1) + "***" if _SECRET_QUERY.match(m.group(1) + "x") else m.group(0),
        text,
    )
    if _SECRET_FLAG.match(text):
        text = re.sub(r"=.*", "=***", text, count=1)
    text = re.sub(r"(?is)((proxy-)?authorization\s*:|bearer|basic)\s.*", r"\1 ***", text)
    text = re.sub(r"(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*", "***", text)
    return text if credential_in(text.replace("***", "")) is None else "<redacted: looks like a credential>"


def _redact(value: Any) -> Any:
    """``value`` with every credential masked, for error messages."""
    if isinstance(value, str):
        return _redact_text(value) if credential_in(value) else value
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    return value


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
    """A container name, port, volume name or mount path is already taken in the pod.

    One error lists every collision of one attach (``collisions``: (prop, value, problem,
    fix) each); ``prop``, ``value`` and ``fix`` are those of the first.
    """

    collisions: list[tuple[str, Any, str, str]]

    def __init__(self, path: str, prop: str, value: Any, problem: str, fix: str) -> None:
        super().__init__(path, prop, value, problem, fix)
        self.collisions = [(prop, self.value, problem, fix)]

    @classmethod
    def of(cls, path: str, collisions: list[tuple[str, Any, str, str]]) -> CollisionError:
        """One error for several collisions: ``path: p1=v1: problem1; p2=v2: problem2. Fix: ...``."""
        (prop, value, problem, fix), *rest = collisions
        if rest:
            problem += "".join(f"; {p}={_redact(v)!r}: {pr}" for p, v, pr, _ in rest)
            fix = "; ".join(f"{p}: {f}" for p, _, _, f in collisions)
        err = cls(path, prop, value, problem, fix)
        err.collisions = [(p, _redact(v), pr, f) for p, v, pr, f in collisions]
        return err


class PodSecurityError(PropsError):
    """``restricted_pod_security``: the final pod breaks a Pod Security "restricted" rule that
    cannot be fixed without changing what was asked for (uid 0, privileged, hostPath...)."""
