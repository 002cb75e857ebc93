"""The web servers' helpers: the exact text, their refusals, and Debian's real nginx running it.

nginx_server_config, apache_httpd_config, tomcat_context_config and python_server_command. The
real nginx is translated for loopback by nginx_runner.nginx (listen port and a prefix before
`root`); every server following git-sync's pushes, and each trap, is in
tests/test_integration_web_servers.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import (
    PropsError,
    apache_httpd_config,
    nginx_server_config,
    python_server_command,
    tomcat_context_config,
)
from constructs_lib._web_python import SERVER

from .nginx_runner import nginx
from .programs import http_get

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden_config(name: str, key: str = "default.conf") -> str:
    """The file ``key`` of the example's ConfigMap (nginx's: as the example wrote it before the
    function moved into the library)."""
    docs = yaml.safe_load_all((GOLDEN / f"{name}.k8s.yaml").read_text())
    (data,) = [d["data"] for d in docs if d and d["kind"] == "ConfigMap" and key in d["data"]]
    return str(data[key])


def test_config_is_what_the_examples_shipped() -> None:
    assert nginx_server_config("/srv/git/site/public") == golden_config("git-sync-nginx")
    assert nginx_server_config("/usr/share/nginx/html", stub_status=True) == golden_config("metrics-nginx")


def test_port() -> None:
    expected = golden_config("metrics-nginx").replace("    listen 8080;\n", "    listen 9090;\n")
    assert nginx_server_config("/usr/share/nginx/html", port=9090, stub_status=True) == expected


HOSTILE_ROOTS = [
    "srv/www",  # relative
    "/",  # the whole container file system
    "/srv/www/",  # not normalised
    "/srv/../etc",
    "/srv/www; include /etc/nginx/evil.conf",
    "/srv/www;",
    "/srv/{www}",
    "/srv/www}",
    '/srv/"www"',
    "/srv/'www'",
    "/srv/w w",
    "/srv/w\tw",
    "/srv/www\n    location /x { return 200; }",
    "/srv/$host",  # an nginx variable
    "/srv/www#",  # a comment would swallow the ';'
    "/srv/w\\w",
    "/srv/\x00",
    "/srv/$(HOME)",  # Kubernetes expands it in a container's command
    "/srv/${HOME}",  # httpd's Define and Tomcat's Digester expand it
    "/srv/<Context>",
    "/srv/a&amp;b",
    "/srv/*",  # a wildcard in httpd's <Directory>
    42,
]


@pytest.mark.parametrize("root", HOSTILE_ROOTS)
def test_root_that_could_change_the_config_is_refused(root: Any) -> None:
    with pytest.raises(PropsError) as err:
        nginx_server_config(root)
    assert (err.value.path, err.value.prop) == ("nginx_server_config", "root")


def test_refusal_message() -> None:
    with pytest.raises(PropsError) as err:
        nginx_server_config("/srv/www; include /etc/passwd")
    assert str(err.value) == (
        "nginx_server_config: root='/srv/www; include /etc/passwd': not an absolute path of letters, "
        "digits and ._~@%+=:,/- (nginx would read other characters as config syntax). "
        "Fix: use a path such as '/srv/git/site/public' (SidecarGitSync.content_path)"
    )


@pytest.mark.parametrize(
    ("prop", "kwargs"),
    [
        ("port", {"port": 0}),
        ("port", {"port": 65536}),
        ("port", {"port": True}),
        ("port", {"port": "8080"}),
        ("stub_status", {"stub_status": "yes"}),
    ],
)
def test_bad_port_or_flag_is_refused(prop: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(PropsError) as err:
        nginx_server_config("/srv/www", **kwargs)
    assert err.value.prop == prop


@pytest.mark.integration
def test_real_nginx_serves_the_directory(tmp_path: Path) -> None:
    """Every character the check lets through is literal to nginx: it serves that very directory."""
    root = "/srv/site-1.0_~@%+=:,/public"
    prefix = tmp_path / "pod"
    served = prefix / root.lstrip("/")
    (served / "docs").mkdir(parents=True)
    (served / "index.html").write_text("home")
    (served / "docs" / "index.html").write_text("docs")
    conf = nginx_server_config(root, port=9090, stub_status=True)
    with nginx(tmp_path / "nginx", conf, prefix) as port:  # runs `nginx -t` first
        base = f"http://127.0.0.1:{port}"
        assert http_get(f"{base}/") == (200, "home")
        assert http_get(f"{base}/docs/") == (200, "docs")
        assert http_get(f"{base}/healthz") == (200, "ok")
        assert http_get(f"{base}/missing.html")[0] == 404
        status, body = http_get(f"{base}/stub_status")
        assert status == 200
        assert body.startswith("Active connections: 1 \n")


# -- Apache httpd, Tomcat, Python ---------------------------------------------------------------

HELPERS: dict[str, Callable[[str], object]] = {
    "apache_httpd_config": apache_httpd_config,
    "tomcat_context_config": tomcat_context_config,
    "python_server_command": python_server_command,
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
@pytest.mark.parametrize("root", HOSTILE_ROOTS)
def test_other_servers_refuse_the_same_roots(helper: str, root: Any) -> None:
    with pytest.raises(PropsError) as err:
        HELPERS[helper](root)
    assert (err.value.path, err.value.prop) == (helper, "root")


def test_the_examples_ship_the_helpers_output() -> None:
    assert golden_config("git-sync-apache", "httpd.conf") == apache_httpd_config("/srv/git/site/public")
    assert golden_config("git-sync-tomcat", "ROOT.xml") == tomcat_context_config("/srv/git/site/public")
    docs = yaml.safe_load_all((GOLDEN / "git-sync-python.k8s.yaml").read_text())
    (deployment,) = [d for d in docs if d and d["kind"] == "Deployment"]
    (server,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "server"]
    assert server["command"] == python_server_command("/srv/git/site/public")


def test_apache_config_follows_the_link_runs_unprivileged_and_serves_only_root() -> None:
    conf = apache_httpd_config("/srv/git/site/public")
    lines = conf.splitlines()
    assert "Listen 8080" in lines
    assert 'DocumentRoot "/srv/git/site/public"' in lines
    assert 'PidFile "/tmp/httpd.pid"' in lines
    assert "    LoadModule mpm_event_module /usr/local/apache2/modules/mod_mpm_event.so" in lines
    assert 'TypesConfig "/usr/local/apache2/conf/mime.types"' in lines
    # git-sync's link is followed where it sits (above root), and only root is granted
    assert conf.count("    Options FollowSymLinks\n") == 2
    assert "SymLinksIfOwnerMatch" not in conf
    assert "Indexes" not in conf
    assert "autoindex" not in conf
    assert (
        '<Directory "/">\n    Options FollowSymLinks\n    AllowOverride None\n    Require all denied\n'
        in conf
    )
    assert "User" not in conf
    assert "Group" not in conf
    assert "/proc/self/fd" not in conf  # a root-owned pipe a non-root httpd cannot reopen
    debian = apache_httpd_config(
        "/srv/www",
        port=9090,
        modules_dir="/usr/lib/apache2/modules",
        mime_types="/etc/mime.types",
        run_dir="/run/x",
    )
    assert "Listen 9090\n" in debian
    assert 'PidFile "/run/x/httpd.pid"\n' in debian
    assert "    LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so\n" in debian


@pytest.mark.parametrize(
    ("prop", "kwargs"),
    [
        ("port", {"port": 0}),
        ("port", {"port": "8080"}),
        ("modules_dir", {"modules_dir": "modules"}),
        ("modules_dir", {"modules_dir": "/usr/lib/apache2/modules\nLoadModule x /tmp/x.so"}),
        ("mime_types", {"mime_types": "/etc/mime types"}),
        ("run_dir", {"run_dir": "/tmp/"}),
        ("run_dir", {"run_dir": '/tmp"'}),
    ],
)
def test_apache_refuses_bad_paths_and_ports(prop: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(PropsError) as err:
        apache_httpd_config("/srv/www", **kwargs)
    assert err.value.prop == prop


def test_tomcat_context_serves_the_link_as_pre_resources_with_linking_and_a_bounded_cache() -> None:
    assert tomcat_context_config("/srv/git/site/public") == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Rendered by constructs_lib.tomcat_context_config: the root web app serves one directory.\n"
        "     allowLinking: the directory is reached through git-sync's link, swapped on every sync. -->\n"
        "<Context>\n"
        '  <Resources allowLinking="true" cachingAllowed="true" cacheTtl="1000">\n'
        '    <PreResources className="org.apache.catalina.webresources.DirResourceSet"\n'
        '                  base="/srv/git/site/public" webAppMount="/" readOnly="true" />\n'
        "  </Resources>\n"
        "</Context>\n"
    )
    assert 'cacheTtl="5000"' in tomcat_context_config("/srv/www", cache_ttl_ms=5000)
    no_cache = tomcat_context_config("/srv/www", cache_ttl_ms=0)
    assert 'cachingAllowed="false"' in no_cache
    assert "cacheTtl" not in no_cache
    assert "docBase" not in no_cache  # Tomcat canonicalizes a docBase at start (the pinning trap)


@pytest.mark.parametrize("ttl", [-1, 3_600_001, True, 1.5, "1000"])
def test_tomcat_refuses_a_bad_cache_ttl(ttl: Any) -> None:
    with pytest.raises(PropsError) as err:
        tomcat_context_config("/srv/www", cache_ttl_ms=ttl)
    assert err.value.prop == "cache_ttl_ms"


def test_python_command_passes_root_and_port_as_arguments_never_as_code() -> None:
    assert python_server_command("/srv/git/site/public") == [
        "python",
        "-c",
        SERVER,
        "/srv/git/site/public",
        "8080",
    ]
    command = python_server_command("/srv/www", port=9000, python="/usr/bin/python3")
    assert (command[0], command[3:]) == ("/usr/bin/python3", ["/srv/www", "9000"])
    assert "$(" not in SERVER  # nothing for the kubelet to expand
    assert "/srv" not in SERVER
    compile(SERVER, "<python_server_command>", "exec")


@pytest.mark.parametrize(
    ("prop", "kwargs"),
    [
        ("port", {"port": 65536}),
        ("python", {"python": "python; rm -rf /"}),
        ("python", {"python": "$(PYTHON)"}),
        ("python", {"python": ""}),
        ("python", {"python": ["python"]}),
    ],
)
def test_python_refuses_bad_port_or_interpreter(prop: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(PropsError) as err:
        python_server_command("/srv/www", **kwargs)
    assert err.value.prop == prop
