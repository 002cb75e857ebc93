"""Whether the program can have changed a workload since the seam last rendered it.

Rendering a workload (``KubeDeployment.toJson()``) is the seam's dearest read: one round trip to
node carrying the whole document (~355 values, 1.3-1.7 ms, issue 24). The seam renders when a
pattern attaches, to see what the user added in between, and again when the app synthesizes. When
nothing but the library and reads ran in between, that render would return the document it already
has. This module tells: every request Python sends to jsii's node process passes through
``jsii._kernel`` ``Kernel.provider`` (jsii/_kernel/__init__.py: ``Kernel.create``, ``get``, ``set``,
``invoke``, ``sinvoke``... each calls ``self.provider.<verb>(<Verb>Request)``), so the provider's
verbs are wrapped to count the requests that may change something: :func:`generation` moves on each.

What does not count (everything else does, including request kinds a later jsii adds):

* reads: ``GetRequest``/``StaticGetRequest`` (a property read), and the rendering methods
  (``toJson``, ``synth``, ``synthYaml``; see ``_READ_METHODS``);
* jsii's own bookkeeping: ``LoadRequest``, ``StatsRequest``, ``GetScriptCommandRequest``, and the
  answers to node's callbacks (``CompleteRequest``): a callback's own requests count by themselves;
* creating a bare ``constructs.Construct`` (an empty scope: each pattern is one);
* requests the library sends inside :func:`library_only`, which it uses only around requests that
  cannot change a workload's rendering (a pattern's ConfigMap, the PodMonitor, the stand-in).

A ``get`` of ``metadata``, and an ``addJsonPatch`` on the object itself, are remembered by object
reference (:func:`metadata_read`): from Python, an ApiObject's own metadata changes only through
that property or a patch, so the stand-in (``_pod_output.py``) re-reads its own metadata at synth
only when one of them reached it. A callback into Python during a request inside
:func:`library_only` moves the generation: user code ran there, uncounted.

If jsii's provider is not what this module expects, nothing is wrapped and :func:`generation`
moves on every call: the seam then renders every time, as before (slower, never wrong).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Request kinds that cannot change anything in node.
_READS = frozenset(
    {"GetRequest", "StaticGetRequest", "LoadRequest", "StatsRequest", "GetScriptCommandRequest"}
)
_ANSWERS = frozenset({"CompleteRequest", "_CompleteRequest"})
#: Methods that render (cdk8s: ApiObject/Chart ``toJson``, App ``synth``/``synthYaml``, Testing
#: ``synth``): they read the tree and write files, and change no object's rendering.
_READ_METHODS = frozenset({"toJson", "synth", "synthYaml"})
_BARE_CONSTRUCT = "constructs.Construct"

_counter = itertools.count(1)
_generation = 0
_library_only = 0
_installed = False
#: How many times node called back into Python while answering a request (a render that did
#: ran Python code, e.g. a user's cdk8s.Lazy producer, whose answer can change without any request).
_callbacks = 0
#: References (``ObjRef.ref``) of the objects whose ``metadata`` property Python has read.
_metadata_read: set[str] = set()


def generation() -> int:
    """A number that moves on whenever a request that may change a workload was sent."""
    return _generation if _installed else next(_counter)


def callbacks() -> int:
    """How many requests so far were answered with a callback into Python (see ``_callbacks``)."""
    return _callbacks if _installed else next(_counter)


def metadata_read(obj: Any) -> bool:
    """Whether Python ever read ``obj.metadata`` or patched ``obj`` itself (a jsii object); True
    when it cannot tell."""
    ref = getattr(getattr(obj, "__jsii_ref__", None), "ref", None)
    return not _installed or ref is None or ref in _metadata_read


@contextmanager
def library_only() -> Iterator[None]:
    """The library's own requests, none of which can change a workload's rendering."""
    global _library_only
    _library_only += 1
    try:
        yield
    finally:
        _library_only -= 1


def _changes(request: Any) -> bool:
    kind = type(request).__name__
    if kind in _READS:
        if kind == "GetRequest" and getattr(request, "property", None) == "metadata":
            _metadata_read.add(request.objref.ref)
        return False
    if kind == "InvokeRequest" and getattr(request, "method", None) == "addJsonPatch":
        # A patch on the object itself: cdk8s.ApiObject.add_json_patch(stand_in, ...) reaches the
        # stand-in's own jsii method, past its Python override (which forwards to the original).
        _metadata_read.add(request.objref.ref)
    if kind in _ANSWERS or _library_only:
        return False
    if kind in ("InvokeRequest", "StaticInvokeRequest"):
        return getattr(request, "method", None) not in _READ_METHODS
    if kind == "CreateRequest":
        return getattr(request, "fqn", None) != _BARE_CONSTRUCT or bool(getattr(request, "overrides", None))
    return True


def _counting(verb: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(verb)
    def send(request: Any, *args: Any, **kwargs: Any) -> Any:
        global _generation, _callbacks
        if _changes(request):
            _generation = next(_counter)
        response = verb(request, *args, **kwargs)
        if type(response).__name__ == "Callback":
            _callbacks += 1
            if _library_only:
                # Node calls back into Python during one of the library's own requests (a user's
                # Chart subclass overriding generate_object_name, say): user code runs, and its
                # requests would not be counted inside library_only.
                _generation = next(_counter)
        return response

    return send


def install() -> None:
    """Wrap the verbs of jsii's provider (once per process)."""
    global _installed
    if _installed:
        return
    try:
        from jsii._runtime import kernel

        provider = kernel.provider
        verbs = [
            name
            for name in dir(type(provider))
            if not name.startswith("_") and callable(getattr(type(provider), name))
        ]
    except (ImportError, AttributeError):  # another jsii: render every time
        return
    if "invoke" not in verbs or "create" not in verbs or "get" not in verbs:
        return
    for name in verbs:
        setattr(provider, name, _counting(getattr(provider, name)))
    _installed = True
