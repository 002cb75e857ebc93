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

import itertools
import re
from typing import Any

# What a credential looks like in text the library would copy into a manifest. One detector
# for every prop, and the same one masks values, problems and fixes in error messages. Each shape
# is a regex whose group "secret" is the part to mask; the rest stays, so a masked value is
# still recognisable.
_SECRET_WORDS = (
    r"pass(word|wd)?|pwd|token|secret|api[-_.]?key|apikey|access[-_.]?key|credentials?|private[-_.]?key"
)
#: Names that end like these name where a secret is, not the secret (``--password-file``).
_NOT_THE_SECRET = r"(?![\w.-]*[-_.](file|path|dir|env|name|ref)\b)"
_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # userinfo in any URL (https://token@, file://user:pw@, redis://:pw@); ssh's bare user
    # (ssh://git@host) names no secret and is skipped in _secret_spans.
    (
        "a URL carries credentials (user or token before '@')",
        re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<secret>[^/?#\s@]+)@"),
    ),
    # scp-like user:password@host:
    ("the address carries a password (user:password@)", re.compile(r"^(?P<secret>[^@\s/:]+:[^@\s/]+)@")),
    # ?private_token=..., &sig=..., #access_token=...: secrets in a query string or fragment.
    (
        "a URL's query string or fragment carries a secret parameter",
        re.compile(
            rf"(?i)[?&;#]([^=&#\s]*({_SECRET_WORDS})[^=&#\s]*|key|sig|signature|auth|authorization"
            r"|x-amz-signature)=(?P<secret>[^&#\s]+)"
        ),
    ),
    # --redis.password=..., -token=..., --password VALUE, --basic-auth=user:pw: a secret flag with
    # its value inline (a flag that names a file, a path, an env variable or a name is fine).
    (
        "a flag that takes a secret has its value inline",
        re.compile(
            rf"(?i)^--?[\w.-]*({_SECRET_WORDS}|auth(?!or))(?![\w.-]*[-_.](file|path|dir|env|name|ref))"
            r"[\w.-]*(=|\s+|$)(?P<secret>\S.*)?"  # a bare flag: its value is the next arg
        ),
    ),
    # Authorization: Bearer ..., PRIVATE-TOKEN: ..., X-API-Key: ...: an HTTP credential header.
    (
        "an HTTP credential header is inline",
        re.compile(
            r"(?i)\b((proxy-)?authorization|private-token|job-token|x-api-key|api-key|x-auth-token"
            r"|x-vault-token|cookie)\s*:\s*(?P<secret>\S.*)"
        ),
    ),
    ("an HTTP credential is inline", re.compile(r"(?i)\b(bearer|basic)\s+(?P<secret>[a-z0-9+/=._~-]{8,}.*)")),
    # REDIS_PASSWORD=..., API_TOKEN=...: an environment-style assignment (upper case, as env).
    (
        "a secret variable is assigned inline",
        re.compile(
            r"\b[A-Z0-9_]*(PASSWORD|PASSWD|PWD|TOKEN|SECRET|API_?KEY|ACCESS_?KEY|CREDENTIALS?|PRIVATE_?KEY)"
            r"[A-Z0-9_]*(?<!_FILE)(?<!_PATH)(?<!_DIR)(?<!_NAME)(?<!_REF)=(?P<secret>\S+)"
        ),
    ),
    # {"password": "..."} or 'token': '...': a secret key in JSON or a Python dict.
    (
        "a secret key has its value inline",
        re.compile(
            rf"""(?i)["'][^"']*({_SECRET_WORDS}){_NOT_THE_SECRET}[^"']*["']\s*:\s*["'](?P<secret>[^"']+)["']"""
        ),
    ),
    ("a private key is inline", re.compile(r"(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.*)")),
)


def _secret_spans(text: str) -> list[tuple[str, tuple[int, int]]]:
    """Each credential in ``text``: why, and where its secret part is."""
    found = []
    for reason, shape in _SHAPES:
        for m in shape.finditer(text):
            scheme = m.groupdict().get("scheme")
            if scheme and scheme.lower() in ("ssh", "git+ssh") and ":" not in m.group("secret"):
                continue  # ssh://git@host: a user name, no secret
            found.append((reason, m.span("secret") if m.group("secret") else (m.end(), m.end())))
    return found


def credential_in(text: str) -> str | None:
    """Why ``text`` looks like it carries a credential, or None."""
    spans = _secret_spans(text)
    return spans[0][0] if spans else None


def _redact_text(text: str) -> str:
    """``text`` with the credential parts masked, the rest kept so that the value is recognisable."""
    for _ in range(8):  # masking one shape can reveal another (a header inside a flag)
        spans = {span for _, span in _secret_spans(text) if text[span[0] : span[1]] != "***"}
        if not spans:
            return text
        if not any(start < end for start, end in spans):
            return text  # a bare secret flag: its name is no secret (its value, the next arg, is)
        for start, end in sorted(spans, reverse=True):
            if start < end:
                text = text[:start] + "***" + text[end:]
    return "<redacted: looks like a credential>"


def _bare_flag(item: Any) -> bool:
    """A secret flag whose value is the next arg (``["--password", "..."]``)."""
    return isinstance(item, str) and any(a == b for _, (a, b) in _secret_spans(item))


def _secrets(value: Any) -> set[str]:
    """The secret parts of every string in ``value`` (to mask them wherever else they appear)."""
    if isinstance(value, str):
        return {value[a:b] for _, (a, b) in _secret_spans(value) if b - a >= 4}
    if isinstance(value, list | tuple):
        after_flag = {v for prev, v in itertools.pairwise(value) if _bare_flag(prev) and isinstance(v, str)}
        return set().union(*(_secrets(v) for v in value), {v for v in after_flag if len(v) >= 4})
    if isinstance(value, dict):
        return _secrets(list(value.values())) | _secrets(list(value))
    return set()


def _redact(value: Any) -> Any:
    """``value`` with every credential masked, for error messages."""
    if isinstance(value, str):
        return _redact_text(value) if credential_in(value) else value
    if isinstance(value, list | tuple):
        items = [_redact(v) for v in value]
        for i in range(1, len(items)):
            if _bare_flag(value[i - 1]) and isinstance(value[i], str):
                items[i] = "***"
        return type(value)(items)
    if isinstance(value, dict):
        return {_redact(k): _redact(v) for k, v in value.items()}
    return value


def _mask(text: str, secrets: set[str]) -> str:
    """A message part (problem, fix) with the value's secrets masked where it repeats them,
    also transformed (a normalised path keeps the user:token of a URL it swallowed)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _redact_text(text) if credential_in(text) else text


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
        secrets = _secrets(value)
        value = _redact(value)
        path, problem, fix = _mask(path, secrets), _mask(problem, secrets), _mask(fix, secrets)
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
