"""The stand-in program of the project's ``example/*`` app images (shop-api, report-builder, ...).

The library only adds containers around an app; what the app does is not under test. This program
answers ``200 ok`` on every path (``/stub_status``: nginx's status page, for the matrix's nginx
exporter), on every port listed in ``PODS_APP_PORTS`` (comma-separated; the
play-file step passes the container's declared ports and the ports its probes use), on all
addresses, so Services, probes and scrapers that aim at the app find it. With
``PODS_APP_EXIT_AFTER=<seconds>`` (Job and CronJob containers) it exits 0 after that long, as a
batch program that finished would. Arguments are accepted and ignored (manifests pass some).
Standard library only: it runs in the base image's python3, with a read-only root filesystem.
"""

import http.server
import os
import socketserver
import sys
import threading
import time

#: nginx's stub_status page (ngx_http_stub_status_module's format), for apps that offer one.
STUB_STATUS = (
    b"Active connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \n"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        body = STUB_STATUS if self.path == "/stub_status" else b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815 (http.server's names)

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> int:
    ports = sorted({int(p) for p in os.environ.get("PODS_APP_PORTS", "").split(",") if p.strip()})
    for port in ports:
        server = _Server(("0.0.0.0", port), _Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"pods-app: args={sys.argv[1:]} listening on {ports}", flush=True)
    exit_after = os.environ.get("PODS_APP_EXIT_AFTER")
    if exit_after:
        time.sleep(float(exit_after))
        print("pods-app: done", flush=True)
        return 0
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
