"""Where each workload kind's document holds its pod template: plain data, no cdk8s, so that both
the seam (``_workload_kinds``) and ``describe`` (which must not start Node) read the one table."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Kind -> keys from the document to the pod template (metadata + spec); other kinds: the default.
TEMPLATE_PATH: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"Pod": (), "CronJob": ("spec", "jobTemplate", "spec", "template")}
)
DEFAULT_TEMPLATE_PATH = ("spec", "template")
