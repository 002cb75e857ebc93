"""cdk8s constructs for the Kubernetes multi-container design patterns.

Attach a pattern to a cdk8s-plus-27 ``Deployment`` in one line::

    SidecarGitSync(chart, "site", deployment=web, repo="https://github.com/example/site.git")
"""

from ._errors import CollisionError, ConstructsLibError, MainContainerError, PropsError
from ._git_sync import (
    GitAuth,
    GitSubmodules,
    GitSyncExechook,
    GitSyncWebhook,
    SidecarGitSync,
)
from ._metrics_adapter import MetricsAdapter, MetricsEndpoint
from ._metrics_sources import (
    JsonMetric,
    MetricsSource,
    StatsdMapping,
    StatsdMatchType,
    StatsdMetricType,
    StatsdObserver,
)
from ._pod import container_resources
from ._redis_ambassador import RedisAmbassador, RedisRoute

__all__ = [
    "CollisionError",
    "ConstructsLibError",
    "GitAuth",
    "GitSubmodules",
    "GitSyncExechook",
    "GitSyncWebhook",
    "JsonMetric",
    "MainContainerError",
    "MetricsAdapter",
    "MetricsEndpoint",
    "MetricsSource",
    "PropsError",
    "RedisAmbassador",
    "RedisRoute",
    "SidecarGitSync",
    "StatsdMapping",
    "StatsdMatchType",
    "StatsdMetricType",
    "StatsdObserver",
    "container_resources",
]
