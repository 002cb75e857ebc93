"""nginx_server_config: the exact text, its refusals, and Debian's real nginx running it.

Translated for loopback by nginx_runner.nginx (listen port and a prefix before `root`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib import PropsError, nginx_server_config

from .nginx_runner import nginx
from .programs import http_get

GOLDEN = Path(__file__).resolve().parent / "golden"


def golden_config(name: str) -> str:
    """conf.d/default.conf as an example wrote it before the function moved into the library."""
    docs = yaml.safe_load_all((GOLDEN / f"{name}.k8s.yaml").read_text())
    (data,) = [d["data"] for d in docs if d and d["kind"] == "ConfigMap" and "default.conf" in d["data"]]
    return str(data["default.conf"])


def test_config_is_what_the_examples_shipped() -> None:
    assert nginx_server_config("/srv/git/site/public") == golden_config("git-sync-nginx")
    assert nginx_server_config("/usr/share/nginx/html", stub_status=True) == golden_config("metrics-nginx")


def test_port() -> None:
    expected = golden_config("metrics-nginx").replace("    listen 8080;\n", "    listen 9090;\n")
    assert nginx_server_config("/usr/share/nginx/html", port=9090, stub_status=True) == expected


@pytest.mark.parametrize(
    "root",
    [
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
        42,
    ],
)
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
