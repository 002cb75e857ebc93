"""cdk8s constructs for the Kubernetes multi-container design patterns.

Attach a pattern to any cdk8s-plus-27 workload in one line, and make the whole pod meet the
Pod Security Standard "restricted" in another::

    SidecarGitSync(chart, "site", workload=web, repo="https://github.com/example/site.git")
    restricted_pod_security(web)

and draw what a synthesized pod is made of: ``python -m constructs_lib describe dist/app.k8s.yaml``.

``import constructs_lib`` loads only the errors: the patterns and everything else that needs
cdk8s (whose first import starts jsii's Node process, ~0.3-3 s) load on the first use of any
of their names (``constructs_lib.SidecarGitSync``, ``from constructs_lib import ...``), and the
pod pictures on the first use of theirs, so ``python -m constructs_lib describe`` never starts
Node. ``__all__`` lists every public name either way.
"""

# Before anything imports jsii: its Node process starts at the first `import cdk8s` and reads
# the environment once (see _node.py). Cheap (one os.environ.setdefault, no subprocess), and it
# must run here, at package import, so that a user's own
# `import cdk8s` after `import constructs_lib` finds the variable set too.
from . import _node  # noqa: F401  # isort: skip

# isort: split
import gc
import importlib
from typing import TYPE_CHECKING, Any

from ._errors import CollisionError, ConstructsLibError, MainContainerError, PodSecurityError, PropsError

#: Public names that need cdk8s, by the module that defines them (and the name there).
_CDK8S_NAMES: dict[str, tuple[str, str]] = {
    "AddedContainer": ("_containers", "AddedContainer"),
    "container_resources": ("_containers", "container_resources"),
    "DEFAULT_GIT_SYNC_IMAGE": ("_git_sync", "DEFAULT_IMAGE"),
    "GitAuth": ("_git_sync", "GitAuth"),
    "GitGC": ("_git_sync", "GitGC"),
    "GitSubmodules": ("_git_sync", "GitSubmodules"),
    "GitSyncExechook": ("_git_sync", "GitSyncExechook"),
    "GitSyncWebhook": ("_git_sync", "GitSyncWebhook"),
    "SidecarGitSync": ("_git_sync", "SidecarGitSync"),
    "JmxMetricType": ("_jmx_rules", "JmxMetricType"),
    "JmxRule": ("_jmx_rules", "JmxRule"),
    "JsonMetric": ("_json_metrics", "JsonMetric"),
    "MetricsAdapter": ("_metrics_adapter", "MetricsAdapter"),
    "MetricsDefaults": ("_metrics_adapter", "MetricsDefaults"),
    "metrics_defaults": ("_metrics_adapter", "metrics_defaults"),
    "MetricsDiscovery": ("_metrics_adapter", "MetricsDiscovery"),
    "MetricsEndpoint": ("_metrics_adapter", "MetricsEndpoint"),
    "PodMetricsEndpoint": ("_metrics_adapter", "PodMetricsEndpoint"),
    "JSON_EXPORTER_IMAGE": ("_metrics_sources", "JSON_EXPORTER_IMAGE"),
    "NGINX_EXPORTER_IMAGE": ("_metrics_sources", "NGINX_EXPORTER_IMAGE"),
    "REDIS_EXPORTER_IMAGE": ("_metrics_sources", "REDIS_EXPORTER_IMAGE"),
    "STATSD_IMAGE": ("_metrics_sources", "STATSD_IMAGE"),
    "MetricsSource": ("_metrics_sources", "MetricsSource"),
    "restricted_pod_security": ("_pod", "restricted_pod_security"),
    "DEFAULT_ENVOY_IMAGE": ("_redis_ambassador", "DEFAULT_ENVOY_IMAGE"),
    "DEFAULT_REDIS_IMAGE": ("_redis_ambassador", "DEFAULT_REDIS_IMAGE"),
    "Endpoint": ("_redis_ambassador", "Endpoint"),
    "RedisAmbassador": ("_redis_ambassador", "RedisAmbassador"),
    "RedisClusterTopology": ("_redis_ambassador", "RedisClusterTopology"),
    "RedisRoute": ("_redis_ambassador", "RedisRoute"),
    "RedisSentinelTopology": ("_redis_ambassador", "RedisSentinelTopology"),
    "RedisShard": ("_redis_ambassador", "RedisShard"),
    "StatsdMapping": ("_statsd_rules", "StatsdMapping"),
    "StatsdMatchType": ("_statsd_rules", "StatsdMatchType"),
    "StatsdMetricType": ("_statsd_rules", "StatsdMetricType"),
    "StatsdObserver": ("_statsd_rules", "StatsdObserver"),
    "VolumeClaimTemplate": ("_volume_claims", "VolumeClaimTemplate"),
    "volume_claim_template": ("_volume_claims", "volume_claim_template"),
    "nginx_server_config": ("_web", "nginx_server_config"),
    "apache_httpd_config": ("_web_apache", "apache_httpd_config"),
    "tomcat_context_config": ("_web_tomcat", "tomcat_context_config"),
    "python_server_command": ("_web_python", "python_server_command"),
}
#: The pod pictures: PyYAML and the drawing code (~35 ms), no cdk8s.
_DESCRIBE_NAMES = ("describe", "PodPicture", "PodPictures", "read_manifest")


def _load_cdk8s_names() -> None:
    """Import every module behind :data:`_CDK8S_NAMES` (this starts jsii's Node process) and bind
    their names here, so later uses are plain attribute reads; then wrap cdk8s's synth entry
    points (``_synth``) and fix the patterns' signatures. All at once: a partly loaded package
    would have synth errors surface or not depending on which name came first.

    The garbage collector is paused while the library's own modules load, and what they created
    is then frozen (``gc.freeze``): they live as long as the process, and a full collection that
    lands during the import would walk every object cdk8s and jsii created before it (~20 ms,
    issue 24's import figure) only to find none of them garbage."""
    from . import _synth  # imports cdk8s: its own import runs as it would without the library

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        names = {}
        for name, (module, attr) in _CDK8S_NAMES.items():
            names[name] = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
    _synth.install()  # synth-time failures surface as the library's errors
    _show_real_parameters(names["SidecarGitSync"], names["RedisAmbassador"], names["MetricsAdapter"])
    globals().update(names)


def __getattr__(name: str) -> Any:
    """Loaded on first use (PEP 562): the names that need cdk8s (see the module docstring),
    ``__version__`` (the installed distribution's version, from its metadata: importlib.metadata
    costs ~30 ms) and the pod pictures (``describe``, ``PodPicture``, ``PodPictures``,
    ``read_manifest``)."""
    if name in _CDK8S_NAMES:
        _load_cdk8s_names()
        return globals()[name]
    if name == "__version__":
        from importlib.metadata import version

        return version("constructs-lib")
    if name in _DESCRIBE_NAMES:
        from . import _describe

        return getattr(_describe, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The loaded names and every public one, loaded or not (``dir()``, completion)."""
    return sorted(set(globals()) | set(__all__))


def _show_real_parameters(*classes: Any) -> None:
    """``inspect.signature`` and ``help()`` of a pattern show its keyword props, not the
    ``(*args, **kwargs)`` of jsii's metaclass ``__call__`` (inspect reads ``__signature__`` first)."""
    import inspect

    for cls in classes:
        init = inspect.signature(cls.__init__)
        cls.__signature__ = init.replace(parameters=list(init.parameters.values())[1:])


if TYPE_CHECKING:
    from ._containers import AddedContainer, container_resources
    from ._describe import PodPicture, PodPictures, describe, read_manifest
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
    from ._metrics_adapter import (
        MetricsAdapter,
        MetricsDefaults,
        MetricsDiscovery,
        MetricsEndpoint,
        PodMetricsEndpoint,
        metrics_defaults,
    )
    from ._metrics_sources import (
        JSON_EXPORTER_IMAGE,
        NGINX_EXPORTER_IMAGE,
        REDIS_EXPORTER_IMAGE,
        STATSD_IMAGE,
        MetricsSource,
    )
    from ._pod import restricted_pod_security
    from ._redis_ambassador import (
        DEFAULT_ENVOY_IMAGE,
        DEFAULT_REDIS_IMAGE,
        Endpoint,
        RedisAmbassador,
        RedisClusterTopology,
        RedisRoute,
        RedisSentinelTopology,
        RedisShard,
    )
    from ._statsd_rules import StatsdMapping, StatsdMatchType, StatsdMetricType, StatsdObserver
    from ._volume_claims import VolumeClaimTemplate, volume_claim_template
    from ._web import nginx_server_config
    from ._web_apache import apache_httpd_config
    from ._web_python import python_server_command
    from ._web_tomcat import tomcat_context_config


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
    "MetricsDefaults",
    "MetricsDiscovery",
    "MetricsEndpoint",
    "MetricsSource",
    "PodMetricsEndpoint",
    "PodPicture",
    "PodPictures",
    "PodSecurityError",
    "PropsError",
    "RedisAmbassador",
    "RedisClusterTopology",
    "RedisRoute",
    "RedisSentinelTopology",
    "RedisShard",
    "SidecarGitSync",
    "StatsdMapping",
    "StatsdMatchType",
    "StatsdMetricType",
    "StatsdObserver",
    "VolumeClaimTemplate",
    "apache_httpd_config",
    "container_resources",
    "describe",
    "metrics_defaults",
    "nginx_server_config",
    "python_server_command",
    "read_manifest",
    "restricted_pod_security",
    "tomcat_context_config",
    "volume_claim_template",
]
