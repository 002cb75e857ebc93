"""The stand-in for a workload's ApiObject: it renders the workload as cdk8s-plus does, then hands
the document to the seam (:meth:`PodSeam.apply_edits`) at synth.

Why a replacement ApiObject and not a JSON patch: ``KubeDeployment.toJson()`` rebuilds the object
from the typed 1.27 model *after* applying patches, which silently drops an init container's
``restartPolicy`` (see REFERENCE.md, section 2).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import cdk8s
import constructs

from . import _checks, _jsii_calls
from ._checks import Workload
from ._errors import ConstructsLibError
from ._workload_kinds import API_VERSIONS

if TYPE_CHECKING:
    from ._pod import PodSeam


#: Set on a workload once ``App.synth()`` wrote it (:meth:`PodSeam.release`): a flag in place of
#: its memo, so that nothing else of its app stays with it.
_RELEASED = "_constructs_lib_released"


def mark_released(workload: Workload) -> None:
    _checks.forget(workload)
    object.__setattr__(workload, _RELEASED, True)


def is_released(workload: Workload) -> bool:
    return bool(getattr(workload, _RELEASED, False))


def released_error(workload: constructs.Construct) -> ConstructsLibError:
    """A workload whose app ``App.synth()`` already wrote can be neither edited nor rendered again."""
    return ConstructsLibError(
        f"{workload.node.path}: App.synth() already wrote this {type(workload).__name__}, and constructs_lib "
        "let go of what its patterns added (so that a process building many apps stays flat). "
        "Fix: attach every pattern before App.synth(), and synthesize an App once; to synthesize "
        "again, build a new App (app.synth_yaml() and Chart.to_json() release nothing)"
    )


class PodOutput(cdk8s.ApiObject):
    """Stands in for a workload's ApiObject: renders it, then applies the seam's edits."""

    @classmethod
    def install(
        cls, workload: Workload, original: cdk8s.ApiObject, rendered: Mapping[str, Any], seam: PodSeam
    ) -> PodOutput:
        if rendered:  # what it is called, from the rendering (no round trip per field)
            api_version, kind, name = rendered["apiVersion"], rendered["kind"], rendered["metadata"]["name"]
        elif type(workload) in API_VERSIONS:
            (api_version, kind), name = API_VERSIONS[type(workload)], original.name
        else:
            api_version, kind, name = original.api_version, original.kind, original.name
        # cdk8s-plus's own workload classes name their ApiObject "Resource" (base.ts), the id
        # ApiObject.of finds first (constructs' defaultChild); for a subclass, which may set
        # another default child, read the id.
        # None of this changes how the original renders (_jsii_calls).
        with _jsii_calls.library_only():
            if type(workload) in API_VERSIONS and workload.node.try_remove_child("Resource"):
                child_id = "Resource"
            else:
                child_id = original.node.id
                workload.node.try_remove_child(child_id)
            return cls(workload, child_id, original, seam, api_version=api_version, kind=kind, name=name)

    def __init__(
        self,
        scope: constructs.Construct,
        id: str,
        original: cdk8s.ApiObject,
        seam: PodSeam,
        *,
        api_version: str,
        kind: str,
        name: str,
    ) -> None:
        super().__init__(
            scope, id, api_version=api_version, kind=kind, metadata=cdk8s.ApiObjectMetadata(name=name)
        )
        self.original = original
        #: None once App.synth() wrote the workload (:meth:`release`).
        self._seam: PodSeam | None = seam
        # What this stand-in's metadata holds now: the name, the chart's namespace and labels
        # (api-object.ts); only later additions through cdk8s.ApiObject.of(deployment).metadata
        # are carried over to the output. The chart's labels are read when that matters
        # (to_json, once someone fetched the metadata): two round trips saved per workload.
        self._scope = scope

    def render_original(self) -> dict[str, Any]:
        """The workload as cdk8s-plus renders it: one round trip to node, or none when nothing
        that could change it ran since the last rendering (``_jsii_calls``). Read-only: the
        document may be handed out again."""
        kept = self._kept()
        if kept is not None:
            return kept
        generation, callbacks = _jsii_calls.generation(), _jsii_calls.callbacks()
        doc = render(self.original)
        self.keep(doc, generation, callbacks)
        return doc

    def keep(self, doc: dict[str, Any], generation: int, callbacks: int) -> None:
        """Keep ``doc``, the original's rendering as of ``generation``, for reuse. A rendering that
        called back into Python (a user's cdk8s.Lazy: its answer may change with no request at all;
        ``callbacks`` is the count before it) or that failed (``{}``, which must fail again at synth
        with node's message) is not kept."""
        global _last
        _last = (generation, self, doc) if doc and _jsii_calls.callbacks() == callbacks else None

    def _kept(self) -> dict[str, Any] | None:
        """The kept rendering if it is this workload's and nothing could have changed it since."""
        if _last is not None and _last[0] == _jsii_calls.generation() and _last[1] is self:
            return _last[2]
        return None

    def _original_json(self) -> Any:
        """The original's document for synth, to edit: the kept rendering (handed over once),
        else a new one."""
        global _last
        kept = self._kept()
        if kept is None:
            return self.original.to_json()
        _last = None
        return kept

    def to_json(self) -> Any:
        if self._seam is None:
            raise released_error(self._scope)
        if _synthesized is not None:
            _synthesized.append(self)
        doc = self._original_json()
        # Labels and annotations added through cdk8s.ApiObject.of(deployment).metadata land
        # on this stand-in; carry them over. The stand-in has nothing but its metadata (its
        # patches go to the original), so rendering it is one round trip (metadata, then its
        # toJson, would be two), and none when no one ever read its metadata from Python.
        if not _jsii_calls.metadata_read(self):
            return self._seam.apply_edits(doc)
        own = super().to_json().get("metadata", {})
        initial: dict[str, Any] = {"labels": dict(_checks.chart_labels(self._scope))}
        for key in ("labels", "annotations"):
            before = initial.get(key, {})
            added = {k: v for k, v in own.get(key, {}).items() if before.get(k) != v}
            if added:
                doc["metadata"][key] = dict(sorted({**doc["metadata"].get(key, {}), **added}.items()))
        for key in ("finalizers", "ownerReferences"):
            if own.get(key) and own.get(key) != initial.get(key):
                doc["metadata"][key] = own[key]
        return self._seam.apply_edits(doc)

    def release(self) -> None:
        """``App.synth()`` wrote this workload: let go of what the seam holds (``collecting``)."""
        global _last
        if _last is not None and _last[1] is self:
            _last = None
        if self._seam is not None:
            self._seam.release()
            self._seam = None

    def add_json_patch(self, *ops: cdk8s.JsonPatch) -> None:
        # Patches made through cdk8s.ApiObject.of(deployment) keep working.
        self.original.add_json_patch(*ops)


#: The stand-ins rendered by the ``App.synth()`` running now (``collecting``), else None.
_synthesized: list[PodOutput] | None = None


@contextmanager
def collecting() -> Iterator[list[PodOutput]]:
    """The stand-ins rendered inside this block: the workloads of the app being synthesized."""
    global _synthesized
    outer, _synthesized = _synthesized, []
    try:
        yield _synthesized
    finally:
        _synthesized = outer


#: The last rendering of a workload: (generation, stand-in, document); one slot, so at most one
#: document is kept (issue 24, memory).
_last: tuple[int, PodOutput, dict[str, Any]] | None = None


def render(api_object: cdk8s.ApiObject) -> dict[str, Any]:
    try:
        return dict(api_object.to_json())
    except RuntimeError:  # cdk8s-plus cannot render a pod without containers yet
        return {}
