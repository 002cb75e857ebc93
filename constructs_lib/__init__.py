"""cdk8s constructs for the Kubernetes multi-container design patterns.

Attach a pattern to any cdk8s-plus-27 workload in one line, and make the whole pod meet the
Pod Security Standard "restricted" in another::

    SidecarGitSync(chart, "site", workload=web, repo="https://github.com/example/site.git")
    restricted_pod_security(web)

and draw what a synthesized pod is made of: ``python -m constructs_lib describe dist/app.k8s.yaml``.
"""

from . import _synth
from ._describe import PodPicture, PodPictures, describe
from ._errors import CollisionError, ConstructsLibError, MainContainerError, PodSecurityError, PropsError
from ._git_sync import (
    GitAuth,
    GitSubmodules,
    GitSyncExechook,
    GitSyncWebhook,
    SidecarGitSync,
)
from ._metrics_adapter import MetricsAdapter, MetricsDiscovery, MetricsEndpoint, PodMetricsEndpoint
from ._metrics_sources import (
    JmxMetricType,
    JmxRule,
    JsonMetric,
    MetricsSource,
    StatsdMapping,
    StatsdMatchType,
    StatsdMetricType,
    StatsdObserver,
)
from ._pod import container_resources, restricted_pod_security
from ._redis_ambassador import RedisAmbassador, RedisRoute

__all__ = [
    "CollisionError",
    "ConstructsLibError",
    "GitAuth",
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
    "container_resources",
    "describe",
    "restricted_pod_security",
]

_synth.install()  # synth-time failures surface as the errors above
