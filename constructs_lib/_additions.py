"""What one pattern adds to a pod, as plain data.

Each pattern reads as props -> checks -> render -> attach: its checked props go through a pure
``render`` function that returns a :class:`PodAdditions` (containers, volumes, config and
Secret files, mounts and env in the app container, annotations, loopback ports, the fsGroup),
and :meth:`PodSeam.attach <constructs_lib._pod.PodSeam.attach>` checks all of it against the pod
(one :class:`~constructs_lib.CollisionError` listing every clash, before anything is added) and
adds it. Rendering needs no pod and no seam, so it is testable on its own; attaching is the same
few lines for every pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cdk8s_plus_27 as kplus

from ._containers import ContainerKind, ContainerSpec, EnvSource, Mount


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """Rendered config files: a ConfigMap whose volume ``<prefix>-config`` is mounted read-only
    at ``path`` (see :attr:`mount`); a ``checksum/<prefix>`` pod annotation rolls the pods when
    the text changes."""

    prefix: str
    files: Mapping[str, str]
    path: str

    @property
    def volume(self) -> str:
        return f"{self.prefix}-config"

    @property
    def mount(self) -> Mount:
        return Mount(self.path, self.volume, read_only=True)


@dataclass(frozen=True, slots=True)
class SecretFiles:
    """Keys of one Secret as files (``items``: key -> file name) in volume ``volume``, mounted
    read-only at ``path`` with file ``mode`` (see :attr:`mount`)."""

    volume: str
    secret: kplus.ISecret
    items: Mapping[str, str]
    path: str
    mode: int

    @property
    def mount(self) -> Mount:
        return Mount(self.path, self.volume, read_only=True)


@dataclass(frozen=True, slots=True)
class AppMount:
    """A volume mounted into the user's container ``container``; ``prop`` is named in errors."""

    container: str
    mount: Mount
    prop: str


@dataclass(frozen=True, slots=True)
class AppEnv:
    """An env variable set in the user's container ``container``; ``prop`` is named in errors."""

    container: str
    name: str
    value: EnvSource
    prop: str


@dataclass(frozen=True, slots=True)
class LoopbackPort:
    """A port a container binds on 127.0.0.1 only: reserved in the pod, never declared."""

    number: int
    prop: str
    protocol: kplus.Protocol = kplus.Protocol.TCP


@dataclass(frozen=True, slots=True)
class Annotation:
    key: str
    value: str
    prop: str


@dataclass(frozen=True, slots=True)
class PodAdditions:
    """Everything one pattern instance adds to a pod. Containers are added in order (as native
    sidecars, init containers start in order); volumes in the order: ``volumes``, the config
    volume, the Secret volumes."""

    #: The pattern's name: owner of its loopback ports, prefix of what it adds.
    owner: str
    containers: Sequence[tuple[ContainerSpec, ContainerKind]]
    volumes: Sequence[dict[str, object]] = ()
    config: ConfigFiles | None = None
    secrets: Sequence[SecretFiles] = ()
    app_mounts: Sequence[AppMount] = ()
    app_env: Sequence[AppEnv] = ()
    annotations: Sequence[Annotation] = ()
    loopback_ports: Sequence[LoopbackPort] = ()
    #: The pod's fsGroup when it has none (group read of Secret files, writes to the volumes).
    fs_group: int | None = None
    #: Pattern-level names unique per pod: (what, value, prop), e.g. a git-sync link.
    unique: Sequence[tuple[str, str, str]] = field(default=())
