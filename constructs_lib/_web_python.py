"""Python serving a directory that git-sync swaps: a tiny static server run with ``python -c``.

CPython's ``SimpleHTTPRequestHandler`` joins the request path to ``self.directory`` on every
request (``translate_path``: ``path = self.directory``, then ``os.path.join`` per part), and
``self.directory`` is the string it was given (``os.fspath(directory)``), never resolved: given
the path through git-sync's link, each request goes through the link as it is now. The trap
is the other way to name the directory: ``cd $CONTENT && python -m http.server`` serves
``os.getcwd()``, which the kernel answers with the worktree the link pointed to at start
(http/server.py: ``parser.add_argument('-d', '--directory', default=os.getcwd())``); that
worktree is served until git-sync deletes it, then every request is a 404.
"""

from __future__ import annotations

import re

from ._checks import port_number
from ._errors import PropsError
from ._web import served_path

_WHERE = "python_server_command"
# What may name the interpreter: a command name or an absolute path, nothing the kubelet
# expands ("$(VAR)") or a shell could read.
_PROGRAM = re.compile(r"[A-Za-z0-9._/-]+")

#: The server, run as ``python -c SERVER <root> <port>``: the root and the port are arguments,
#: never part of the code, so no path can change what runs. Standard library only (the
#: official python images, any Python >= 3.7). No directory listings, no dot files (the
#: worktree's ``.git``), ``/healthz`` for the kubelet's probes, HEAD and GET only.
SERVER = """\
import functools, http.server, io, sys, urllib.parse
class Handler(http.server.SimpleHTTPRequestHandler):
    def send_head(self):
        path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if path == "/healthz":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "2")
            self.end_headers()
            return io.BytesIO(b"ok")
        if any(part.startswith(".") for part in path.split("/")):
            self.send_error(404)
            return None
        return super().send_head()
    def list_directory(self, path):
        self.send_error(404)
        return None
    def log_message(self, format, *args):
        if not self.path.startswith("/healthz"):
            super().log_message(format, *args)
root, port = sys.argv[1], int(sys.argv[2])
handler = functools.partial(Handler, directory=root)
http.server.ThreadingHTTPServer(("", port), handler).serve_forever()
"""


def python_server_command(root: str, *, port: int = 8080, python: str = "python") -> list[str]:
    """The container command of a Python static server that serves ``root`` on ``port``.

    Pass it as ``command=`` of a container with a Python image (``python:3.12-slim``) and
    ``SidecarGitSync.content_path`` as ``root``: every request resolves the path through
    git-sync's link as it is then, so each new sync is served as soon as the link is swapped.

    The trap it avoids: a server started inside the content (``cd $CONTENT && python -m
    http.server``) serves its working directory, which is the worktree of the first sync
    (``os.getcwd()`` answers the real path): it serves that old content until git-sync deletes
    the worktree, then only 404s. ``python -m http.server --directory <root>`` follows the link
    too, but lists directories and serves dot files; this server does neither, and answers
    ``/healthz`` with 200 for the kubelet's probes.

    Args:
        root: the directory to serve (``SidecarGitSync.content_path``).
        port: the port to listen on (all interfaces). Default 8080.
        python: the interpreter to run. Default ``python`` (the official images' name).

    Returns:
        ``[python, "-c", SERVER, root, str(port)]``: the root and the port are arguments, not code.

    Raises:
        PropsError: a ``root`` that is not an absolute, normalised path of letters, digits and
            ``._~@%+=:,/-`` (Kubernetes expands ``$(VAR)`` in a command), a port outside
            1-65535, or a ``python`` that is not a plain command name or path.
    """
    served_path(_WHERE, "root", root, "Kubernetes would expand $(...) in a command")
    port_number(_WHERE, "port", port)
    if not isinstance(python, str) or not _PROGRAM.fullmatch(python):
        raise PropsError(
            _WHERE,
            "python",
            python,
            "not a command name or path of letters, digits and ._/-",
            "use 'python', 'python3' or a path such as '/usr/local/bin/python'",
        )
    return [python, "-c", SERVER, root, str(port)]
