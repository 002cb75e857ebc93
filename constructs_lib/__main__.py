"""``python -m constructs_lib describe FILE.yaml [--format mermaid|dot|svg] [-o OUT]``.

Draws each pod of a synthesized manifest (see :func:`constructs_lib.describe`). Exit codes:
0 drawn; 1 the file holds no pod, or Graphviz is missing for ``svg``; 2 bad arguments or a
file that cannot be read as YAML.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from ._describe import describe
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)  # exits 2 with usage on bad arguments
    try:
        docs = list(yaml.safe_load_all(args.file.read_text()))
    except (OSError, yaml.YAMLError) as err:
        parser.error(f"cannot read {args.file} as YAML: {err}")
    if not all(d is None or isinstance(d, dict) for d in docs):
        parser.error(f"{args.file}: every YAML document must be a Kubernetes object (a mapping)")
    try:
        pictures = describe(docs, source=str(args.file))
        text = {"mermaid": pictures.mermaid, "dot": pictures.dot, "svg": pictures.svg}[args.format]()
    except PropsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
