"""`import constructs_lib` keeps jsii's Node end-of-life banner out of a plain `python main.py`."""

from __future__ import annotations

import os
import subprocess
import sys

VARIABLE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"


def python(code: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE} | extra
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True
    )


def node_major() -> str:
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout
    return version.removeprefix("v").split(".")[0]


def test_import_lists_every_major_and_no_banner_reaches_stderr() -> None:
    proc = python(
        f"import os, constructs_lib, cdk8s; cdk8s.App().synth_yaml(); print(os.environ[{VARIABLE!r}])"
    )
    majors = proc.stdout.strip().split(",")
    assert majors == [str(m) for m in range(100)]
    assert node_major() in majors
    assert proc.stderr == ""


def test_import_starts_no_process() -> None:
    """The variable is set without asking Node its version (issue 24: `node --version` cost
    ~5 ms of every import): an import with no `node` on PATH at all still sets it."""
    code = f"import os, constructs_lib; print(os.environ[{VARIABLE!r}].split(',')[20])"
    assert python(code, PATH="/nonexistent").stdout == "20\n"


def test_the_users_own_setting_is_kept() -> None:
    proc = python(f"import os, constructs_lib; print(repr(os.environ[{VARIABLE!r}]))", **{VARIABLE: ""})
    assert proc.stdout == "''\n"


def test_the_examples_import_order_keeps_the_banner_away() -> None:
    """Each example imports constructs_lib above an ``# isort: split`` line, before cdk8s, so the
    order survives ruff's import sorting (which puts first-party imports last)."""
    proc = python(
        "import examples.all_patterns as m, examples.redis_ambassador as r, cdk8s\n"
        "app = cdk8s.App(); m.build(app); r.build(app); app.synth_yaml()"
    )
    assert proc.stderr == ""


def test_cdk8s_imported_first_starts_node_before_the_library_runs() -> None:
    """The limit, measured: jsii starts Node while ``import cdk8s`` runs (jsii/_runtime.py,
    JSIIAssembly.load), with a copy of os.environ; nothing of constructs_lib has run yet, so
    the variable is not in that copy. Setting it in the environment is the only fix then."""
    code = "import cdk8s, constructs_lib; cdk8s.App().synth_yaml()"
    assert python(code, **{VARIABLE: node_major()}).stderr == ""
    banner = python(code).stderr
    # Node 20 went end-of-life for jsii on 2026-10-30 (the banner's own words); older majors too.
    if int(node_major()) <= 20:
        assert f"Node {node_major()} is end-of-life" in banner, banner
    else:
        assert banner == ""
