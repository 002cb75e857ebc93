"""SidecarGitSync: what lands in the pod for each option, and the error for each bad input."""

from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest

from constructs_lib import (
    CollisionError,
    GitAuth,
    GitGC,
    GitSubmodules,
    GitSyncExechook,
    GitSyncWebhook,
    MainContainerError,
    PropsError,
    SidecarGitSync,
    container_resources,
)

from .helpers import K8S_NEWEST, K8S_OLDEST, chart, containers, kind, pod, synth, validate, web

REPO = "https://github.com/example/site.git"


def attach(
    c: cdk8s.Chart | None = None, dep: kplus.Deployment | None = None, **kw: Any
) -> tuple[cdk8s.Chart, SidecarGitSync]:
    c = c or chart()
    dep = dep or web(c)
    kw.setdefault("repo", REPO)
    return c, SidecarGitSync(c, "site", deployment=dep, **kw)


def args(c: cdk8s.Chart, name: str = "git-sync", key: str = "containers") -> list[str]:
    return list(containers(synth(c), key)[name]["args"])


class TestDefaults:
    def test_sidecar_args(self) -> None:
        c, _ = attach()
        assert args(c) == [
            "--repo=https://github.com/example/site.git",
            "--ref=HEAD",
            "--root=/git",
            "--link=site",
            "--period=10s",
            "--depth=1",
            # Through a git host outage the sidecar keeps running (git-sync's default 0 exits).
            "--max-failures=-1",
            "--http-bind=:2020",
            "--http-metrics",
        ]

    def test_initial_sync_runs_once_before_the_app(self) -> None:
        c, gs = attach()
        assert args(c, "git-sync-init", "initContainers") == [
            "--repo=https://github.com/example/site.git",
            "--ref=HEAD",
            "--root=/git",
            "--link=site",
            "--period=10s",
            "--depth=1",
            "--one-time",
        ]
        assert gs.init_container is not None
        assert gs.init_container.name == "git-sync-init"

    def test_volumes_and_mounts(self) -> None:
        c, gs = attach()
        docs = synth(c)
        spec = pod(docs)
        assert spec["volumes"] == [
            {"emptyDir": {}, "name": "git-sync-root"},
            {"emptyDir": {"sizeLimit": "64Mi"}, "name": "git-sync-tmp"},
        ]
        side = containers(docs)["git-sync"]
        assert side["volumeMounts"] == [
            {"mountPath": "/git", "name": "git-sync-root", "readOnly": False},
            {"mountPath": "/tmp", "name": "git-sync-tmp", "readOnly": False},
        ]
        # The app sees the whole volume read-only, never a subPath of the swapped link.
        assert containers(docs)["app"]["volumeMounts"] == [
            {"mountPath": "/srv/git", "name": "git-sync-root", "readOnly": True}
        ]
        assert spec["securityContext"]["fsGroup"] == 65533
        assert gs.content_path == "/srv/git/site"
        assert gs.volume.name == "git-sync-root"

    def test_sidecar_is_hardened_with_probes_and_small_resources(self) -> None:
        c, _ = attach()
        side = containers(synth(c))["git-sync"]
        assert side["image"] == "registry.k8s.io/git-sync/git-sync:v4.7.1"
        assert side["securityContext"]["runAsUser"] == 65533
        assert side["securityContext"]["readOnlyRootFilesystem"] is True
        assert side["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert side["resources"] == {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "10m", "memory": "64Mi"},
        }
        assert side["ports"] == [{"containerPort": 2020, "name": "git-sync", "protocol": "TCP"}]
        # Nothing gates the pod's readiness on the git remote: "/" answers 503 after every
        # restart until a fetch succeeds, so the probes only check that git-sync listens.
        for probe in ("livenessProbe", "readinessProbe"):
            assert side[probe]["tcpSocket"] == {"port": 2020}
        # The init container already made the content exist: no startup probe on the sidecar.
        assert "startupProbe" not in side

    def test_valid_on_oldest_and_newest_kubernetes(self) -> None:
        c, _ = attach()
        validate(synth(c), K8S_OLDEST)
        validate(synth(c), K8S_NEWEST)


class TestOptions:
    def test_ref_period_depth_link_serve_dir(self) -> None:
        c, gs = attach(
            ref="v1.2.0", period=cdk8s.Duration.millis(1500), depth=0, link="current", serve_dir="site/public"
        )
        assert args(c)[1:6] == [
            "--ref=v1.2.0",
            "--root=/git",
            "--link=current",
            "--period=1500ms",
            "--depth=0",
        ]
        assert gs.content_path == "/srv/git/current/site/public"

    def test_link_defaults_to_the_repo_name(self) -> None:
        assert attach(repo="git@github.com:org/docs.git", auth=ssh_auth())[1].link == "docs"
        assert attach(repo="file:///srv/repos/handbook")[1].link == "handbook"

    def test_mount_path(self) -> None:
        c, gs = attach(mount_path="/usr/share/nginx/html")
        assert containers(synth(c))["app"]["volumeMounts"][0]["mountPath"] == "/usr/share/nginx/html"
        assert gs.content_path == "/usr/share/nginx/html/site"

    def test_git_gc(self) -> None:
        c, _ = attach(git_gc=GitGC.AUTO)
        assert "--git-gc=auto" in args(c)
        assert "--git-gc=auto" in args(c, "git-sync-init", "initContainers")
        assert "--git-gc=off" in args(attach(git_gc="off")[0])
        assert not any(a.startswith("--git-gc") for a in args(attach()[0]))  # git-sync's default
        with pytest.raises(PropsError, match=r"git_gc='never': not a GitGC. Fix: use one of 'auto', "):
            attach(git_gc="never")
        with pytest.raises(PropsError, match=r"extra_args='--git-gc': the library sets this flag"):
            attach(extra_args=["--git-gc=off"])

    def test_submodules_max_failures_sync_timeout(self) -> None:
        c, _ = attach(
            submodules=GitSubmodules.SHALLOW, max_failures=-1, sync_timeout=cdk8s.Duration.minutes(5)
        )
        a = args(c)
        assert "--submodules=shallow" in a
        assert "--max-failures=-1" in a
        assert "--sync-timeout=300s" in a
        assert "--submodules=shallow" in args(c, "git-sync-init", "initContainers")

    def test_sparse_checkout_is_rendered_to_a_config_map(self) -> None:
        c, gs = attach(sparse_checkout=["/public/", "!/public/drafts/"])
        docs = synth(c)
        (cm,) = kind(docs, "ConfigMap")
        assert cm["data"] == {"sparse-checkout": "/public/\n!/public/drafts/\n"}
        assert "--sparse-checkout-file=/etc/git-sync/sparse-checkout" in args(c)
        side = containers(docs)["git-sync"]
        assert {"mountPath": "/etc/git-sync", "name": "git-sync-config", "readOnly": True} in side[
            "volumeMounts"
        ]
        (dep,) = kind(docs, "Deployment")
        assert "checksum/git-sync" in dep["spec"]["template"]["metadata"]["annotations"]
        assert gs.config_map is not None

    def test_sparse_checkout_change_rolls_the_pods(self) -> None:
        def checksum(patterns: list[str]) -> str:
            c, _ = attach(sparse_checkout=patterns)
            (dep,) = kind(synth(c), "Deployment")
            return str(dep["spec"]["template"]["metadata"]["annotations"]["checksum/git-sync"])

        assert checksum(["/a/"]) != checksum(["/b/"])

    def test_webhook_only_in_the_looping_sidecar(self) -> None:
        c, _ = attach(
            webhook=GitSyncWebhook(
                url="http://127.0.0.1:8080/reload",
                success_status=204,
                timeout=cdk8s.Duration.seconds(2),
                backoff=cdk8s.Duration.seconds(5),
            )
        )
        assert args(c)[-5:] == [
            "--webhook-url=http://127.0.0.1:8080/reload",
            "--webhook-method=POST",
            "--webhook-success-status=204",
            "--webhook-timeout=2s",
            "--webhook-backoff=5s",
        ]
        assert not any(a.startswith("--webhook") for a in args(c, "git-sync-init", "initContainers"))

    def test_exechook_also_in_the_initial_sync(self) -> None:
        c, _ = attach(exechook=GitSyncExechook(command="/hooks/build.sh", timeout=cdk8s.Duration.minutes(1)))
        for a in (args(c), args(c, "git-sync-init", "initContainers")):
            assert "--exechook-command=/hooks/build.sh" in a
            assert "--exechook-timeout=60s" in a

    def test_https_auth_reads_the_password_from_a_secret_file(self) -> None:
        c = chart()
        token = kplus.Secret.from_secret_name(c, "tok", "git-token")
        c, _ = attach(
            c, auth=GitAuth.https(username="bot", password=kplus.SecretValue(secret=token, key="token"))
        )
        docs = synth(c)
        assert "--username=bot" in args(c)
        assert "--password-file=/etc/git-secret/password" in args(c)
        assert "--password-file=/etc/git-secret/password" in args(c, "git-sync-init", "initContainers")
        auth = [v for v in pod(docs)["volumes"] if v["name"] == "git-sync-auth"]
        assert auth == [
            {
                "name": "git-sync-auth",
                "secret": {
                    "defaultMode": 0o400,
                    "items": [{"key": "token", "path": "password"}],
                    "secretName": "git-token",
                },
            }
        ]
        side = containers(docs)["git-sync"]
        assert {"mountPath": "/etc/git-secret", "name": "git-sync-auth", "readOnly": True} in side[
            "volumeMounts"
        ]
        assert "env" not in side  # no secret in env, no value anywhere

    def test_ssh_auth(self) -> None:
        c, _ = attach(repo="git@github.com:org/site.git", auth=ssh_auth())
        docs = synth(c)
        assert args(c)[-5:-3] == [
            "--ssh-key-file=/etc/git-secret/ssh",
            "--ssh-known-hosts-file=/etc/git-secret/known_hosts",
        ]
        (vol,) = [v for v in pod(docs)["volumes"] if v["name"] == "git-sync-auth"]
        assert vol["secret"]["items"] == [
            {"key": "known_hosts", "path": "known_hosts"},
            {"key": "ssh", "path": "ssh"},
        ]
        assert vol["secret"]["defaultMode"] == 0o400

    def test_ssh_without_host_key_checking(self) -> None:
        c = chart()
        secret = kplus.Secret.from_secret_name(c, "k", "key")
        c, _ = attach(
            c, repo="ssh://git@host/org/site.git", auth=GitAuth.ssh(secret=secret, known_hosts_key=None)
        )
        assert "--ssh-known-hosts=false" in args(c)

    def test_http_port_and_metrics_off(self) -> None:
        c, gs = attach(http_port=8089, metrics=False)
        assert args(c)[-1] == "--http-bind=:8089"
        assert gs.metrics_port_name is None
        assert containers(synth(c))["git-sync"]["ports"][0]["containerPort"] == 8089

    def test_native_sidecar(self) -> None:
        c, gs = attach(native_sidecar=True, startup_timeout=cdk8s.Duration.minutes(1))
        docs = synth(c)
        assert "git-sync" not in containers(docs)
        (init,) = pod(docs)["initContainers"]
        assert init["name"] == "git-sync"
        assert init["restartPolicy"] == "Always"
        assert "--one-time" not in init["args"]
        assert "--http-bind=:2020" in init["args"]
        # The app starts once the first sync made the link; after a restart during a git host
        # outage the link is still there, so the sidecar counts as started at once.
        assert init["startupProbe"]["exec"] == {"command": ["test", "-e", "/git/site"]}
        assert init["startupProbe"]["failureThreshold"] == 30
        assert init["readinessProbe"]["tcpSocket"] == {"port": 2020}
        assert gs.init_container is None
        validate(docs, K8S_NEWEST)

    def test_content_env(self) -> None:
        c, _ = attach(serve_dir="public", content_env="DOC_ROOT")
        assert containers(synth(c))["app"]["env"] == [{"name": "DOC_ROOT", "value": "/srv/git/site/public"}]

    def test_image_resources_extra_args(self) -> None:
        c, _ = attach(
            image="mirror.example.com/git-sync:v4.7.1",
            resources=container_resources(50, 1000, 128, 512),
            extra_args=["--group-write", "-v=2".replace("-v", "--v")],
        )
        side = containers(synth(c))["git-sync"]
        assert side["image"] == "mirror.example.com/git-sync:v4.7.1"
        assert side["resources"]["limits"] == {"cpu": "1000m", "memory": "512Mi"}
        assert side["args"][-2:] == ["--group-write", "--v=2"]

    def test_two_repositories_on_one_deployment(self) -> None:
        c = chart()
        dep = web(c)
        SidecarGitSync(c, "site", deployment=dep, repo=REPO)
        docs_ = SidecarGitSync(
            c,
            "docs",
            deployment=dep,
            repo="https://github.com/example/docs.git",
            name="docs-sync",
            mount_path="/srv/docs",
            http_port=2021,
        )
        docs = synth(c)
        assert sorted(containers(docs)) == ["app", "docs-sync", "git-sync"]
        assert docs_.content_path == "/srv/docs/docs"
        validate(docs, K8S_OLDEST)

    def test_choose_the_main_container_by_name(self) -> None:
        c = chart()
        dep = web(c, "app", "worker")
        SidecarGitSync(c, "site", deployment=dep, repo=REPO, container_name="worker")
        assert containers(synth(c))["worker"]["volumeMounts"][0]["mountPath"] == "/srv/git"
        with pytest.raises(MainContainerError):
            SidecarGitSync(c, "other", deployment=dep, repo=REPO, name="other")


def ssh_auth() -> GitAuth:
    return GitAuth(kind="ssh", secret=kplus.Secret.from_secret_name(chart(), "k", "git-creds"))


class TestErrors:
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"mount_path": "srv/git"}, r"test/site: mount_path='srv/git': not an absolute path"),
            ({"mount_path": "/srv/../etc"}, r"mount_path='/srv/../etc': not a normalised path"),
            (
                {"repo": "http://example.com/site.git"},
                r"repo='http://example.com/site.git': neither an https, ssh",
            ),
            ({"repo": "ftp://x/y"}, "neither an https, ssh nor file URL"),
            ({"repo": "https://bot:hunter2@example.com/site.git"}, "a URL carries credentials"),
            ({"depth": -1}, r"depth=-1: not an integer from 0 to 2147483647"),
            ({"period": cdk8s.Duration.millis(5)}, r"period='5ms': must be at least 10ms"),
            ({"sync_timeout": cdk8s.Duration.millis(1)}, r"sync_timeout='1ms'"),
            ({"link": "a/b"}, r"link='a/b': not a plain file name"),
            ({"link": ".hidden"}, "not a plain file name"),
            ({"serve_dir": "../etc"}, r"serve_dir='../etc': not a relative directory"),
            ({"serve_dir": "/public"}, "not a relative directory"),
            ({"ref": "main branch"}, "not a git ref"),
            ({"image": "registry.k8s.io/git-sync/git-sync"}, "not pinned"),
            ({"http_port": 70000}, r"http_port=70000: not a TCP/UDP port"),
            ({"http_port": 8080}, r"port=8080: container 'app' already uses TCP port 8080"),
            ({"name": "website-git-sync"}, r"name='website-git-sync': not a valid port name"),
            ({"name": "Git_Sync"}, "DNS-1123"),
            ({"extra_args": ["-v"]}, "not a git-sync flag"),
            ({"exechook": GitSyncExechook(command="make build")}, "must be one absolute path"),
            ({"webhook": GitSyncWebhook(url="localhost:8080")}, r"webhook.url='localhost:8080'"),
            (
                {"webhook": GitSyncWebhook(url="http://x/", timeout=cdk8s.Duration.millis(100))},
                "at least 1000ms",
            ),
            ({"startup_timeout": cdk8s.Duration.seconds(1)}, "startup_timeout"),
            ({"content_env": "DOC-ROOT"}, "not an environment variable name"),
            ({"max_failures": 1.5}, "max_failures=1.5"),
            ({"run_as_user": 0}, "must not run as root"),
        ],
    )
    def test_bad_props(self, kw: dict[str, Any], match: str) -> None:
        with pytest.raises(PropsError, match=match):
            attach(**kw)

    def test_literal_password_is_refused(self) -> None:
        with pytest.raises(PropsError, match=r"auth.password='<literal>'.*never a literal") as err:
            attach(auth=GitAuth.https(username="bot", password="hunter2"))  # type: ignore[arg-type]
        assert "hunter2" not in str(err.value)

    def test_ssh_repository_needs_a_key(self) -> None:
        with pytest.raises(PropsError, match="an SSH repository needs a private key"):
            attach(repo="git@github.com:org/site.git")

    def test_https_credentials_on_an_ssh_repository(self) -> None:
        c = chart()
        pw = kplus.SecretValue(secret=kplus.Secret.from_secret_name(c, "s", "s"), key="k")
        with pytest.raises(PropsError, match="cannot use HTTPS credentials"):
            attach(c, repo="git@github.com:org/site.git", auth=GitAuth.https(username="u", password=pw))

    def test_ssh_key_on_an_https_repository(self) -> None:
        with pytest.raises(PropsError, match="cannot use an SSH key"):
            attach(auth=ssh_auth())

    def test_ssh_with_another_uid(self) -> None:
        with pytest.raises(PropsError, match=r"run_as_user=1000: SSH needs the uid in /etc/passwd"):
            attach(repo="git@github.com:org/site.git", auth=ssh_auth(), run_as_user=1000)

    def test_mount_path_collides_with_a_mount_of_the_main_container(self) -> None:
        c = chart()
        dep = web(c)
        dep.containers[0].mount("/srv/data", kplus.Volume.from_empty_dir(c, "v", "data"))
        with pytest.raises(
            CollisionError, match=r"test/site: mount_path='/srv/data': container 'app' already mounts"
        ):
            attach(c, dep, mount_path="/srv/data")

    def test_a_second_sync_needs_one_prop(self) -> None:
        """Its mount path, port and volume names derive from its name; links may repeat."""
        c = chart()
        dep = web(c)
        a = SidecarGitSync(c, "a", workload=dep, repo=REPO)
        b = SidecarGitSync(c, "b", workload=dep, repo="https://x.example/site.git", name="docs")
        assert (a.content_path, a.http_port) == ("/srv/git/site", 2020)
        assert (b.content_path, b.http_port) == ("/srv/docs/site", 2021)
        docs = synth(c)
        validate(docs, K8S_OLDEST)
        assert sorted(containers(docs)) == ["app", "docs", "git-sync"]
        volumes = sorted(v["name"] for v in pod(docs)["volumes"])
        assert volumes == ["docs-root", "docs-tmp", "git-sync-root", "git-sync-tmp"]

    def test_every_collision_of_one_attach_in_one_error(self) -> None:
        c = chart()
        dep = web(c)
        SidecarGitSync(c, "a", workload=dep, repo=REPO, content_env="CONTENT")
        with pytest.raises(CollisionError) as err:
            SidecarGitSync(
                c, "b", workload=dep, repo=REPO, mount_path="/srv/git", http_port=2020, content_env="CONTENT"
            )
        # In the pod's order: the init container before the sidecar.
        assert [(p, v) for p, v, _, _ in err.value.collisions] == [
            ("name", "git-sync-init"),
            ("name", "git-sync"),
            ("name", "git-sync-root"),
            ("name", "git-sync-tmp"),
            ("http_port", 2020),
            ("name", "git-sync"),
            ("mount_path", "/srv/git"),
            ("content_env", "CONTENT"),
        ]
        assert str(err.value).startswith(
            "test/b: name='git-sync-init': a container named 'git-sync-init' already exists in the pod "
            "(names taken: ['app', 'git-sync', 'git-sync-init']); "
            "name='git-sync': a container named 'git-sync' already exists"
        )
        assert str(err.value).endswith(
            "mount_path: pass another mount_path=; content_env: pass another content_env="
        )


class TestCredentialHygiene:
    def test_error_messages_never_echo_a_credential(self) -> None:
        with pytest.raises(PropsError) as err:
            attach(repo="https://bot:ghp_SECRET123@github.com/example/site.git")
        assert "ghp_SECRET123" not in str(err.value)
        assert "https://***@github.com/example/site.git" in str(err.value)

    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"repo": "ssh://git:hunter2@github.com/org/site.git", "auth": "ssh"}, "carries credentials"),
            (
                {"webhook": GitSyncWebhook(url="http://user:hunter2@127.0.0.1:8080/hook")},
                "carries credentials",
            ),
            ({"extra_args": ["--password=hunter2"]}, "credentials in args end up in the manifest"),
            ({"extra_args": ["--username=bot"]}, "credentials in args"),
        ],
    )
    def test_credentials_outside_secrets_are_refused(self, kw: dict[str, Any], match: str) -> None:
        if kw.get("auth") == "ssh":
            kw["auth"] = ssh_auth()
        with pytest.raises(PropsError, match=match) as err:
            attach(**kw)
        assert "hunter2" not in str(err.value)

    def test_ssh_key_and_known_hosts_must_be_different_keys(self) -> None:
        secret = kplus.Secret.from_secret_name(chart(), "k", "git-creds")
        with pytest.raises(PropsError, match="the same Secret key as the private key"):
            attach(
                repo="git@github.com:org/site.git",
                auth=GitAuth.ssh(secret=secret, key="id", known_hosts_key="id"),
            )


class TestTypes:
    def test_fractional_milliseconds(self) -> None:
        with pytest.raises(PropsError, match=r"period='10.5ms': not a whole number of milliseconds"):
            attach(period=cdk8s.Duration.millis(10.5))

    def test_enum_values_as_strings(self) -> None:
        c, _ = attach(submodules="off")
        assert "--submodules=off" in args(c)
        with pytest.raises(PropsError, match=r"submodules='bogus': not a GitSubmodules"):
            attach(submodules="bogus")

    def test_booleans_are_booleans(self) -> None:
        with pytest.raises(PropsError, match="native_sidecar='no': not True or False"):
            attach(native_sidecar="no")

    def test_workload_type(self) -> None:
        with pytest.raises(PropsError, match="workload=None: no workload"):
            SidecarGitSync(chart(), "s", deployment=None, repo=REPO)
        with pytest.raises(PropsError, match="deployment='str': not a cdk8s-plus-27 workload"):
            SidecarGitSync(chart(), "s", deployment="web", repo=REPO)  # type: ignore[arg-type]
        c = chart()
        dep = web(c)
        with pytest.raises(PropsError, match="both workload= and deployment= were given"):
            SidecarGitSync(c, "s", workload=dep, deployment=dep, repo=REPO)


class TestSecondReview:
    @pytest.mark.parametrize(
        ("kw", "match"),
        [
            ({"extra_args": ["--link=current"]}, "the library sets this flag from a prop"),
            ({"extra_args": ["--http-bind=:9999"]}, "the library sets this flag from a prop"),
            ({"extra_args": "--v=2"}, "not a list of strings"),
            (
                {"webhook": GitSyncWebhook(url="https://ghp_SECRET123@hooks.example.com/x")},
                "carries credentials",
            ),
            ({"webhook": "http://127.0.0.1/x"}, "webhook='str': not a GitSyncWebhook"),
            ({"auth": "none"}, "auth='str': not a GitAuth"),
            ({"period": 0}, "not a cdk8s.Duration"),
            ({"resources": {"cpu": 1}}, "not a kplus.ContainerResources"),
        ],
    )
    def test_bad_props(self, kw: dict[str, Any], match: str) -> None:
        with pytest.raises(PropsError, match=match) as err:
            attach(**kw)
        assert "ghp_SECRET123" not in str(err.value)

    def test_username_with_a_token_is_redacted(self) -> None:
        c = chart()
        pw = kplus.SecretValue(secret=kplus.Secret.from_secret_name(c, "s", "s"), key="k")
        with pytest.raises(PropsError, match="x-access-token:<redacted>") as err:
            attach(c, auth=GitAuth.https(username="x-access-token:ghp_SECRET", password=pw))
        assert "ghp_SECRET" not in str(err.value)

    def test_empty_known_hosts_key(self) -> None:
        secret = kplus.Secret.from_secret_name(chart(), "k", "git-creds")
        with pytest.raises(PropsError, match="not a Secret key name"):
            attach(repo="git@github.com:org/site.git", auth=GitAuth.ssh(secret=secret, known_hosts_key=""))


class TestFsGroup:
    def test_the_library_sets_fs_group_with_on_root_mismatch(self) -> None:
        """So the pod's fsGroup does not chown the user's PVCs on every start."""
        c, site = attach()
        sc = pod(synth(c))["securityContext"]
        assert (sc["fsGroup"], sc["fsGroupChangePolicy"], site.fs_group) == (65533, "OnRootMismatch", 65533)

    def test_the_users_fs_group_and_policy_are_kept(self) -> None:
        c = chart()
        dep = kplus.Deployment(
            c,
            "web",
            security_context=kplus.PodSecurityContextProps(
                fs_group=1000, fs_group_change_policy=kplus.FsGroupChangePolicy.ALWAYS
            ),
        )
        dep.add_container(name="app", image="example/app:1")
        site = SidecarGitSync(c, "site", workload=dep, repo=REPO)
        sc = pod(synth(c))["securityContext"]
        assert (sc["fsGroup"], sc["fsGroupChangePolicy"], site.fs_group) == (1000, "Always", 1000)
