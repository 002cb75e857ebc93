"""Keep jsii's Node end-of-life banner out of the user's synth output, unless they asked for it.

cdk8s runs in a Node process that jsii starts at the first ``import cdk8s``, passing it a copy
of ``os.environ`` (jsii/_kernel/providers/process.py, ``ProcessProvider.start``). At start, that
process prints a boxed "Node <major> is end-of-life" banner on stderr unless the comma-separated
``JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION`` lists its major version (jsii-runtime,
``checkNode`` in @jsii/check-node: ``process.env[...].split(",").map(trim).includes(major)``,
checked only for a release jsii marks unsupported; the known-broken, untested and deprecated
warnings have variables of their own and stay). On a machine with Node 20 every
``python main.py`` prints it.

Importing constructs_lib before cdk8s sets that variable, only when the user has not set it
themselves, to every major from 0 to 99: it silences the end-of-life banner of whichever Node
runs, as naming the running major would, without starting ``node --version`` to learn it (that
cost ~5 ms of every import, issue 24). Imported by ``constructs_lib/__init__.py`` before any
module that imports jsii: once cdk8s is imported the Node process has started and it is too late
(docs/install.md, "The Node banner").
"""

from __future__ import annotations

import os

SILENCE_VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
#: Every Node major the variable can name (Node 24 is current; 99 leaves decades of margin).
EVERY_MAJOR = ",".join(str(major) for major in range(100))

os.environ.setdefault(SILENCE_VARIABLE, EVERY_MAJOR)
