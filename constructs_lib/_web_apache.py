"""Apache httpd serving a directory that git-sync swaps: a whole ``httpd.conf``, unprivileged.

httpd reaches ``content_path`` through git-sync's link (``<mount>/<link>`` → ``.worktrees/<sha>``)
and walks that path again on every request (server/request.c, ``ap_directory_walk``), so a
new sync is served as soon as the link is swapped, provided httpd may follow the link:
``resolve_symlink`` there answers 403 for a link met under a directory whose ``Options`` has
neither ``FollowSymLinks`` nor ``SymLinksIfOwnerMatch`` (a hardened ``<Directory />`` with
``Options None`` is the trap). ``SymLinksIfOwnerMatch`` compares the owner of the link with the
owner of its target (``apr_uid_compare(fi.user, lfi->user)``), not with httpd's uid: git-sync
owns both, so it works too (tests/test_integration_web_servers.py shows both).
"""

from __future__ import annotations

from ._checks import port_number
from ._web import served_path

_WHERE = "apache_httpd_config"
#: The official image (``httpd:2.4``) keeps its modules and mime.types below /usr/local/apache2.
#: Debian's apache2: ``/usr/lib/apache2/modules`` and ``/etc/mime.types``.
OFFICIAL_MODULES_DIR = "/usr/local/apache2/modules"
OFFICIAL_MIME_TYPES = "/usr/local/apache2/conf/mime.types"
# httpd's parser (server/util.c ap_getword_conf, server/config.c ap_build_config) splits on
# whitespace, takes '"' and '\'' as quotes and '\\' as an escape in them, reads '<'/'>' as
# section tags and expands '${NAME}' anywhere in a line (server/util.c ap_resolve_env); a
# <Directory> path is also a wildcard pattern ('*', '?', '[': apr_fnmatch). served_path keeps
# all of them (and '#') out, so every path below is one literal word.
#: Modules the config needs, by their module name. Guarded by <IfModule !...>: Debian builds
#: unixd and log_config into the binary (``apache2 -l``); loading a built-in module is a warning.
_MODULES = (
    ("mpm_event_module", "mod_mpm_event.so"),
    ("unixd_module", "mod_unixd.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("mime_module", "mod_mime.so"),
    ("dir_module", "mod_dir.so"),
    ("log_config_module", "mod_log_config.so"),
    ("rewrite_module", "mod_rewrite.so"),
)


def apache_httpd_config(
    root: str,
    *,
    port: int = 8080,
    modules_dir: str = OFFICIAL_MODULES_DIR,
    mime_types: str = OFFICIAL_MIME_TYPES,
    run_dir: str = "/tmp",
) -> str:
    """Apache httpd's whole ``httpd.conf``: serve the directory ``root`` on ``port``, as any uid.

    Mount it over ``/usr/local/apache2/conf/httpd.conf`` of the official ``httpd:2.4`` image (a
    ConfigMap with ``sub_path``: the file, not the link git-sync swaps) and pass
    ``SidecarGitSync.content_path`` as ``root``. httpd then serves each new sync as soon as
    git-sync swaps its link, with no reload.

    The trap it avoids: httpd refuses (403) to follow a symlink met under a directory whose
    ``Options`` lack ``FollowSymLinks``/``SymLinksIfOwnerMatch``, and git-sync's link sits above
    the served directory. So ``<Directory />`` keeps ``Options FollowSymLinks`` (httpd's own
    default) with ``Require all denied``; only ``root`` is granted.

    - runs unprivileged: listens on ``port`` (8080, no ``NET_BIND_SERVICE``), no ``User``/
      ``Group`` (ignored when httpd does not start as root), on a read-only root filesystem:
      the pid file and runtime files go to ``run_dir`` (mount an emptyDir there); the logs
      (errors, and access without the probes) go to the container's log through ``/bin/cat``
      (a piped log: ``/proc/self/fd/2``, the official image's choice, is a pipe owned by
      root that a non-root httpd cannot open again: ``AH00091 ... Permission denied``);
    - ``/healthz`` answers 200 ``ok`` for the kubelet's probes; a missing file, or a directory
      without ``index.html``, is a 404 (never a listing: mod_autoindex is not loaded); dot
      files (the worktree's ``.git``) are refused (403).

    Args:
        root: the directory to serve (``SidecarGitSync.content_path``).
        port: the port to listen on. Default 8080.
        modules_dir: where the image keeps httpd's modules. Default the official image's
            ``/usr/local/apache2/modules``; Debian's apache2: ``/usr/lib/apache2/modules``.
        mime_types: the image's mime.types file. Default the official image's
            ``/usr/local/apache2/conf/mime.types``; Debian: ``/etc/mime.types``.
        run_dir: a writable directory for the pid file. Default ``/tmp``.

    Raises:
        PropsError: a path that is not absolute, normalised and made of letters, digits and
            ``._~@%+=:,/-`` (anything else could end the directive and add others), or a port
            outside 1-65535.
    """
    why = "httpd would read other characters as config syntax"
    served_path(_WHERE, "root", root, why)
    served_path(_WHERE, "modules_dir", modules_dir, why)
    served_path(_WHERE, "mime_types", mime_types, why)
    served_path(_WHERE, "run_dir", run_dir, why)
    port_number(_WHERE, "port", port)
    modules = "".join(
        f"<IfModule !{name}>\n    LoadModule {name} {modules_dir}/{file}\n</IfModule>\n"
        for name, file in _MODULES
    )
    return (
        "# Rendered by constructs_lib.apache_httpd_config: serves one directory, unprivileged.\n"
        f"{modules}"
        f"Listen {port}\n"
        "ServerName localhost\n"
        "ServerTokens Prod\n"
        "ServerSignature Off\n"
        f'DefaultRuntimeDir "{run_dir}"\n'
        f'PidFile "{run_dir}/httpd.pid"\n'
        'ErrorLog "|/bin/cat"\n'
        "LogLevel warn\n"
        'LogFormat "%h %l %u %t \\"%r\\" %>s %b" common\n'
        'CustomLog "|/bin/cat" common "expr=%{REQUEST_URI} != \'/healthz\'"\n'
        f'TypesConfig "{mime_types}"\n'
        "DirectoryIndex index.html\n"
        f'DocumentRoot "{root}"\n'
        "# git-sync's link sits above root: the directories that hold it must let httpd follow it\n"
        "# (server/request.c resolve_symlink answers 403 under Options None).\n"
        '<Directory "/">\n'
        "    Options FollowSymLinks\n"
        "    AllowOverride None\n"
        "    Require all denied\n"
        "</Directory>\n"
        f'<Directory "{root}">\n'
        "    Options FollowSymLinks\n"
        "    AllowOverride None\n"
        "    Require all granted\n"
        "</Directory>\n"
        '<FilesMatch "^\\.">\n'
        "    Require all denied\n"
        "</FilesMatch>\n"
        "# /healthz: 200 'ok' before any file lookup (mod_rewrite ends the request with that status).\n"
        "RewriteEngine On\n"
        'RewriteRule "^/healthz$" - [R=200,L]\n'
        'ErrorDocument 200 "ok"\n'
    )
