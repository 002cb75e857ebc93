"""cdk8s constructs for the Kubernetes multi-container design patterns.

Attach a pattern to any cdk8s-plus-27 workload in one line, and make the whole pod meet the
Pod Security Standard "restricted" in another::

    SidecarGitSync(chart, "site", workload=web, repo="https://github.com/example/site.git")
    restricted_pod_security(web)

and draw what a synthesized pod is made of: ``python -m constructs_lib describe dist/app.k8s.yaml``.
"""

# Before anything imports jsii: its Node process starts at the first `import cdk8s` and reads
# the environment once (see _node.py).
from . import _node  # noqa: F401  # isort: skip

# isort: split
from typing import TYPE_CHECKING, Any

from . import _synth
from ._containers import AddedContainer, container_resources
from ._errors import CollisionError, ConstructsLibError, MainContainerError, PodSecurityError, PropsError
from ._git_sync import DEFAULT_IMAGE as DEFAULT_GIT_SYNC_IMAGE
from ._git_sync import (
    GitAuth,
    GitGC,
    GitSubmodules,
    GitSyncExechook,
    GitSyncWebhook,
    SidecarGitSync,
)
from ._jmx_rules import JmxMetricType, JmxRule
from ._json_metrics import JsonMetric
from ._metrics_adapter import MetricsAdapter, MetricsDiscovery, MetricsEndpoint, PodMetricsEndpoint
from ._metrics_sources import (
    JSON_EXPORTER_IMAGE,
    NGINX_EXPORTER_IMAGE,
    REDIS_EXPORTER_IMAGE,
    STATSD_IMAGE,
    MetricsSource,
)
from ._pod import restricted_pod_security
from ._redis_ambassador import DEFAULT_ENVOY_IMAGE, DEFAULT_REDIS_IMAGE, Endpoint, RedisAmbassador, RedisRoute
from ._statsd_rules import StatsdMapping, StatsdMatchType, StatsdMetricType, StatsdObserver
from ._volume_claims import VolumeClaimTemplate, volume_claim_template
from ._web import nginx_server_config


def __getattr__(name: str) -> Any:
    """Loaded on first use, to keep ``import constructs_lib`` close to ``import cdk8s``
    (bench/README.md, import time): ``__version__`` (the installed distribution's version,
    from its metadata: importlib.metadata costs ~30 ms) and the pod pictures (``describe``,
    ``PodPicture``, ``PodPictures``, ``read_manifest``: PyYAML and the drawing code, ~35 ms)."""
    if name == "__version__":
        from importlib.metadata import version

        return version("constructs-lib")
    if name in ("describe", "PodPicture", "PodPictures", "read_manifest"):
        from . import _describe

        return getattr(_describe, name)
    raise AttributeError(f"module 'constructs_lib' has no attribute {name!r}")


if TYPE_CHECKING:
    from ._describe import PodPicture, PodPictures, describe, read_manifest


__all__ = [
    "DEFAULT_ENVOY_IMAGE",
    "DEFAULT_GIT_SYNC_IMAGE",
    "DEFAULT_REDIS_IMAGE",
    "JSON_EXPORTER_IMAGE",
    "NGINX_EXPORTER_IMAGE",
    "REDIS_EXPORTER_IMAGE",
    "STATSD_IMAGE",
    "AddedContainer",
    "CollisionError",
    "ConstructsLibError",
    "Endpoint",
    "GitAuth",
    "GitGC",
    "GitSubmodules",
    "GitSyncExechook",
    "GitSyncWebhook",
    "JmxMetricType",
    "JmxRule",
    "JsonMetric",
    "MainContainerError",
    "MetricsAdapter",
    "MetricsDiscovery",
    "MetricsEndpoint",
    "MetricsSource",
    "PodMetricsEndpoint",
    "PodPicture",
    "PodPictures",
    "PodSecurityError",
    "PropsError",
    "RedisAmbassador",
    "RedisRoute",
    "SidecarGitSync",
    "StatsdMapping",
    "StatsdMatchType",
    "StatsdMetricType",
    "StatsdObserver",
    "VolumeClaimTemplate",
    "container_resources",
    "describe",
    "nginx_server_config",
    "read_manifest",
    "restricted_pod_security",
    "volume_claim_template",
]

_synth.install()  # synth-time failures surface as the errors above


def _show_real_parameters() -> None:
    """``inspect.signature`` and ``help()`` of a pattern show its keyword props, not the
    ``(*args, **kwargs)`` of jsii's metaclass ``__call__`` (inspect reads ``__signature__`` first)."""
    import inspect

    for cls in (SidecarGitSync, RedisAmbassador, MetricsAdapter):
        init = inspect.signature(cls.__init__)
        cls.__signature__ = init.replace(parameters=list(init.parameters.values())[1:])


_show_real_parameters()
