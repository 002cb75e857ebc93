"""Run the library's synthesized workloads as real pods under ``podman kube play``.

``from tests.pods import PodSet``: see :mod:`tests.pods.runner`. The modules:

* :mod:`.setup`    -- installs podman and writes the containers.conf it needs here (idempotent);
* :mod:`.images`   -- builds the local images (one debootstrap rootfs, package layers for httpd and
  Tomcat, thin variants), cached;
* :mod:`.app`      -- the stand-in program of the ``example/*`` app images (committed source);
* :mod:`.playfile` -- turns synthesized documents into podman-playable Pods (kube-play gaps);
* :mod:`.probes`   -- runs a manifest's probes the way the kubelet does;
* :mod:`.runner`   -- :class:`PodSet`, the context manager the tests use.
"""

from .runner import Pod, PodSet, PodSetError

__all__ = ["Pod", "PodSet", "PodSetError"]
