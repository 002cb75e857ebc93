"""A web server for what the patterns produce: nginx's server config serving a directory.

``SidecarGitSync.content_path`` is a directory that a web server should serve; every example did
that with the same nginx config, and users copied it. It lives here so it is tested against the
real nginx (tests/test_web.py) and cannot be turned into another config by its inputs. The other
servers' helpers (Apache httpd, Tomcat, Python) are in ``_web_apache``, ``_web_tomcat`` and
``_web_python``; they share :func:`served_path`, the one check of the path a server serves.
"""

from __future__ import annotations

import re
from typing import Any

from ._checks import absolute_path, boolean, port_number
from ._errors import PropsError

_WHERE = "nginx_server_config"
# The characters a served path may hold. nginx's config parser splits on whitespace and ';', '{',
# '}', takes quotes, '#' (comment), '\\' (escape) and '$' (variable) as syntax
# (nginx src/core/ngx_conf_file.c, ngx_conf_read_token): none of them may reach the `root` line.
_ROOT = re.compile(r"/[A-Za-z0-9._~@%+=:,/-]*")


def served_path(where: str, prop: str, value: Any, why: str) -> str:
    """``value`` if it is an absolute, normalised path of the characters in ``_ROOT``, else a
    PropsError. The set is the same for every server: it holds no character that nginx's, httpd's
    or Tomcat's config parser reads as syntax, nor ``$`` (Kubernetes expands ``$(VAR)`` in a
    container's command), so a path can only ever be a path."""
    if not isinstance(value, str) or not _ROOT.fullmatch(value):
        raise PropsError(
            where,
            prop,
            value,
            f"not an absolute path of letters, digits and ._~@%+=:,/- ({why})",
            "use a path such as '/srv/git/site/public' (SidecarGitSync.content_path)",
        )
    return absolute_path(where, prop, value)


_STUB_STATUS = (
    "    location = /stub_status {\n"
    "        stub_status;\n"
    "        access_log off;\n"
    "        allow 127.0.0.1;\n"
    "        deny all;\n"
    "    }\n"
)


def nginx_server_config(root: str, *, port: int = 8080, stub_status: bool = False) -> str:
    """nginx's ``conf.d/default.conf``: serve the directory ``root`` on ``port``.

    Mount it as ``/etc/nginx/conf.d/default.conf`` in an nginx container (for example
    ``nginxinc/nginx-unprivileged``, which listens on 8080 as a non-root user) and pass
    ``SidecarGitSync.content_path`` as ``root``: nginx then serves each new sync as soon as
    git-sync swaps its link, with no reload.

    The trap it avoids: nginx opens each file by its path on every request, through the link as
    it is then, unless ``open_file_cache`` is on; with it, nginx keeps the open file and its
    stat and checks the name again only after ``open_file_cache_valid`` (60 s by default:
    src/core/ngx_open_file_cache.c, ``now - file->created < of->valid``), serving the deleted
    old worktree meanwhile. This config has no ``open_file_cache``; don't add one in front.

    - ``/healthz`` answers 200 ``ok`` for the kubelet's probes, without an access log line;
    - a missing file, or ``root`` before the first sync, is a 404 (``try_files``), never a listing;
    - ``stub_status=True`` adds nginx's status page on ``/stub_status``, answered to 127.0.0.1
      only: what ``MetricsSource.nginx()``'s exporter scrapes from inside the pod.

    Raises PropsError if ``root`` is not an absolute, normalised path made of letters, digits
    and ``._~@%+=:,/-`` (anything else could end the ``root`` directive and add others), or
    ``port`` is not 1-65535.
    """
    served_path(_WHERE, "root", root, "nginx would read other characters as config syntax")
    port_number(_WHERE, "port", port)
    status = _STUB_STATUS if boolean(_WHERE, "stub_status", stub_status) else ""
    return (
        "server {\n"
        f"    listen {port};\n"
        "    server_name _;\n"
        f"    root {root};\n"
        "    location / {\n"
        "        try_files $uri $uri/ =404;\n"
        "    }\n"
        "    location = /healthz {\n"
        "        access_log off;\n"
        "        return 200 'ok';\n"
        "    }\n"
        f"{status}"
        "}\n"
    )
