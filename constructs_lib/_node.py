"""Keep jsii's Node end-of-life banner out of the user's synth output, unless they asked for it.

cdk8s runs in a Node process that jsii starts at the first ``import cdk8s``, passing it a copy
of ``os.environ`` (jsii/_kernel/providers/process.py, ``ProcessProvider.start``). At start, that
process prints a boxed "Node <major> is end-of-life" banner on stderr unless the comma-separated
``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION`` lists its major version (jsii-runtime,
``checkNode`` in @jsii/check-node). On a machine with Node 20 every ``python main.py`` prints it.

Importing constructs_lib before cdk8s sets that variable to the running Node's major, only when
the user has not set it themselves. The other jsii warnings (known-broken, untested Node) stay.
Imported by ``constructs_lib/__init__.py`` before any module that imports jsii: once cdk8s is
imported the Node process has started and it is too late (docs/install.md, "The Node banner").
"""

from __future__ import annotations

import os
import re
import subprocess

SILENCE_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def node_major() -> str | None:
    """The major version of the Node jsii will start (``$JSII_NODE``, else ``node`` on PATH)."""
    try:
        out = subprocess.run(
            [os.environ.get("JSII_NODE", "node"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # no Node: jsii will say so itself, in its own words
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+\S*\s*", out)
    return match.group(1) if match else None


if SILENCE_VARIABLE not in os.environ:
    _major = node_major()
    if _major is not None:
        os.environ[SILENCE_VARIABLE] = _major
