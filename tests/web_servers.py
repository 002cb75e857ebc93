"""Real web servers on loopback (Debian's apache2, tomcat10, python3) and git-sync's swap, measured.

git-sync has no binary for this machine (REFERENCE.md, section 6): ``GitSyncRoot`` does what it
does after a fetch (git-sync v4 main.go: ``createWorktree``, ``publishSymlink``, then the loop's
cleanup, which removes the old worktree at once under the default ``--stale-worktree-timeout=0``):
a new worktree ``<root>/.worktrees/<sha>`` owned by git-sync's uid, a relative symlink renamed
over ``<root>/<link>`` (rename(2), atomic), then the old worktree deleted. The servers run as
another non-root uid, as in the pod.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .programs import free_port, http_get, require, wait_for_port

GIT_SYNC_UID = 65533  # git-sync's image user (REFERENCE.md section 3)
SERVER_UID = 10001  # the web server's uid in the examples: not git-sync's
POLL = 0.02  # seconds between two requests while waiting for a push


@contextmanager
def scratch() -> Iterator[Path]:
    """A directory every uid can traverse (pytest's tmp_path is 0700, root's only)."""
    path = Path(tempfile.mkdtemp(prefix="web-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def git(repo: Path, *args: str) -> str:
    """git in ``repo`` with a fixed author (also tests/test_integration_nginx.py's)."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _chown_tree(path: Path, uid: int) -> None:
    os.lchown(path, uid, uid)
    for base, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(base, name), uid, uid)


@dataclass
class GitSyncRoot:
    """git-sync's ``--root`` (a volume) with its ``--link``; ``content`` is SidecarGitSync.content_path."""

    volume: Path
    link: str = "site"
    serve_dir: str = "public"
    upstream: Path = field(init=False)
    current: Path | None = field(default=None, init=False)
    pushes: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.volume.mkdir(parents=True, exist_ok=True)
        self.volume.chmod(0o755)
        self.upstream = self.volume.parent / f"{self.volume.name}-upstream"
        self.upstream.mkdir()
        git(self.upstream, "init", "-q", "-b", "main")

    @property
    def content(self) -> str:
        return f"{self.volume}/{self.link}/{self.serve_dir}"

    def push(self) -> tuple[str, float]:
        """Commit ``release <n>`` as ``index.html`` and publish it as git-sync does: the text and
        the time of the rename (``time.perf_counter``)."""
        self.pushes += 1
        text = f"release {self.pushes}"
        (self.upstream / self.serve_dir).mkdir(exist_ok=True)
        (self.upstream / self.serve_dir / "index.html").write_text(text)
        git(self.upstream, "add", "-A")
        git(self.upstream, "commit", "-q", "-m", text)
        sha = git(self.upstream, "rev-parse", "HEAD")
        git(self.upstream, "worktree", "prune")  # forget the worktree deleted at the last push
        worktree = self.volume / ".worktrees" / sha
        git(self.upstream, "worktree", "add", "-q", "--detach", str(worktree), sha)
        _chown_tree(worktree, GIT_SYNC_UID)
        (self.volume / ".worktrees").chmod(0o755)
        tmp_link = self.volume / f".{self.link}.tmp"
        tmp_link.symlink_to(os.path.relpath(worktree, self.volume))  # relative, as git-sync does
        os.lchown(tmp_link, GIT_SYNC_UID, GIT_SYNC_UID)
        swapped = time.perf_counter()
        os.replace(tmp_link, self.volume / self.link)  # rename(2): atomic
        old, self.current = self.current, worktree
        if old is not None:  # git-sync deletes the old worktree right after the swap
            shutil.rmtree(old)  # (git's own bookkeeping waits for the next push: not in the timed window)
        return text, swapped


@dataclass(frozen=True)
class Latencies:
    """Seconds from the link's rename until the server answered the new content, one per push."""

    server: str
    seconds: tuple[float, ...]

    def __str__(self) -> str:
        ms = [s * 1000 for s in self.seconds]
        return (
            f"{self.server}: {len(ms)} pushes, push visible after min {min(ms):.0f} ms, "
            f"median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms"
        )


def wait_for(url: str, text: str, since: float, timeout: float) -> float:
    """Poll ``url`` every POLL s until it answers 200 ``text``; seconds since ``since``."""
    deadline = since + timeout
    while True:
        if http_get(url) == (200, text):
            return time.perf_counter() - since
        if time.perf_counter() > deadline:
            raise AssertionError(
                f"{url} still answers {http_get(url)!r}, not {text!r}, {timeout}s after the swap"
            )
        time.sleep(POLL)


def measure_pushes(server: str, site: GitSyncRoot, url: str, *, pushes: int = 5, timeout: float) -> Latencies:
    """``pushes`` consecutive pushes after the first checkout, each timed until ``url`` serves it."""
    seconds = []
    for _ in range(pushes):
        text, swapped = site.push()
        seconds.append(wait_for(url, text, swapped, timeout))
    result = Latencies(server, tuple(seconds))
    print(result)
    return result


def answers(urls: list[str], since: float, seconds: float) -> dict[str, list[tuple[float, int, str]]]:
    """What each of ``urls`` answers for ``seconds`` (polled every POLL s): each change as
    (seconds since ``since``, status, body or "<error page>")."""
    seen: dict[str, list[tuple[float, int, str]]] = {url: [] for url in urls}
    deadline = since + seconds
    while time.perf_counter() < deadline:
        for url in urls:
            status, body = http_get(url)
            body = body if status == 200 else "<error page>"
            if not seen[url] or seen[url][-1][1:] != (status, body):
                seen[url].append((round(time.perf_counter() - since, 2), status, body))
        time.sleep(POLL)
    return seen


@contextmanager
def _running(
    cmd: list[str], port: int, log: Path, cwd: Path | None = None, timeout: float = 10.0
) -> Iterator[int]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            user=SERVER_UID,
            group=SERVER_UID,
            extra_groups=[],
        )
    try:
        try:
            wait_for_port(port, timeout)
        except TimeoutError:
            proc.kill()
            raise AssertionError(f"{cmd[0]} did not listen: {log.read_text()[-3000:]}") from None
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- Apache httpd ---------------------------------------------------------------------------

DEBIAN_MODULES_DIR = "/usr/lib/apache2/modules"
DEBIAN_MIME_TYPES = "/etc/mime.types"


@contextmanager
def apache(workdir: Path, render: Callable[[int], str]) -> Iterator[int]:
    """Debian's apache2 running ``render(port)`` (an httpd.conf) after ``apache2 -t``, as SERVER_UID."""
    binary = require("apache2", "apache2")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o777)
    conf = workdir / "httpd.conf"
    conf.write_text(render(port))
    conf.chmod(0o644)
    check = subprocess.run([binary, "-t", "-f", str(conf)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    with _running([binary, "-DFOREGROUND", "-f", str(conf)], port, workdir / "log") as p:
        yield p


# -- Tomcat -----------------------------------------------------------------------------------

TOMCAT_HOME = Path("/usr/share/tomcat10")  # Debian's tomcat10: CATALINA_HOME
_SERVER_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="{port}" protocol="HTTP/1.1" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
"""


@contextmanager
def tomcat(base: Path, contexts: dict[str, str]) -> Iterator[int]:
    """Debian's Tomcat 10 with CATALINA_BASE ``base``: one web app per ``contexts`` item
    (``conf/Catalina/localhost/<name>.xml``; ``ROOT`` is ``/``), each with an empty docBase
    ``webapps/<name>`` as in the example, as SERVER_UID. Yields the port once all are deployed."""
    java = require("java", "openjdk-17-jre-headless")
    # tomcat10 has no command on PATH: its service script (which pulls CATALINA_HOME in) marks it.
    require("/usr/libexec/tomcat10/tomcat-start.sh", "tomcat10")
    port = free_port()
    for sub in ("conf/Catalina/localhost", "logs", "work", "temp", "webapps"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    (base / "conf" / "server.xml").write_text(_SERVER_XML.format(port=port))
    shutil.copy(TOMCAT_HOME / "etc" / "web.xml", base / "conf" / "web.xml")  # the DefaultServlet
    for name, xml in contexts.items():
        (base / "conf" / "Catalina" / "localhost" / f"{name}.xml").write_text(xml)
        (base / "webapps" / name).mkdir()
    _chown_tree(base, SERVER_UID)
    cmd = [
        java,
        f"-Dcatalina.home={TOMCAT_HOME}",
        f"-Dcatalina.base={base}",
        f"-Djava.io.tmpdir={base / 'temp'}",
        "-Xshare:auto",
        "-XX:TieredStopAtLevel=1",  # start fast: the test measures serving, not peak throughput
        "-cp",
        f"{TOMCAT_HOME}/bin/bootstrap.jar:{TOMCAT_HOME}/bin/tomcat-juli.jar",
        "org.apache.catalina.startup.Bootstrap",
        "start",
    ]
    log = base / "logs" / "stdout"
    with _running(cmd, port, log, cwd=base, timeout=60) as p:
        deadline = time.monotonic() + 60
        while "Server startup in" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        yield p


# -- Python -----------------------------------------------------------------------------------


@contextmanager
def python_server(workdir: Path, command: list[str], port: int, cwd: Path | None = None) -> Iterator[int]:
    """``command`` (a container command) run with Debian's python3, as SERVER_UID."""
    python = require("/usr/bin/python3", "python3")  # Debian's, not a pyenv shim in root's home
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o777)
    with _running([python, *command[1:]], port, workdir / "log", cwd=cwd) as p:
        yield p
