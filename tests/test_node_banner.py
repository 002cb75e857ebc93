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


def test_import_sets_the_running_node_major_and_no_banner_reaches_stderr() -> None:
    proc = python(
        f"import os, constructs_lib, cdk8s; cdk8s.App().synth_yaml(); print(os.environ[{VARIABLE!r}])"
    )
    assert proc.stdout == f"{node_major()}\n"
    assert proc.stderr == ""


def test_the_users_own_setting_is_kept() -> None:
    proc = python(f"import os, constructs_lib; print(repr(os.environ[{VARIABLE!r}]))", **{VARIABLE: ""})
    assert proc.stdout == "''\n"
