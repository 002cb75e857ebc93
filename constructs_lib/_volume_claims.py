"""Per-pod storage for a StatefulSet: a typed ``volumeClaimTemplates`` entry and its mounts.

cdk8s-plus-27 has no way to give a StatefulSet a claim template, and the usual workaround, a
JSON patch on the StatefulSet, loses the size: cdk8s rebuilds the object from its typed 1.27
model after the patches, and a ``storage: "1Gi"`` written into that patch comes out as
``requests: {}`` (REFERENCE.md section 2). The template and its mounts go through the pod seam
instead, written at synth as plain data, so the size is kept, and the claim is a volume of the
pod for every check the seam and the patterns make (a pattern's volume may not take its name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cdk8s
import cdk8s_plus_27 as kplus

from . import _checks
from ._containers import Mount
from ._errors import PropsError
from ._pod import PodSeam


@dataclass(frozen=True)
class VolumeClaimTemplate:
    """A claim template of ``workload`` (made by :func:`volume_claim_template`).

    Attributes:
        workload: the StatefulSet.
        name: the claim's name, also the volume name its pods mount (each pod gets its own
            PersistentVolumeClaim ``<name>-<statefulset>-<ordinal>``).
        storage: the requested size as the manifest writes it (``"10Gi"``).
    """

    workload: kplus.StatefulSet
    name: str
    storage: str

    def mount(self, container: kplus.Container, path: str, *, read_only: bool = False) -> None:
        """Mount the claim into ``container`` (one of the StatefulSet's own) at ``path``."""
        where = f"{self.workload.node.path}/{self.name}"
        seam = PodSeam.of(self.workload)
        name = _checks.text(
            where, "container", getattr(container, "name", None), fix="pass a kplus.Container"
        )
        seam.main_container(name, where=where, prop="container")  # one of the workload's app containers
        seam.mount(
            name,
            Mount(
                _checks.absolute_path(where, "path", path),
                self.name,
                _checks.boolean(where, "read_only", read_only),
            ),
            where=where,
            prop="path",
        )
        seam.done()


def volume_claim_template(
    statefulset: kplus.StatefulSet,
    name: str,
    *,
    storage: cdk8s.Size,
    access_modes: Sequence[kplus.PersistentVolumeAccessMode] = (
        kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE,
    ),
    storage_class_name: str | None = None,
) -> VolumeClaimTemplate:
    """Give ``statefulset`` a ``volumeClaimTemplates`` entry: per-pod storage that survives restarts.

    Mount it with :meth:`VolumeClaimTemplate.mount`::

        data = volume_claim_template(catalog, "data", storage=cdk8s.Size.gibibytes(10))
        data.mount(catalog_container, "/var/lib/catalog")

    Args:
        statefulset: a cdk8s-plus-27 StatefulSet.
        name: the claim's name (a DNS label), the volume name its containers mount.
        storage: the size each pod's claim requests (whole MiB at least).
        access_modes: default ``ReadWriteOnce``.
        storage_class_name: the StorageClass; default None (the cluster's default class).
    """
    base = _checks.workload("volume_claim_template", "statefulset", statefulset).node.path
    # The name is checked before it becomes part of the path the errors name.
    where = f"{base}/{_checks.dns_label(base, 'name', name)}"
    if not isinstance(statefulset, kplus.StatefulSet):
        raise PropsError(
            where,
            "statefulset",
            type(statefulset).__name__,
            "only a StatefulSet has volumeClaimTemplates",
            "pass a kplus.StatefulSet, or mount a kplus.Volume into the container",
        )
    size = _size(where, storage)
    modes = _access_modes(where, access_modes)
    spec: dict[str, object] = {"accessModes": modes, "resources": {"requests": {"storage": size}}}
    if storage_class_name is not None:
        spec["storageClassName"] = _checks.dns_subdomain(where, "storage_class_name", storage_class_name)
    seam = PodSeam.of(statefulset)
    seam.add_claim_template({"metadata": {"name": name}, "spec": spec}, where=where)
    seam.done()
    return VolumeClaimTemplate(statefulset, name, size)


def _size(where: str, storage: object) -> str:
    if not isinstance(storage, cdk8s.Size):
        raise PropsError(where, "storage", storage, "not a cdk8s.Size", "use e.g. cdk8s.Size.gibibytes(10)")
    try:
        mib = storage.to_mebibytes()
    except RuntimeError:  # cdk8s refuses a size that is not a whole number of MiB
        mib = None
    if not isinstance(mib, int | float) or mib != int(mib) or mib <= 0:
        raise PropsError(
            where, "storage", mib, "not a positive whole number of MiB", "use e.g. cdk8s.Size.gibibytes(10)"
        )
    mib = int(mib)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def _access_modes(where: str, modes: object) -> list[str]:
    if isinstance(modes, str) or not isinstance(modes, list | tuple) or not modes:
        raise PropsError(
            where,
            "access_modes",
            modes,
            "not a non-empty list",
            "pass e.g. [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE]",
        )
    for i, mode in enumerate(modes):
        if not isinstance(mode, kplus.PersistentVolumeAccessMode):
            raise PropsError(
                where,
                f"access_modes[{i}]",
                mode,
                "not a kplus.PersistentVolumeAccessMode",
                "use e.g. kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE",
            )
    # The enum's members are named as the API spells them, in upper snake case (READ_WRITE_ONCE).
    return list(dict.fromkeys("".join(w.capitalize() for w in m.name.split("_")) for m in modes))
