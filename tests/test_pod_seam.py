"""The seam: every pod edit a pattern makes, its secure defaults and its collision checks."""

from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import constructs
import pytest

from constructs_lib import (
    CollisionError,
    MainContainerError,
    PodSecurityError,
    PropsError,
    SidecarGitSync,
    restricted_pod_security,
)
from constructs_lib._containers import (
    AddedContainer,
    ContainerSpec,
    HttpProbe,
    Mount,
    Port,
    container_resources,
    empty_dir,
    env_value,
)
from constructs_lib._pod import PodSeam

from .helpers import K8S_NEWEST, K8S_OLDEST, chart, containers, pod, synth, validate, web
from .pod_security import restricted_violations

WHERE = "test/pattern"


def spec(name: str = "side", **kw: object) -> ContainerSpec:
    base: dict[str, object] = {
        "name": name,
        "image": "example/side:1.0",
        "resources": container_resources(10, 100, 16, 32),
        "uid": 12345,
        "gid": 12345,
    }
    base.update(kw)
    return ContainerSpec(**base)  # type: ignore[arg-type]


class TestMainContainer:
    def test_the_only_container_is_the_main_one(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app"))
        assert seam.main_container(None, where=WHERE) == "app"

    def test_containers_added_by_the_library_are_never_candidates(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app"))
        seam.add_container(spec(), kind="sidecar", where=WHERE)
        assert PodSeam.of(seam.workload).main_container(None, where=WHERE) == "app"

    def test_several_containers_need_a_name(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app", "worker"))
        with pytest.raises(
            MainContainerError, match=r"test/pattern: container_name=None: .*\['app', 'worker'\]"
        ):
            seam.main_container(None, where=WHERE)
        assert seam.main_container("worker", where=WHERE) == "worker"

    def test_unknown_name_lists_the_choices(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app"))
        with pytest.raises(MainContainerError, match=r"container_name='api'.*Fix: use one of \['app'\]"):
            seam.main_container("api", where=WHERE)

    def test_empty_deployment(self) -> None:
        c = chart()
        seam = PodSeam.of(kplus.Deployment(c, "empty"))
        with pytest.raises(MainContainerError, match="add the application container"):
            seam.main_container(None, where=WHERE)


class TestAddContainer:
    def test_sidecar_gets_the_secure_defaults(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep).add_container(
            spec(ports=[Port("side-http", 9000)], liveness=HttpProbe(path="/healthz", port=9000)),
            kind="sidecar",
            where=WHERE,
        )
        side = containers(synth(c))["side"]
        assert side["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsGroup": 12345,
            "runAsNonRoot": True,
            "runAsUser": 12345,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        assert side["resources"] == {
            "limits": {"cpu": "100m", "memory": "32Mi"},
            "requests": {"cpu": "10m", "memory": "16Mi"},
        }
        assert side["imagePullPolicy"] == "Always"
        assert side["ports"] == [{"containerPort": 9000, "name": "side-http", "protocol": "TCP"}]
        assert side["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 9000, "scheme": "HTTP"}
        assert "startupProbe" not in side  # no automatic probe from cdk8s-plus
        validate(synth(c), K8S_OLDEST)

    def test_user_containers_are_left_alone(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(spec(), kind="sidecar", where=WHERE)
        app = containers(synth(c))["app"]
        assert "capabilities" not in app["securityContext"]

    def test_one_shot_init_container_has_no_probes_and_no_restart_policy(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(spec(liveness=HttpProbe(path="/", port=1)), kind="init", where=WHERE)
        init = containers(synth(c), "initContainers")["side"]
        assert "restartPolicy" not in init
        assert "livenessProbe" not in init
        assert init["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        validate(synth(c), K8S_OLDEST)

    def test_native_sidecar_is_an_init_container_that_keeps_running(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(
            spec(
                ports=[Port("side", 9000)],
                startup=HttpProbe(path="/", port=9000, period_seconds=2, failure_threshold=30),
            ),
            kind="native",
            where=WHERE,
        )
        docs = synth(c)
        init = containers(docs, "initContainers")["side"]
        assert init["restartPolicy"] == "Always"
        assert init["startupProbe"] == {
            "failureThreshold": 30,
            "httpGet": {"path": "/", "port": 9000, "scheme": "HTTP"},
            "initialDelaySeconds": 0,
            "periodSeconds": 2,
            "timeoutSeconds": 1,
        }
        assert "side" not in containers(docs)
        validate(docs, K8S_NEWEST)
        with pytest.raises(Exception, match="restartPolicy"):  # the 1.27 schema has no native sidecars
            validate(docs, K8S_OLDEST)

    def test_container_name_collision(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app"))
        with pytest.raises(CollisionError, match=r"name='app': a container of that name already exists"):
            seam.add_container(spec("app"), kind="sidecar", where=WHERE)

    def test_container_name_must_be_a_dns_label(self) -> None:
        seam = PodSeam.of(web(chart()))
        with pytest.raises(PropsError, match="DNS-1123"):
            seam.add_container(spec("Side_Car"), kind="sidecar", where=WHERE)

    def test_port_number_collision_with_the_app(self) -> None:
        seam = PodSeam.of(web(chart()))  # the app listens on 8080
        with pytest.raises(CollisionError, match=r"port=8080: container 'app' already uses TCP port 8080"):
            seam.add_container(spec(ports=[Port("side", 8080)]), kind="sidecar", where=WHERE)

    def test_same_number_on_another_protocol_is_fine(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(
            spec(ports=[Port("side-udp", 8080, kplus.Protocol.UDP)]), kind="sidecar", where=WHERE
        )
        validate(synth(c), K8S_OLDEST)

    def test_port_name_collision(self) -> None:
        seam = PodSeam.of(web(chart()))
        seam.add_container(spec("a", ports=[Port("metrics", 9000)]), kind="sidecar", where=WHERE)
        with pytest.raises(
            CollisionError, match="name='metrics': container 'a' already has a port of that name"
        ):
            seam.add_container(spec("b", ports=[Port("metrics", 9001)]), kind="sidecar", where=WHERE)

    @pytest.mark.parametrize("bad", ["a-very-long-port-name", "Metrics", "http--x", "1234", ""])
    def test_port_name_rules(self, bad: str) -> None:
        seam = PodSeam.of(web(chart()))
        with pytest.raises(PropsError, match="port name"):
            seam.add_container(spec(ports=[Port(bad, 9000)]), kind="sidecar", where=WHERE)

    def test_port_name_of_exactly_15_characters_is_accepted(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(spec(ports=[Port("a" * 15, 9000)]), kind="sidecar", where=WHERE)
        validate(synth(c), K8S_OLDEST)


class TestVolumesMountsEnv:
    def test_volume_name_collision(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c))
        seam.add_volume(empty_dir("data"), where=WHERE)
        with pytest.raises(CollisionError, match=r"name='data': a volume of that name already exists"):
            seam.add_volume(empty_dir("data"), where=WHERE)

    def test_volume_collision_with_a_volume_the_user_only_mounted(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].mount("/cache", kplus.Volume.from_empty_dir(c, "cache", "cache"))
        with pytest.raises(CollisionError, match="cache"):
            PodSeam.of(dep).add_volume(empty_dir("cache"), where=WHERE)

    def test_mount_path_collision(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].mount("/srv", kplus.Volume.from_empty_dir(c, "srv", "srv"))
        seam = PodSeam.of(dep)
        vol = seam.add_volume(empty_dir("content"), where=WHERE)
        with pytest.raises(
            CollisionError, match=r"mount_path='/srv': container 'app' already mounts volume 'srv'"
        ):
            seam.mount("app", Mount("/srv", vol), where=WHERE, prop="mount_path")

    def test_env_collision(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].env.add_variable("REDIS_URL", kplus.EnvValue.from_value("x"))
        with pytest.raises(CollisionError, match="REDIS_URL"):
            PodSeam.of(dep).add_env("app", "REDIS_URL", env_value("y"), where=WHERE, prop="env")


class TestPodLevel:
    def test_fs_group_is_set_when_absent(self) -> None:
        c = chart()
        assert PodSeam.of(web(c)).ensure_fs_group(65533) == 65533
        assert pod(synth(c))["securityContext"]["fsGroup"] == 65533

    def test_users_fs_group_wins(self) -> None:
        c = chart()
        dep = kplus.Deployment(c, "web", security_context=kplus.PodSecurityContextProps(fs_group=2000))
        dep.add_container(image="example/app:1")
        assert PodSeam.of(dep).ensure_fs_group(65533) == 2000
        assert pod(synth(c))["securityContext"]["fsGroup"] == 2000

    def test_config_hash_follows_the_config(self) -> None:
        def annotation(text: str) -> str:
            c = chart()
            PodSeam.of(web(c)).annotate_config_hash("envoy", text, where=WHERE)
            (dep,) = [d for d in synth(c) if d["kind"] == "Deployment"]
            return str(dep["spec"]["template"]["metadata"]["annotations"]["checksum/envoy"])

        assert annotation("a: 1") == annotation("a: 1")
        assert annotation("a: 1") != annotation("a: 2")

    def test_one_seam_per_workload(self) -> None:
        dep = web(chart())
        assert PodSeam.of(dep) is PodSeam.of(dep)

    def test_json_patches_by_the_user_still_apply(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep).add_container(spec(), kind="sidecar", where=WHERE)
        cdk8s.ApiObject.of(dep).add_json_patch(cdk8s.JsonPatch.add("/spec/revisionHistoryLimit", 3))
        (d,) = [d for d in synth(c) if d["kind"] == "Deployment"]
        assert d["spec"]["revisionHistoryLimit"] == 3

    def test_output_is_deterministic(self) -> None:
        def render() -> str:
            c = chart()
            seam = PodSeam.of(web(c))
            seam.add_container(spec(), kind="native", where=WHERE)
            seam.ensure_fs_group(1)
            return cdk8s.Testing.synth(c).__repr__()

        assert render() == render()


class TestSynthTimeRules:
    """Containers a user adds after a pattern are checked when the app synthesizes."""

    def test_a_container_added_later_with_a_taken_name(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep).add_container(spec("side"), kind="sidecar", where=WHERE)
        dep.add_container(name="side", image="example/other:1")
        with pytest.raises(
            CollisionError,
            match="a container named 'side', added to the Deployment after test/pattern attached",
        ):
            synth(c)

    def test_a_port_added_later_that_collides(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep).add_container(spec(ports=[Port("side", 9000)]), kind="sidecar", where=WHERE)
        dep.add_container(
            name="late", image="example/other:1", ports=[kplus.ContainerPort(number=9000, name="late")]
        )
        with pytest.raises(
            CollisionError,
            match="port=9000: container 'late' declares TCP port 9000, added to the Deployment after",
        ):
            synth(c)

    def test_a_long_port_name_added_later(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep)
        dep.containers[0].add_port(number=9100, name="prometheus-metrics")
        with pytest.raises(CollisionError) as err:
            synth(c)
        # The fix fits the cause (no pattern is involved).
        assert str(err.value) == (
            "test/web: ports='prometheus-metrics': container 'app': port name 'prometheus-metrics' is longer "
            "than 15 characters. Fix: use a port name of at most 15 characters (IANA_SVC_NAME)"
        )

    def test_a_valid_pod_passes(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(spec(ports=[Port("side", 9000)]), kind="sidecar", where=WHERE)
        validate(synth(c), K8S_OLDEST)


class TestUserState:
    def test_annotations_the_user_set_are_not_overwritten(self) -> None:
        c = chart()
        dep = web(c)
        dep.pod_metadata.add_annotation("prometheus.io/port", "8080")
        with pytest.raises(
            CollisionError, match="the Deployment's own pod metadata already sets this pod annotation"
        ):
            PodSeam.of(dep).annotate("prometheus.io/port", "9102", where=WHERE, prop="annotations")

    def test_metadata_added_through_the_api_object_survives(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep)
        cdk8s.ApiObject.of(dep).metadata.add_label("team", "web")
        cdk8s.ApiObject.of(dep).metadata.add_annotation("owner", "platform")
        (d,) = [d for d in synth(c) if d["kind"] == "Deployment"]
        assert d["metadata"]["labels"]["team"] == "web"
        assert d["metadata"]["annotations"] == {"owner": "platform"}

    def test_root_is_refused(self) -> None:
        with pytest.raises(PropsError, match="uid=0: containers this library adds never run as root"):
            PodSeam.of(web(chart())).add_container(spec(uid=0), kind="sidecar", where=WHERE)

    def test_long_volume_names_are_refused_not_truncated(self) -> None:
        c = chart()
        with pytest.raises(PropsError, match="not a DNS-1123 label"):
            PodSeam.of(web(c)).add_volume(empty_dir("a" * 62 + "-config"), where=WHERE)

    @pytest.mark.parametrize(
        ("values", "match"),
        [((0, 100, 16, 32), "cpu_request_m=0"), ((200, 100, 16, 32), "a request exceeds its limit")],
    )
    def test_container_resources_are_checked(self, values: tuple[int, int, int, int], match: str) -> None:
        with pytest.raises(PropsError, match=match):
            container_resources(*values)


class TestSecondReviewRules:
    def test_a_container_cannot_declare_one_port_twice(self) -> None:
        seam = PodSeam.of(web(chart()))
        with pytest.raises(CollisionError, match="the container would declare it twice"):
            seam.add_container(spec(ports=[Port("a", 9000), Port("a", 9001)]), kind="sidecar", where=WHERE)

    def test_a_user_port_on_a_loopback_port_is_caught(self) -> None:
        c = chart()
        dep = web(c)
        PodSeam.of(dep).reserve_loopback_port(9901, "proxy", where=WHERE, prop="admin_port")
        dep.add_container(name="other", image="example/o:1", ports=[kplus.ContainerPort(number=9901)])
        with pytest.raises(
            CollisionError, match="container 'other' declares a port that 'proxy' already binds"
        ):
            PodSeam.of(dep)  # the next pattern to attach
        with pytest.raises(
            CollisionError,
            match="admin_port=9901: container 'other' declares TCP port 9901, added to the Deployment after",
        ):
            synth(c)  # or at synth time

    def test_chart_labels_do_not_override_the_deployments_own(self) -> None:
        app = cdk8s.App()
        c = cdk8s.Chart(app, "c", labels={"team": "platform"})
        dep = kplus.Deployment(c, "web", metadata=cdk8s.ApiObjectMetadata(labels={"team": "web"}))
        dep.add_container(image="example/app:1")
        PodSeam.of(dep)
        (d,) = [d for d in synth(c) if d["kind"] == "Deployment"]
        assert d["metadata"]["labels"]["team"] == "web"


class TestRestrictedPodSecurity:
    """restricted_pod_security: the whole pod, containers added before and after it."""

    def test_hardens_every_container_including_later_ones(self) -> None:
        c = chart()
        dep = web(c)
        restricted_pod_security(dep)
        PodSeam.of(dep).add_container(spec(), kind="sidecar", where=WHERE)
        dep.add_container(
            name="late",
            image="example/late:1",
            security_context=kplus.ContainerSecurityContextProps(user=10002),
        )
        docs = synth(c)
        spec_ = pod(docs)
        assert spec_["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec_["securityContext"]["runAsNonRoot"] is True
        for name in ("app", "side", "late"):
            sc = containers(docs)[name]["securityContext"]
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            assert sc["allowPrivilegeEscalation"] is False, name
        assert not restricted_violations({"metadata": {}, "spec": spec_})
        validate(docs, K8S_OLDEST)

    def test_keeps_net_bind_service_spelled_as_the_policy_wants(self) -> None:
        c = chart()
        dep = kplus.Deployment(c, "web")
        dep.add_container(
            name="app",
            image="example/app:1",
            security_context=kplus.ContainerSecurityContextProps(
                capabilities=kplus.ContainerSecutiryContextCapabilities(
                    add=[kplus.Capability.NET_BIND_SERVICE]
                )
            ),
        )
        restricted_pod_security(dep)
        caps = containers(synth(c))["app"]["securityContext"]["capabilities"]
        assert caps == {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}

    @pytest.mark.parametrize(
        ("container_sc", "match"),
        [
            (
                kplus.ContainerSecurityContextProps(user=0),
                r"container 'app': runAsUser 0 \(root\) is not allowed",
            ),
            (
                kplus.ContainerSecurityContextProps(privileged=True, allow_privilege_escalation=True),
                r"container 'app': privileged: true is not allowed \(privileged\)",
            ),
            (kplus.ContainerSecurityContextProps(ensure_non_root=False), r"runAsNonRoot must be true"),
            (
                kplus.ContainerSecurityContextProps(
                    capabilities=kplus.ContainerSecutiryContextCapabilities(add=[kplus.Capability.NET_ADMIN])
                ),
                r"adds capabilities \['CAP_NET_ADMIN'\]; only NET_BIND_SERVICE may be added",
            ),
        ],
    )
    def test_refuses_what_cannot_comply(self, container_sc: Any, match: str) -> None:
        c = chart()
        dep = kplus.Deployment(c, "web")
        dep.add_container(name="app", image="example/app:1", security_context=container_sc)
        restricted_pod_security(dep)
        with pytest.raises(PodSecurityError, match=rf"test/web: restricted_pod_security=.*{match}"):
            synth(c)

    def test_refuses_host_path_volumes(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].mount("/host", kplus.Volume.from_host_path(c, "h", "host", path="/var/run"))
        restricted_pod_security(dep)
        with pytest.raises(PodSecurityError, match=r"volume 'host' is of type hostPath, which is not"):
            synth(c)

    def test_without_it_user_containers_are_left_alone(self) -> None:
        c = chart()
        PodSeam.of(web(c)).add_container(spec(), kind="sidecar", where=WHERE)
        found = restricted_violations({"metadata": {}, "spec": pod(synth(c))})
        assert set(found) == {"seccompProfile_restricted", "capabilities_restricted"}

    def test_wrong_type(self) -> None:
        with pytest.raises(PropsError, match="workload='str': not a cdk8s-plus-27 workload"):
            restricted_pod_security("web")  # type: ignore[arg-type]


class TestSynthTimeErrors:
    """A check that needs the final pod runs at synth; its error reaches app.synth()'s caller
    as the library's own type, with the library's message first and no node stack."""

    def test_a_late_collision_is_a_collision_error_from_app_synth(self, tmp_path: Any) -> None:
        app = cdk8s.App(outdir=str(tmp_path))
        c = cdk8s.Chart(app, "shop")
        dep = web(c)
        PodSeam.of(dep).add_container(spec("side"), kind="sidecar", where=WHERE)
        dep.add_container(name="side", image="example/late:1")
        with pytest.raises(CollisionError) as err:
            app.synth()
        assert str(err.value).startswith(
            "shop/web: name='side': a container named 'side', added to the Deployment after test/pattern"
        )
        assert (
            "Fix: remove or rename what you added to the Deployment, or pass name= another value to"
            in str(err.value)
        )
        assert err.value.__suppress_context__  # jsii's RuntimeError and node's stack are not shown
        assert not list(tmp_path.iterdir())  # nothing half-written

    def test_other_jsii_errors_are_untouched(self) -> None:
        with pytest.raises(RuntimeError, match="Duration amounts cannot be negative"):
            cdk8s.Duration.seconds(-1)


class TestOutputLevelRendering:
    """The seam writes its additions into the rendered pod at synth, where cdk8s-plus would
    have put them had they been added through cdk8s-plus."""

    def test_user_additions_after_a_pattern_keep_cdk8s_plus_order(self) -> None:
        c = chart()
        dep = web(c)
        site = SidecarGitSync(c, "site", workload=dep, repo="https://github.com/example/site.git")
        dep.add_container(name="late", image="example/late:1", ports=[kplus.ContainerPort(number=9999)])
        dep.containers[0].mount("/late", kplus.Volume.from_empty_dir(c, "late", "late"))
        dep.containers[0].env.add_variable("LATE", kplus.EnvValue.from_value("1"))
        docs = synth(c)
        validate(docs, K8S_OLDEST)
        spec = pod(docs)
        assert [x["name"] for x in spec["containers"]] == ["app", "git-sync", "late"]
        assert [x["name"] for x in spec["initContainers"]] == ["git-sync-init"]
        app = spec["containers"][0]
        assert [m["name"] for m in app["volumeMounts"]] == ["git-sync-root", "late"]
        # pod.ts _toPodSpec: the volumes of each container's mounts, in container order
        assert [v["name"] for v in spec["volumes"]] == ["git-sync-root", "late", "git-sync-tmp"]
        assert isinstance(site.container, AddedContainer)
        assert site.container.kind == "sidecar"
        assert site.container.spec == spec["containers"][1]  # the manifest's own container

    def test_a_patterns_volume_mounted_into_another_container_is_one_volume(self) -> None:
        c = chart()
        dep = web(c, "app", "reader")
        site = SidecarGitSync(
            c, "site", workload=dep, repo="https://github.com/example/site.git", container_name="app"
        )
        dep.containers[1].mount("/content", site.volume, read_only=True)
        docs = synth(c)
        validate(docs, K8S_OLDEST)
        volumes = [v["name"] for v in pod(docs)["volumes"]]
        assert volumes.count("git-sync-root") == 1
        assert site.main_container.name == "app"

    def test_workload_containers_lists_only_the_users(self) -> None:
        c = chart()
        dep = web(c)
        SidecarGitSync(c, "site", workload=dep, repo="https://github.com/example/site.git")
        assert [x.name for x in dep.containers] == ["app"]


class TestWhatTheSeamKeeps:
    """Peak memory (issue 11): a seam keeps what the patterns asked for, not renderings."""

    def test_the_index_lives_only_while_a_pattern_attaches(self) -> None:
        c = chart()
        dep = web(c, "app")
        SidecarGitSync(c, "site", workload=dep, repo="https://github.com/example/site.git")
        seam = PodSeam.of(dep, read=False)
        with pytest.raises(RuntimeError, match=r"PodSeam\.of\(workload\) before a pattern edits it"):
            seam.main_container(None, where=WHERE)
        assert PodSeam.of(dep).main_container(None, where=WHERE) == "app"  # read again
        assert seam.free_port(2020) == 2021  # what patterns took is kept: git-sync's port

    def test_an_added_container_is_rendered_afresh_on_each_read(self) -> None:
        c = chart()
        seam = PodSeam.of(web(c, "app"))
        added = seam.add_container(spec(args=["--a"]), kind="sidecar", where=WHERE)
        first = added.spec
        first["securityContext"]["capabilities"]["drop"].append("X")
        first["args"].append("--b")
        assert added.spec["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert added.args == ["--a"]
        assert containers(synth(c))["side"] == added.spec


@pytest.mark.parametrize("child_id", ["site", "a/b", "multi\nline", "x--y"])
def test_a_patterns_path_is_computed_as_constructs_does(child_id: str) -> None:
    """Patterns name themselves in errors by their path, computed without asking node."""
    from constructs_lib._checks import child_path

    c = chart()
    scope = constructs.Construct(c, "group")
    child = constructs.Construct(scope, child_id)
    assert child_path(scope, child_id) == child.node.path
    assert child_path(cdk8s.App(), "top") == cdk8s.Chart(cdk8s.App(), "top").node.path
