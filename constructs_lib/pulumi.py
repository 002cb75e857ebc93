"""Deploy a cdk8s chart built with the patterns from a Pulumi program.

Install with the extra, ``pip install 'constructs-lib[pulumi]'``; the rest of the library never imports
this module, so cdk8s-only users do not pull Pulumi::

    chart = cdk8s.Chart(cdk8s.App(), "web", namespace="web")
    ...  # SidecarGitSync(chart, "site", workload=web, ...), RedisAmbassador(...), MetricsAdapter(...)
    app = Cdk8sChart("web", chart)
    pulumi.export("content_path", app.patterns["site"]["content_path"])

Why one custom resource per object, and not ``pulumi_kubernetes.yaml.v2.ConfigGroup(objs=...)``:
ConfigGroup v2 is a *remote* component (``remote=True`` in pulumi_kubernetes/yaml/v2/ConfigGroup.py): the
kubernetes provider registers its children during ``Construct``, outside the program. A unit test with
``pulumi.runtime.set_mocks`` sees one opaque ConfigGroup, never the objects, and a user cannot name one
object in ``depends_on``. The legacy ``yaml.ConfigGroup`` (v1) registers its children inside ``apply``
callbacks, passes only ``parent`` on to them (``_get_child_options`` in pulumi_kubernetes/yaml/yaml.py),
and keeps only ``metadata`` and ``spec`` of a custom resource such as the PodMonitor. So each object is
registered here, in the program, as a :class:`KubernetesObject`: the type token of pulumi-kubernetes' own
class for that apiVersion/kind (``kubernetes:apps/v1:Deployment``, ``kubernetes:core/v1:ConfigMap``,
``kubernetes:monitoring.coreos.com/v1:PodMonitor``), the manifest exactly as ``cdk8s synth`` writes it as
its inputs, and the kubernetes provider plugin version of the installed pulumi_kubernetes. The provider
receives the same type and properties as from the typed classes, and no snake_case/camelCase round trip
can rename a key (a ConfigMap key, an annotation) on the way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources as _package_files
from typing import Any

import cdk8s

try:
    import pulumi
except ImportError as missing:  # pragma: no cover - depends on how the library was installed
    raise ImportError(
        "constructs_lib.pulumi needs Pulumi: pip install 'constructs-lib[pulumi]'"
        " (pulumi 3 and pulumi-kubernetes 4)"
    ) from missing

from . import _load_cdk8s_names
from ._errors import CollisionError, PropsError
from ._git_sync import SidecarGitSync
from ._metrics_adapter import MetricsAdapter
from ._redis_ambassador import RedisAmbassador

_load_cdk8s_names()  # synth errors surface as the library's, as after the first use of a public name

__all__ = [
    "COMPONENT_TYPE",
    "FOUNDATION_KINDS",
    "WORKLOAD_KINDS",
    "Cdk8sChart",
    "KubernetesObject",
    "object_key",
    "pulumi_type",
    "synth_chart",
]

#: The component's type token (package ``constructs-lib``, module ``index``).
COMPONENT_TYPE = "constructs-lib:index:Cdk8sChart"

#: Kinds every other object of the chart waits for: a pod cannot start before its ConfigMaps, Secrets
#: and ServiceAccount exist, and no object before its Namespace or CRD. (Pulumi creates resources
#: without dependencies in parallel; ConfigGroup v2 orders Namespaces and CRDs first the same way.)
FOUNDATION_KINDS = ("Namespace", "CustomResourceDefinition", "ServiceAccount", "ConfigMap", "Secret")

#: Kinds whose names :attr:`Cdk8sChart.workload_names` lists.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")

#: Options of the component that Pulumi does not pass on to children by itself. (``provider``,
#: ``providers``, ``protect`` and transforms are inherited through ``parent``: pulumi/resource.py,
#: ``Resource.__init__`` "Infer protection from parent" and ``_get_providers``.)
_PASSED_ON = (
    "depends_on",
    "ignore_changes",
    "custom_timeouts",
    "retain_on_delete",
    "delete_before_replace",
    "replace_on_changes",
)


def _kubernetes_plugin_version() -> str:
    """The provider version that pulumi-kubernetes' typed classes pin (``get_resource_opts_defaults``):
    the one in the package's pulumi-plugin.json, which the Pulumi engine also reads."""
    plugin = _package_files.files("pulumi_kubernetes").joinpath("pulumi-plugin.json").read_text()
    return str(json.loads(plugin)["version"])


def pulumi_type(api_version: str, kind: str) -> str:
    """pulumi-kubernetes' type token: ``kubernetes:<group>/<version>:<Kind>``, the core group as ``core``
    (``@pulumi.type_token("kubernetes:core/v1:ConfigMap")`` in pulumi_kubernetes/core/v1/ConfigMap.py;
    custom resources: ``f"kubernetes:{api_version}:{kind}"`` in apiextensions/CustomResource.py)."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


def object_key(manifest: Mapping[str, Any]) -> str:
    """``<apiVersion>/<Kind>:<namespace>/<name>`` (``:<name>`` when cluster-scoped), the key of
    :attr:`Cdk8sChart.resources` (the format of pulumi_kubernetes.yaml.ConfigGroup's ``resources``)."""
    meta = manifest["metadata"]
    where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    return f"{manifest['apiVersion']}/{manifest['kind']}:{where}"


def synth_chart(chart: cdk8s.Chart) -> list[dict[str, Any]]:
    """The objects of ``chart``, in order, exactly as ``cdk8s synth`` writes them to its file.

    ``Chart.toJson()`` is what ``App.synth()`` saves for each chart (cdk8s lib/app.js: ``synth`` saves
    ``Object.values(chart.toJson())``; ``_synthChart`` resolves dependencies and validates the whole app
    first). Objects of nested charts belong to those charts: give each chart its own component.
    """
    return [dict(doc) for doc in chart.to_json()]


class KubernetesObject(pulumi.CustomResource):
    """One Kubernetes object, managed by the kubernetes provider.

    Registered with pulumi-kubernetes' type token for its apiVersion/kind and the manifest as its inputs,
    verbatim. A Secret's ``data`` and ``stringData`` are Pulumi secrets, as in pulumi-kubernetes'
    Secret class (pulumi_kubernetes/core/v1/Secret.py: ``pulumi.Output.secret(data)`` and
    ``additional_secret_outputs=["data", "stringData"]``), so they are encrypted in the state.
    The patterns themselves only reference Secrets by name; they never put one in a chart.
    """

    metadata: pulumi.Output[Any]

    def __init__(
        self, resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props, secret_outputs = _secrets_marked(manifest)
        own = pulumi.ResourceOptions(version=_kubernetes_plugin_version())
        if secret_outputs:
            own.additional_secret_outputs = secret_outputs
        props.setdefault("status", None)  # an output only, as in the typed classes
        super().__init__(
            pulumi_type(manifest["apiVersion"], manifest["kind"]),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(own, opts),
        )


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _is_secret(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret"


def _secrets_marked(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``manifest``'s inputs with every Secret-shaped value a Pulumi secret, and the outputs to keep
    secret. A Secret's ``data`` and ``stringData``, and its ``last-applied-configuration`` annotation
    (kubectl's copy of the whole object, values included); the ``items`` of a ``v1 SecretList``, or of a
    ``v1 List`` that holds a Secret."""
    props: dict[str, Any] = dict(manifest)
    if _is_secret(manifest):
        for field in ("data", "stringData"):
            if field in props:
                props[field] = pulumi.Output.secret(props[field])
        meta = props.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
        if isinstance(annotations, Mapping) and _LAST_APPLIED in annotations:
            marked = {**annotations, _LAST_APPLIED: pulumi.Output.secret(annotations[_LAST_APPLIED])}
            props["metadata"] = {**meta, "annotations": marked}  # type: ignore[dict-item]
        return props, ["data", "stringData"]
    items = props.get("items")
    a_list = manifest.get("apiVersion") == "v1" and manifest.get("kind") in ("List", "SecretList")
    if (
        a_list
        and isinstance(items, list)
        and (manifest["kind"] == "SecretList" or any(map(_is_secret, items)))
    ):
        props["items"] = pulumi.Output.secret(items)
        return props, ["items"]
    return props, []


class Cdk8sChart(pulumi.ComponentResource):
    """A cdk8s chart as Pulumi resources: one :class:`KubernetesObject` per object ``cdk8s synth`` writes.

    Every object is a child of this component, with the logical name ``<name>-<namespace>/<object name>``
    (``<name>-<object name>`` when cluster-scoped), the convention of ConfigGroup v2's default
    ``resourcePrefix``. cdk8s object names are hashes of construct paths, so the names, and so the URNs,
    are the same on every run. ``opts`` are the component's; ``provider``, ``providers`` and ``protect``
    reach the objects through ``parent``, and ``depends_on``, ``ignore_changes``, ``custom_timeouts``,
    ``retain_on_delete``, ``delete_before_replace`` and ``replace_on_changes`` are passed to each object.
    Objects of the :data:`FOUNDATION_KINDS` are created before, and deleted after, the others.

    Attributes:
        manifests: the objects of the chart, as ``cdk8s synth`` writes them.
        resources: the registered objects by :func:`object_key`
            (``"apps/v1/Deployment:web/all-patterns-web-c85b1f16"``).
        workload_names: names of the Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods,
            in chart order; resolves once they are registered.
        patterns: what each pattern in the chart tells its users, by construct path relative to the
            chart (``"site"``): ``pattern`` (class name), ``workload_kind`` and ``workload_name`` for all;
            SidecarGitSync adds ``content_path``, ``mount_path``, ``repo``, ``link``; RedisAmbassador adds
            ``url``, ``host``, ``port``; MetricsAdapter adds ``port``, ``port_name``, ``scrape_path``.
            Index it like a dict: ``component.patterns["site"]["content_path"]``.
    """

    manifests: list[dict[str, Any]]
    resources: dict[str, KubernetesObject]
    workload_names: pulumi.Output[list[str]]
    patterns: pulumi.Output[dict[str, dict[str, Any]]]

    def __init__(self, name: str, chart: cdk8s.Chart, opts: pulumi.ResourceOptions | None = None) -> None:
        """Synthesize ``chart`` and register its objects.

        Args:
            name: the component's logical name, also the prefix of its objects' names.
            chart: a cdk8s chart (built with the patterns, or not).
            opts: the component's options; see the class docstring for what the objects receive.
        """
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.manifests = synth_chart(chart)
        self.resources = self._register(name, chart.node.path, opts or pulumi.ResourceOptions())
        self.workload_names = pulumi.Output.all(
            *[r.metadata["name"] for key, r in self.resources.items() if _kind_of(key) in WORKLOAD_KINDS]
        )
        self.patterns = pulumi.Output.all(**self._pattern_facts(chart))
        self.register_outputs({"workload_names": self.workload_names, "patterns": self.patterns})

    def _register(self, name: str, path: str, opts: pulumi.ResourceOptions) -> dict[str, KubernetesObject]:
        passed = {option: getattr(opts, option) for option in _PASSED_ON}
        depends_on = list(_as_list(passed.pop("depends_on")))
        registered: dict[str, KubernetesObject] = {}
        foundation: list[pulumi.Resource] = []
        # Foundation objects first, then the rest, each group in chart order.
        for first in (True, False):
            for manifest in self.manifests:
                if (manifest["kind"] in FOUNDATION_KINDS) != first:
                    continue
                key = _checked_key(path, manifest, registered)
                meta = manifest["metadata"]
                where = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
                child_opts = pulumi.ResourceOptions(
                    parent=self, depends_on=[*depends_on, *([] if first else foundation)], **passed
                )
                registered[key] = KubernetesObject(f"{name}-{where}", manifest, child_opts)
                if first:
                    foundation.append(registered[key])
        return registered

    def _pattern_facts(self, chart: cdk8s.Chart) -> dict[str, pulumi.Output[dict[str, Any]]]:
        facts: dict[str, pulumi.Output[dict[str, Any]]] = {}
        prefix = f"{chart.node.path}/"
        for construct in chart.node.find_all():
            if not isinstance(construct, (SidecarGitSync, RedisAmbassador, MetricsAdapter)):
                continue
            if cdk8s.Chart.of(construct) is not chart:
                continue
            workload = cdk8s.ApiObject.of(construct.workload)
            resource = self._find(workload.kind, workload.name)  # None: the workload is in another chart
            own: dict[str, Any] = {"pattern": type(construct).__name__, "workload_kind": workload.kind}
            if isinstance(construct, SidecarGitSync):
                own |= {
                    "content_path": construct.content_path,
                    "mount_path": construct.mount_path,
                    "repo": construct.repo,
                    "link": construct.link,
                }
            elif isinstance(construct, RedisAmbassador):
                own |= {"url": construct.url, "host": construct.host, "port": construct.port}
            else:
                own |= {
                    "port": construct.port,
                    "port_name": construct.port_name,
                    "scrape_path": construct.scrape_path,
                }
            key = construct.node.path.removeprefix(prefix)
            if resource is None:
                # The workload is registered by its own chart's component; its name is known.
                facts[key] = pulumi.Output.from_input(_with_workload_name(own)(workload.name))
            else:
                facts[key] = resource.metadata["name"].apply(_with_workload_name(own))
        return facts

    def _find(self, kind: str, name: str) -> KubernetesObject | None:
        """The registered workload ``kind``/``name`` of this chart, or None when a pattern of this
        chart attaches to a workload of another chart (the library allows it in the same namespace)."""
        for manifest in self.manifests:
            if manifest["kind"] == kind and manifest["metadata"]["name"] == name:
                return self.resources[object_key(manifest)]
        return None


def _with_workload_name(facts: dict[str, Any]) -> Callable[[str], dict[str, Any]]:
    return lambda workload_name: {**facts, "workload_name": workload_name}


def _kind_of(key: str) -> str:
    return key.split(":", 1)[0].rsplit("/", 1)[1]


def _as_list(value: Any) -> Sequence[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, Sequence) else [value]


def _checked_key(path: str, manifest: Mapping[str, Any], registered: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    if not meta.get("name"):
        raise PropsError(
            path,
            f"{manifest.get('kind')}.metadata.name",
            meta.get("name"),
            "Pulumi needs a name to tell objects apart and generateName is not supported",
            "give the object a metadata.name",
        )
    key = object_key(manifest)
    if key in registered:
        raise CollisionError(
            path,
            "metadata.name",
            key,
            "two objects of the chart have the same apiVersion, kind, namespace and name",
            "rename one of them",
        )
    return key
