"""Synth-time failures reach Python as the library's own exceptions.

Some checks can only run when the app synthesizes: they see the final pod, with the
containers the user added after a pattern. They run in Python, but inside a callback from
node (cdk8s's ``App.synth`` renders each ApiObject through ``toJson``, which this library
overrides). jsii turns an exception raised in such a callback into a JavaScript error, and
the outer call then raises a bare ``RuntimeError`` whose traceback carries node's stack.
jsii keeps the original exception as that error's ``__context__`` (jsii/_kernel/__init__.py:
the callback's exception is being handled when the kernel's reply raises), so the entry
points below re-raise it: ``CollisionError`` stays a ``CollisionError``, with its message
and its Python traceback, and without node's stack.

Wrapped (once, when the library is imported): ``cdk8s.App.synth``, ``App.synth_yaml``,
``Chart.to_json``, ``Testing.synth``, ``Testing.synth_yaml`` (if present).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import cdk8s

from . import _checks
from ._errors import ConstructsLibError

_MARK = "__constructs_lib_surfaces_errors__"


def library_error(err: BaseException) -> ConstructsLibError | None:
    """The library error behind ``err`` (a jsii RuntimeError), if there is one."""
    seen: set[int] = set()
    node: BaseException | None = err
    while node is not None and id(node) not in seen:
        if isinstance(node, ConstructsLibError):
            return node
        seen.add(id(node))
        node = node.__context__ or node.__cause__
    return None


def _surfacing(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RuntimeError as err:
            ours = library_error(err)
            if ours is None:
                raise
            raise ours from None  # drop jsii's RuntimeError and node's stack

    setattr(wrapper, _MARK, True)
    return wrapper


def _releasing(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``App.synth()`` writes the app's files: the app is done, and the seams of the workloads it
    wrote let go of what the patterns added (``PodSeam.release``; issue 24, memory), and its charts
    of what the library remembered about them (``_checks.memo``: names, metrics_defaults)."""

    @functools.wraps(fn)
    def synth(app: cdk8s.App, *args: Any, **kwargs: Any) -> Any:
        from ._pod_output import collecting

        with collecting() as written:
            result = fn(app, *args, **kwargs)
        for output in written:
            output.release()
        if written:
            for chart in app.charts:
                _checks.forget(chart)
        return result

    return synth


def install() -> None:
    """Wrap cdk8s's synth entry points (idempotent)."""
    for cls, name in (
        (cdk8s.App, "synth"),
        (cdk8s.App, "synth_yaml"),
        (cdk8s.Chart, "to_json"),
        (cdk8s.Testing, "synth"),
    ):
        original = cls.__dict__.get(name)
        if original is None or getattr(original, _MARK, False):
            continue
        if isinstance(original, staticmethod | classmethod):
            wrapped = type(original)(_surfacing(original.__func__))
            setattr(cls, name, wrapped)
        elif cls is cdk8s.App and name == "synth":
            setattr(cls, name, _surfacing(_releasing(original)))
        else:
            setattr(cls, name, _surfacing(original))
