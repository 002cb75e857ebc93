"""``python -m constructs_lib describe FILE.yaml [--format mermaid|dot|svg] [-o OUT]``.

Draws each pod of a synthesized manifest (see :func:`constructs_lib.describe`; how it reads a
file it does not trust is in ``constructs_lib/_describe.py``'s docstring). Every failure is one
line on standard error, ``error: ...``, never a traceback. Exit codes:

* 0: drawn.
* 1: the manifest was read but cannot be drawn: it holds no pod, the picture would be over
  describe's budget (``MAX_ELEMENTS`` nodes and edges), or Graphviz is missing, fails or takes
  too long for ``svg``.
* 2: bad arguments (usage on standard error); a file that cannot be read as a manifest
  (missing or unreadable, over 8 MiB, not UTF-8, not YAML, a document that is not an object,
  nested or alias-expanded past the budgets); an output that cannot be written (``-o`` in a
  missing or read-only directory, a closed standard output).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._describe import MAX_FILE_BYTES, describe, display, read_manifest
from ._errors import PropsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m constructs_lib", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    draw = commands.add_parser("describe", help="draw each pod of a synthesized manifest")
    draw.add_argument("file", type=Path, help="a synthesized manifest, e.g. dist/app.k8s.yaml")
    formats = ("mermaid", "dot", "svg")
    draw.add_argument("--format", choices=formats, default="mermaid", help="default: mermaid")
    draw.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    return parser


def _fail(message: str, code: int) -> int:
    """``error: message`` as one printable line (file names and manifest text are escaped)."""
    print(f"error: {display(message, 2000)}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)  # exits 2 with usage on bad arguments
    source = str(args.file)
    try:
        with args.file.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        return _fail(f"cannot read {source} as YAML: {err}", 2)
    try:
        docs = read_manifest(data, source=source)
    except PropsError as err:
        return _fail(str(err), 2)
    try:
        pictures = describe(docs, source=source)
        text = {"mermaid": pictures.mermaid, "dot": pictures.dot, "svg": pictures.svg}[args.format]()
    except PropsError as err:
        return _fail(str(err), 1)
    return _write(text, args.output)


def _write(text: str, output: Path | None) -> int:
    """``text`` as UTF-8 to ``output`` or standard output (whatever the locale's encoding)."""
    data = text.encode("utf-8")
    if output is not None:
        try:
            output.write_bytes(data)
        except OSError as err:
            return _fail(f"cannot write {output}: {err}", 2)
        return 0
    try:
        stream = getattr(sys.stdout, "buffer", None)
        if stream is not None:
            sys.stdout.flush()
            stream.write(data)
            stream.flush()
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except OSError as err:  # a closed pipe (`... | head -1`): no second error when Python exits
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _fail(f"cannot write standard output: {err}", 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
