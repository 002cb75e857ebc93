"""Each web server serves git-sync's pushes with no restart, and each trap is shown without the helper.

Real programs from Debian (nginx, apache2, tomcat10 on openjdk-17, python3), each serving a
git-sync root made the way git-sync makes it (tests/web_servers.py: a new worktree owned by
git-sync's uid 65533, an atomic rename of the relative link, the old worktree deleted). Every
server but nginx (Debian's runner starts it as root) runs as uid 10001. Each helper's server
serves the first checkout, then 5 consecutive pushes, each timed from the rename until the
server answers the new content (polled every 20 ms); ``pytest -s`` prints the figures. The
bound is the server's own caching bound (0 for nginx, httpd and Python; ``cache_ttl_ms`` for
Tomcat) plus ``SLACK`` for a loaded machine. The controls run the same swap without the
helper's setting and show what the pod would serve.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from constructs_lib import (
    apache_httpd_config,
    nginx_server_config,
    python_server_command,
    tomcat_context_config,
)
from constructs_lib._web_tomcat import DEFAULT_CACHE_TTL_MS

from .nginx_runner import nginx
from .programs import free_port, http_get
from .web_servers import (
    DEBIAN_MIME_TYPES,
    DEBIAN_MODULES_DIR,
    GIT_SYNC_UID,
    SERVER_UID,
    GitSyncRoot,
    answers,
    apache,
    measure_pushes,
    python_server,
    scratch,
    tomcat,
    wait_for,
)

pytestmark = pytest.mark.integration

SLACK = 1.0  # seconds on top of a server's caching bound: polling, a loaded 2-core machine
ERROR = "<error page>"
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLE_CONTENT = "/srv/git/site/public"  # content_path in the examples


def example_manifest(name: str, kind: str) -> dict[str, object]:
    (doc,) = [
        d for d in yaml.safe_load_all((GOLDEN / f"{name}.k8s.yaml").read_text()) if d and d["kind"] == kind
    ]
    return dict(doc)


def example_file(name: str, key: str) -> str:
    """The file ``key`` of the example's ConfigMap, as synthesized (the golden file)."""
    data = example_manifest(name, "ConfigMap")["data"]
    assert isinstance(data, dict)
    return str(data[key])


@pytest.fixture
def workdir() -> Iterator[Path]:
    with scratch() as path:
        yield path


# -- nginx ------------------------------------------------------------------------------------


def test_nginx_serves_five_pushes_without_reload(workdir: Path) -> None:
    prefix = workdir / "pod"
    site = GitSyncRoot(prefix / "srv" / "git")
    text, _ = site.push()
    with nginx(workdir / "nginx", nginx_server_config("/srv/git/site/public"), prefix) as port:
        url = f"http://127.0.0.1:{port}/index.html"
        assert http_get(url) == (200, text)
        latencies = measure_pushes("nginx (nginx_server_config)", site, url, timeout=SLACK)
    assert max(latencies.seconds) < SLACK


def test_control_nginx_open_file_cache_serves_a_deleted_worktree(workdir: Path) -> None:
    """open_file_cache keeps the fd and stat of index.html; nginx checks the name again only
    after open_file_cache_valid (60 s by default: src/core/ngx_open_file_cache.c,
    ``now - file->created < of->valid``), so the deleted worktree's file is served meanwhile."""
    conf = nginx_server_config("/srv/git/site/public")
    assert "open_file_cache" not in conf
    cached = conf.replace("    root ", "    open_file_cache max=64;\n    root ", 1)
    prefix = workdir / "pod"
    site = GitSyncRoot(prefix / "srv" / "git")
    old, _ = site.push()
    with nginx(workdir / "nginx", cached, prefix) as port:
        url = f"http://127.0.0.1:{port}/index.html"
        assert http_get(url) == (200, old)  # cached from now on
        new, swapped = site.push()
        seen = answers([url], swapped, 3.0)[url]
    print(f"nginx with open_file_cache, 3 s after a push: {seen}")
    assert [(status, body) for _, status, body in seen] == [(200, old)], (new, seen)


# -- Apache httpd -----------------------------------------------------------------------------


def debian_httpd(root: str, run_dir: Path, edit: Callable[[str], str] = str) -> Callable[[int], str]:
    """apache_httpd_config for Debian's apache2 (its module dir and mime.types), then ``edit``."""

    def render(port: int) -> str:
        return edit(
            apache_httpd_config(
                root,
                port=port,
                modules_dir=DEBIAN_MODULES_DIR,
                mime_types=DEBIAN_MIME_TYPES,
                run_dir=str(run_dir),
            )
        )

    return render


def test_apache_serves_five_pushes_without_reload(workdir: Path) -> None:
    site = GitSyncRoot(workdir / "git")
    text, _ = site.push()
    (Path(site.content) / "sub").mkdir()  # a directory without index.html
    with apache(workdir / "httpd", debian_httpd(site.content, workdir / "httpd")) as port:
        base = f"http://127.0.0.1:{port}"
        assert http_get(f"{base}/") == (200, text)
        assert http_get(f"{base}/healthz") == (200, "ok")
        assert http_get(f"{base}/missing.html")[0] == 404
        assert http_get(f"{base}/sub/")[0] == 404  # never a listing (no mod_autoindex)
        latencies = measure_pushes(
            "apache httpd (apache_httpd_config)", site, f"{base}/index.html", timeout=SLACK
        )
        assert http_get(f"{base}/.git")[0] == 403  # nothing but root is granted, no dot file
    assert max(latencies.seconds) < SLACK


def test_apache_runs_the_examples_httpd_conf(workdir: Path) -> None:
    """examples/git_sync_apache.py's httpd.conf, translated for Debian's apache2 and loopback only
    (its module dir and mime.types, a free port, the volume and /tmp below the scratch dir)."""
    site = GitSyncRoot(workdir / "git")
    text, _ = site.push()
    conf = example_file("git-sync-apache", "httpd.conf")

    def translated(port: int) -> str:
        return (
            conf.replace("/usr/local/apache2/modules", DEBIAN_MODULES_DIR)
            .replace("/usr/local/apache2/conf/mime.types", DEBIAN_MIME_TYPES)
            .replace('"/tmp', f'"{workdir / "httpd"}')  # before the volume: it is below /tmp here
            .replace(EXAMPLE_CONTENT, site.content)
            .replace("Listen 8080\n", f"Listen {port}\n")
        )

    with apache(workdir / "httpd", translated) as port:
        url = f"http://127.0.0.1:{port}/index.html"
        assert http_get(url) == (200, text)
        text, swapped = site.push()
        wait_for(url, text, swapped, SLACK)


def test_control_apache_options_none_refuses_git_syncs_link(workdir: Path) -> None:
    """Without FollowSymLinks on the directory that holds the link, httpd answers 403 for every
    file (server/request.c resolve_symlink: ``if (!(opts & (OPT_SYM_OWNER | OPT_SYM_LINKS)))
    return HTTP_FORBIDDEN;``)."""
    site = GitSyncRoot(workdir / "git")
    site.push()
    hardened = debian_httpd(
        site.content, workdir / "httpd", lambda c: c.replace("Options FollowSymLinks", "Options None", 1)
    )
    with apache(workdir / "httpd", hardened) as port:
        assert http_get(f"http://127.0.0.1:{port}/index.html")[0] == 403
    assert (
        "Symbolic link not allowed or link target not accessible" in (workdir / "httpd" / "log").read_text()
    )


def test_control_apache_symlinks_if_owner_match_is_no_trap_for_git_sync(workdir: Path) -> None:
    """SymLinksIfOwnerMatch compares the link's owner with its target's (``apr_uid_compare(fi.user,
    lfi->user)``), not with httpd's uid: git-sync (65533) owns both, httpd runs as 10001, and
    pushes are served. Only a link owned by someone else than its target is refused."""
    assert GIT_SYNC_UID != SERVER_UID
    site = GitSyncRoot(workdir / "git")
    site.push()
    owner_match = debian_httpd(
        site.content,
        workdir / "httpd",
        lambda c: c.replace("Options FollowSymLinks", "Options SymLinksIfOwnerMatch"),
    )
    with apache(workdir / "httpd", owner_match) as port:
        url = f"http://127.0.0.1:{port}/index.html"
        text, swapped = site.push()
        wait_for(url, text, swapped, SLACK)
        os.lchown(site.volume / site.link, 0, 0)  # the link root's, its target git-sync's
        assert http_get(url)[0] == 403


# -- Tomcat -----------------------------------------------------------------------------------


def _resource_set(base: str, *, allow_linking: bool) -> str:
    linking = ' allowLinking="true"' if allow_linking else ""
    return (
        f"<Context><Resources{linking}>"
        '<PreResources className="org.apache.catalina.webresources.DirResourceSet"'
        f' base="{base}" webAppMount="/" />'
        "</Resources></Context>"
    )


@pytest.fixture(scope="module")
def tomcat_sites() -> Iterator[tuple[int, GitSyncRoot, GitSyncRoot]]:
    """One Tomcat for the module: ``/`` is tomcat_context_config's web app on one git-sync root;
    three controls on another: ``/nolink`` (no allowLinking), ``/docbase`` (docBase through the
    link, linking allowed, no cache), ``/defaultcache`` (the helper's set with Tomcat's own
    cacheTtl of 5 s)."""
    with scratch() as path:
        site, control = GitSyncRoot(path / "git"), GitSyncRoot(path / "control")
        site.push()
        control.push()
        contexts = {
            "ROOT": tomcat_context_config(site.content),
            "nolink": _resource_set(control.content, allow_linking=False),
            "docbase": (
                f'<Context docBase="{control.content}">'
                '<Resources allowLinking="true" cachingAllowed="false" /></Context>'
            ),
            "defaultcache": _resource_set(control.content, allow_linking=True),
            # examples/git_sync_tomcat.py's ROOT.xml, on this volume, at /example
            "example": example_file("git-sync-tomcat", "ROOT.xml").replace(EXAMPLE_CONTENT, site.content),
        }
        with tomcat(path / "tomcat", contexts) as port:
            yield port, site, control


def test_tomcat_serves_five_pushes_within_its_cache_ttl(
    tomcat_sites: tuple[int, GitSyncRoot, GitSyncRoot],
) -> None:
    port, site, _ = tomcat_sites
    base = f"http://127.0.0.1:{port}"
    assert http_get(f"{base}/index.html") == (200, f"release {site.pushes}")
    assert http_get(f"{base}/missing.html")[0] == 404
    bound = DEFAULT_CACHE_TTL_MS / 1000 + SLACK
    latencies = measure_pushes(
        f"tomcat (tomcat_context_config, cacheTtl {DEFAULT_CACHE_TTL_MS} ms)",
        site,
        f"{base}/index.html",
        timeout=bound,
    )
    assert max(latencies.seconds) < bound


def test_tomcat_runs_the_examples_context(tomcat_sites: tuple[int, GitSyncRoot, GitSyncRoot]) -> None:
    port, site, _ = tomcat_sites
    url = f"http://127.0.0.1:{port}/example/index.html"
    assert http_get(url) == (200, f"release {site.pushes}")
    text, swapped = site.push()
    wait_for(url, text, swapped, DEFAULT_CACHE_TTL_MS / 1000 + SLACK)


def test_control_tomcat_traps(tomcat_sites: tuple[int, GitSyncRoot, GitSyncRoot]) -> None:
    """The same push, three ways Tomcat is usually configured:

    - ``/nolink``: AbstractFileResourceSet.file() compares each file's canonical path with the
      ``canonicalBase`` stored at start; the new worktree is outside it: 404 (after the old
      content, served from the cache although its worktree is deleted, for up to cacheTtl);
    - ``/docbase``: ContextConfig.fixDocBase made the docBase canonical at start: the deleted
      first worktree, 404 at once;
    - ``/defaultcache``: allowLinking but Tomcat's cacheTtl (5 s): the old content for up to 5 s.
    """
    port, _, control = tomcat_sites
    urls = [f"http://127.0.0.1:{port}/{name}/index.html" for name in ("nolink", "docbase", "defaultcache")]
    old = f"release {control.pushes}"
    assert [http_get(url) for url in urls] == [(200, old)] * 3  # each caches index.html now
    new, swapped = control.push()
    seen = answers(urls, swapped, 5.0 + SLACK)
    for url, changes in seen.items():
        print(f"tomcat {url.split('/')[3]}, after a push: {changes}")
    nolink, docbase, defaultcache = (seen[url] for url in urls)
    assert [change[1:] for change in nolink] == [(200, old), (404, ERROR)]
    assert [change[1:] for change in docbase] == [(404, ERROR)]
    assert [change[1:] for change in defaultcache] == [(200, old), (200, new)]
    assert defaultcache[1][0] > DEFAULT_CACHE_TTL_MS / 1000  # later than the helper's bound


# -- Python -----------------------------------------------------------------------------------


def test_python_server_serves_five_pushes(workdir: Path) -> None:
    site = GitSyncRoot(workdir / "git")
    text, _ = site.push()
    (Path(site.content) / "sub").mkdir()
    port = free_port()
    with python_server(workdir / "py", python_server_command(site.content, port=port), port):
        base = f"http://127.0.0.1:{port}"
        assert http_get(f"{base}/") == (200, text)
        assert http_get(f"{base}/healthz") == (200, "ok")
        assert http_get(f"{base}/missing.html")[0] == 404
        assert http_get(f"{base}/sub/")[0] == 404  # never a listing
        assert http_get(f"{base}/.git")[0] == 404
        latencies = measure_pushes(
            "python (python_server_command)", site, f"{base}/index.html", timeout=SLACK
        )
    assert max(latencies.seconds) < SLACK


def test_python_runs_the_examples_command(workdir: Path) -> None:
    """examples/git_sync_python.py's container command, with Debian's python3, the scratch volume
    and a free port."""
    spec = example_manifest("git-sync-python", "Deployment")["spec"]
    assert isinstance(spec, dict)
    (server,) = [c for c in spec["template"]["spec"]["containers"] if c["name"] == "server"]
    site = GitSyncRoot(workdir / "git")
    text, _ = site.push()
    port = free_port()
    command = [site.content if arg == EXAMPLE_CONTENT else arg for arg in server["command"]]
    assert command[-1] == "8080"
    with python_server(workdir / "py", [*command[:-1], str(port)], port):
        url = f"http://127.0.0.1:{port}/index.html"
        assert http_get(url) == (200, text)
        text, swapped = site.push()
        wait_for(url, text, swapped, SLACK)


def test_control_python_started_in_the_content_serves_404_after_a_push(workdir: Path) -> None:
    """``cd $CONTENT && python -m http.server``: the handler serves ``os.getcwd()``, taken at
    start (http/server.py ``parser.add_argument('-d', '--directory', default=os.getcwd())``),
    the first worktree's real path; once git-sync deletes it, 404. ``--directory <content>``
    keeps the path through the link and follows the push."""
    site = GitSyncRoot(workdir / "git")
    old, _ = site.push()
    in_content, with_directory = free_port(), free_port()
    with (
        python_server(
            workdir / "cwd",
            ["python3", "-m", "http.server", str(in_content)],
            in_content,
            cwd=Path(site.content),
        ),
        python_server(
            workdir / "dir",
            ["python3", "-m", "http.server", str(with_directory), "--directory", site.content],
            with_directory,
        ),
    ):
        urls = [f"http://127.0.0.1:{port}/index.html" for port in (in_content, with_directory)]
        assert [http_get(url) for url in urls] == [(200, old)] * 2
        new, swapped = site.push()
        seen = answers(urls, swapped, 1.0)
    print(f"python -m http.server in the content dir, after a push: {seen[urls[0]]}")
    print(f"python -m http.server --directory <content>, after a push: {seen[urls[1]]}")
    assert [change[1:] for change in seen[urls[0]]] == [(404, ERROR)]
    assert [change[1:] for change in seen[urls[1]]] == [(200, new)]
