"""constructs_lib.pulumi under Pulumi's unit-testing mocks (no CLI, no cluster): each object of the chart
is registered once, with what `cdk8s synth` writes, under the component, with the options passed on."""

from __future__ import annotations

import json
import re
import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from pulumi.runtime.mocks import MockMonitor

from constructs_lib import CollisionError, PropsError, RedisAmbassador
from constructs_lib.pulumi import Cdk8sChart, KubernetesObject
from examples import all_patterns

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = [d for d in yaml.safe_load_all((ROOT / "tests/golden/all-patterns.k8s.yaml").read_text()) if d]
EXAMPLE = ROOT / "examples/pulumi/__main__.py"
#: Pulumi's marker of a secret value on the wire (pulumi/runtime/rpc.py, _special_secret_sig).
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
#: The key of a secret value's wire struct (pulumi.runtime.rpc: _special_sig_key).
SIG_KEY = "4dabf18193072939515e22adb298388d"

DEPLOYMENT = "all-patterns-web-c85b1f16"
NGINX_CONF = "all-patterns-nginx-conf-c8bd79b7"
CACHE_CONFIG = "all-patterns-cache-config-c88b031d"
POD_MONITOR = "all-patterns-metrics-pod-monitor-c8757b57"


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    request: Any  # the RegisterResourceRequest the engine would receive


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs  # the outputs of a Kubernetes object are its inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"no invoke expected, got {args.token}")


class RecordingMonitor(MockMonitor):
    """The mock engine, keeping every registration request (parent, dependencies, options)."""

    def __init__(self) -> None:
        super().__init__(Mocks())
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method's name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = self.resources[response.urn].state
            self.registrations.append(Registration(request.type, request.name, response.urn, inputs, request))
        return response

    def objects(self) -> list[Registration]:
        """The Kubernetes objects registered under a Cdk8sChart (not the provider or other resources)."""
        return [r for r in self.registrations if "::constructs-lib:index:Cdk8sChart$kubernetes:" in r.urn]


def run(program: Callable[[], Any]) -> tuple[RecordingMonitor, Any]:
    """Run ``program`` in a fresh Pulumi runtime with mocks; return the monitor and its resolved result."""
    monitor = RecordingMonitor()
    pulumi.runtime.set_mocks(Mocks(), monitor=monitor)
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def body() -> Any:
        return pulumi.Output.from_input(program()).apply(lambda value: result.setdefault("value", value))

    body()
    return monitor, result.get("value")


def all_patterns_component(**opts: Any) -> Cdk8sChart:
    return Cdk8sChart(
        "web", all_patterns.build(cdk8s.App()), pulumi.ResourceOptions(**opts) if opts else None
    )


def by_name(monitor: RecordingMonitor) -> dict[str, Registration]:
    return {r.name: r for r in monitor.objects()}


def test_every_object_is_registered_once_with_the_synth_content() -> None:
    monitor, _ = run(lambda: all_patterns_component().workload_names)
    objects = monitor.objects()
    # Requests reach the engine in the order their inputs resolve: compare sorted, each exactly once.
    assert sorted((r.type, r.name) for r in objects) == [
        ("kubernetes:apps/v1:Deployment", f"web-web/{DEPLOYMENT}"),
        ("kubernetes:core/v1:ConfigMap", f"web-web/{CACHE_CONFIG}"),
        ("kubernetes:core/v1:ConfigMap", f"web-web/{NGINX_CONF}"),
        ("kubernetes:monitoring.coreos.com/v1:PodMonitor", f"web-web/{POD_MONITOR}"),
    ]
    inputs = {r.inputs["metadata"]["name"]: r.inputs for r in objects}
    assert len(inputs) == len(GOLDEN) == 4
    for doc in GOLDEN:  # dict by dict, against the reviewed `cdk8s synth` output
        assert inputs[doc["metadata"]["name"]] == doc


def test_component_is_every_object_s_parent() -> None:
    monitor, _ = run(lambda: all_patterns_component().workload_names)
    (component,) = [r for r in monitor.registrations if r.type == "constructs-lib:index:Cdk8sChart"]
    assert component.name == "web"
    assert not component.request.custom
    assert len(monitor.registrations) == 5
    for r in monitor.objects():
        assert r.request.parent == component.urn, r.name
        assert r.urn.startswith("urn:pulumi:stack::project::constructs-lib:index:Cdk8sChart$kubernetes:")
        assert r.request.version == version("pulumi_kubernetes")  # the provider the typed classes pin


def test_names_and_content_are_the_same_on_every_run() -> None:
    first, _ = run(lambda: all_patterns_component().workload_names)
    second, _ = run(lambda: all_patterns_component().workload_names)

    def registered(monitor: RecordingMonitor) -> list[tuple[str, dict[str, Any]]]:
        return sorted(((r.urn, r.inputs) for r in monitor.objects()), key=lambda pair: pair[0])

    assert registered(first) == registered(second)


def test_options_reach_every_object() -> None:
    def program() -> Any:
        provider = k8s.Provider("cluster", namespace="ignored")
        before = k8s.core.v1.Namespace("web-namespace", metadata={"name": "web"})
        component = all_patterns_component(
            provider=provider,
            depends_on=[before],
            protect=True,
            ignore_changes=["spec.replicas"],
            retain_on_delete=True,
            custom_timeouts=pulumi.CustomTimeouts(create="3m"),
        )
        return pulumi.Output.all(provider.urn, before.urn, component.workload_names)

    monitor, (provider_urn, before_urn, _) = run(program)
    objects = by_name(monitor)
    configmaps = {objects[f"web-web/{n}"].urn for n in (NGINX_CONF, CACHE_CONFIG)}
    for r in objects.values():
        req = r.request
        assert req.provider.startswith(f"{provider_urn}::"), r.name  # inherited through parent
        assert req.protect is True, r.name  # inherited through parent
        assert list(req.ignoreChanges) == ["spec.replicas"]
        assert req.retainOnDelete is True
        assert req.customTimeouts.create == "3m"
        expected = {before_urn} if r.type == "kubernetes:core/v1:ConfigMap" else {before_urn, *configmaps}
        assert set(req.dependencies) == expected, r.name


def test_without_options_only_config_maps_come_first() -> None:
    monitor, _ = run(lambda: all_patterns_component().workload_names)
    objects = by_name(monitor)
    configmaps = {objects[f"web-web/{n}"].urn for n in (NGINX_CONF, CACHE_CONFIG)}
    assert set(objects[f"web-web/{DEPLOYMENT}"].request.dependencies) == configmaps
    assert set(objects[f"web-web/{POD_MONITOR}"].request.dependencies) == configmaps
    assert not objects[f"web-web/{NGINX_CONF}"].request.dependencies
    assert objects[f"web-web/{NGINX_CONF}"].request.protect is False


def test_outputs_tell_users_what_they_need() -> None:
    def program() -> Any:
        component = all_patterns_component()
        return pulumi.Output.all(
            component.workload_names, component.patterns, component.patterns["site"]["content_path"]
        )

    _, (names, patterns, content_path) = run(program)
    assert names == [DEPLOYMENT]
    assert content_path == "/srv/git/site/public"
    on_web = {"workload_kind": "Deployment", "workload_name": DEPLOYMENT}
    assert patterns == {
        "site": {
            "pattern": "SidecarGitSync",
            **on_web,
            "content_path": "/srv/git/site/public",
            "mount_path": "/srv/git",
            "repo": "https://github.com/example/site.git",
            "link": "site",
        },
        "cache": {
            "pattern": "RedisAmbassador",
            **on_web,
            "url": "redis://127.0.0.1:6379",
            "host": "127.0.0.1",
            "port": 6379,
        },
        "metrics": {
            "pattern": "MetricsAdapter",
            **on_web,
            "port": 9113,
            "port_name": "metrics",
            "scrape_path": "/metrics",
        },
    }


def test_python_attributes_hold_the_manifests_and_the_resources() -> None:
    def program() -> Any:
        component = all_patterns_component()
        assert component.manifests == GOLDEN
        assert sorted(component.resources) == sorted(
            [
                f"apps/v1/Deployment:web/{DEPLOYMENT}",
                f"v1/ConfigMap:web/{NGINX_CONF}",
                f"v1/ConfigMap:web/{CACHE_CONFIG}",
                f"monitoring.coreos.com/v1/PodMonitor:web/{POD_MONITOR}",
            ]
        )
        assert all(isinstance(r, KubernetesObject) for r in component.resources.values())
        return component.resources[f"apps/v1/Deployment:web/{DEPLOYMENT}"].metadata["name"]

    _, name = run(program)
    assert name == DEPLOYMENT


def secret_references(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("secretKeyRef", "secret") and isinstance(inner, dict):
                yield key, inner
            yield from secret_references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from secret_references(inner)


def test_secrets_stay_references() -> None:
    monitor, _ = run(lambda: all_patterns_component().workload_names)
    objects = monitor.objects()
    assert not [r for r in objects if r.type == "kubernetes:core/v1:Secret"]
    registered = [ref for r in objects for ref in secret_references(r.inputs)]
    assert registered == [ref for doc in GOLDEN for ref in secret_references(doc)]
    # The ambassador's upstream password: a volume from the Secret "redis", by name.
    assert registered == [
        (
            "secret",
            {"defaultMode": 288, "items": [{"key": "password", "path": "password"}], "secretName": "redis"},
        )
    ]
    for r in objects:
        assert SECRET_SIG not in str(r.request.object), r.name  # no value is secret, so none is stored


def test_a_secret_object_in_the_chart_is_encrypted_in_state() -> None:
    chart = cdk8s.Chart(cdk8s.App(), "app", namespace="app")
    kplus.Secret(chart, "token", string_data={"token": "s3cr3t"})
    monitor, _ = run(lambda: Cdk8sChart("app", chart).workload_names)
    (secret,) = monitor.objects()
    assert secret.type == "kubernetes:core/v1:Secret"
    assert list(secret.request.additionalSecretOutputs) == ["data", "stringData"]
    wire = secret.request.object.fields["stringData"].struct_value.fields
    assert wire[SIG_KEY].string_value == SECRET_SIG


def is_secret(wire: Any) -> bool:
    """A value the engine received as a Pulumi secret (its wire form: a struct with the secret signature)."""
    return bool(wire.struct_value.fields[SIG_KEY].string_value == SECRET_SIG)


def test_every_secret_shaped_value_is_encrypted_in_state() -> None:
    """kubectl's last-applied copy of a Secret, and the items of a v1 List or SecretList of Secrets,
    carry the values too (issue 19)."""
    chart = cdk8s.Chart(cdk8s.App(), "app", namespace="app")
    applied = json.dumps({"apiVersion": "v1", "kind": "Secret", "stringData": {"token": "s3cr3t"}})
    annotations = {"kubectl.kubernetes.io/last-applied-configuration": applied, "team": "web"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "t"},
        "stringData": {"token": "s3cr3t"},
    }
    kplus.Secret(
        chart,
        "token",
        string_data={"token": "s3cr3t"},
        metadata=cdk8s.ApiObjectMetadata(annotations=annotations),
    )
    for kind, items in (
        ("List", [secret]),
        ("SecretList", [secret]),
        ("List", [{"apiVersion": "v1", "kind": "ConfigMap"}]),
    ):
        cdk8s.ApiObject(
            chart, f"{kind}-{len(items)}-{items[0]['kind']}", api_version="v1", kind=kind
        ).add_json_patch(cdk8s.JsonPatch.add("/items", items))
    monitor, _ = run(lambda: Cdk8sChart("app", chart).workload_names)
    by_type = {(r.type, r.name.rsplit("/", 1)[-1][:6]): r for r in monitor.objects()}
    (secret_reg,) = [r for (t, _), r in by_type.items() if t == "kubernetes:core/v1:Secret"]
    meta = secret_reg.request.object.fields["metadata"].struct_value.fields["annotations"].struct_value.fields
    assert is_secret(meta["kubectl.kubernetes.io/last-applied-configuration"])
    assert meta["team"].string_value == "web"
    lists = sorted(
        (
            r.type,
            is_secret(r.request.object.fields["items"]),
            list(r.request.additionalSecretOutputs),
        )
        for r in monitor.objects()
        if r.type.endswith("List")
    )
    assert lists == [
        ("kubernetes:core/v1:List", False, []),
        ("kubernetes:core/v1:List", True, ["items"]),
        ("kubernetes:core/v1:SecretList", True, ["items"]),
    ]


def test_two_objects_with_one_name_are_a_collision() -> None:
    chart = cdk8s.Chart(cdk8s.App(), "app")
    for construct_id in ("a", "b"):
        cdk8s.ApiObject(chart, construct_id, api_version="v1", kind="ConfigMap", metadata={"name": "same"})
    with pytest.raises(CollisionError) as err:
        run(lambda: Cdk8sChart("app", chart).workload_names)
    assert str(err.value) == (
        "app: metadata.name='v1/ConfigMap:same': two objects of the chart have the same apiVersion, kind,"
        " namespace and name. Fix: rename one of them"
    )


def test_an_object_without_a_name_is_refused() -> None:
    chart = cdk8s.Chart(cdk8s.App(), "app")
    nameless = cdk8s.ApiObject(chart, "a", api_version="v1", kind="ConfigMap")
    nameless.add_json_patch(cdk8s.JsonPatch.remove("/metadata/name"))
    with pytest.raises(PropsError, match=r"app: ConfigMap\.metadata\.name=None: .* Fix: give the object"):
        run(lambda: Cdk8sChart("app", chart).workload_names)


def test_cdk8s_only_users_do_not_import_pulumi() -> None:
    import subprocess
    import sys

    code = "import sys, constructs_lib; assert 'pulumi' not in sys.modules, 'pulumi imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_example_program_registers_the_all_patterns_app(capsys: pytest.CaptureFixture[str]) -> None:
    def program() -> Any:
        web = runpy.run_path(str(EXAMPLE))["web"]
        return pulumi.Output.all(
            web.patterns["site"]["workload_name"],
            web.patterns["site"]["content_path"],
            web.patterns["cache"]["url"],
            web.patterns["metrics"]["port"],
        )

    monitor, exported = run(program)
    listing = sorted(f"{r.type} {r.name}" for r in monitor.registrations)
    with capsys.disabled():
        print("\nexamples/pulumi registered:", *listing, sep="\n  ")
    assert listing == [
        "constructs-lib:index:Cdk8sChart all-patterns",
        f"kubernetes:apps/v1:Deployment all-patterns-web/{DEPLOYMENT}",
        f"kubernetes:core/v1:ConfigMap all-patterns-web/{CACHE_CONFIG}",
        f"kubernetes:core/v1:ConfigMap all-patterns-web/{NGINX_CONF}",
        f"kubernetes:monitoring.coreos.com/v1:PodMonitor all-patterns-web/{POD_MONITOR}",
    ]
    assert exported == [DEPLOYMENT, "/srv/git/site/public", "redis://127.0.0.1:6379", 9113]


def test_readme_pulumi_snippet_runs() -> None:
    """The Pulumi page's program (fenced ``py``: it needs a Pulumi runtime) runs as written, here."""
    page = (ROOT / "docs" / "pulumi.md").read_text()
    (snippet,) = re.findall(r"^```py\n(.*?)^```", page, flags=re.S | re.M)

    def program() -> Any:
        namespace: dict[str, Any] = {"__name__": "__main__"}
        exec(compile(snippet, "docs/pulumi.md (Pulumi block)", "exec"), namespace)
        return namespace["shop"].patterns

    monitor, patterns = run(program)
    assert sorted(f"{r.type} {r.name}" for r in monitor.registrations) == [
        "constructs-lib:index:Cdk8sChart shop",
        "kubernetes:apps/v1:Deployment shop-shop/shop-web-c81100ac",
        "kubernetes:core/v1:ConfigMap shop-shop/shop-cache-config-c824a254",
    ]
    assert all(r.request.protect for r in monitor.objects())
    assert patterns["site"]["content_path"] == "/srv/git/site"
    assert patterns["cache"]["url"] == "redis://127.0.0.1:6379"


def test_a_pattern_in_another_chart_than_its_workload() -> None:
    """Issue 17: the library allows a pattern in another chart of the same namespace; the
    component of the pattern's chart crashed with a bare ``ValueError: not enough values to unpack``."""

    def program() -> Any:
        app = cdk8s.App()
        workloads = cdk8s.Chart(app, "workloads", namespace="shop")
        web = kplus.Deployment(workloads, "web")
        web.add_container(name="app", image="example/app:1", ports=[kplus.ContainerPort(number=8080)])
        patterns = cdk8s.Chart(app, "patterns", namespace="shop")
        RedisAmbassador(patterns, "cache", workload=web, primary="redis.data.svc:6379")
        Cdk8sChart("workloads", workloads)
        component = Cdk8sChart("patterns", patterns)
        return component.patterns

    _, patterns = run(program)
    assert patterns == {
        "cache": {
            "pattern": "RedisAmbassador",
            "workload_kind": "Deployment",
            "workload_name": "workloads-web-c89cea07",
            "url": "redis://127.0.0.1:6379",
            "host": "127.0.0.1",
            "port": 6379,
        }
    }
