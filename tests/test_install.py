"""The README's install steps work from a built wheel in a fresh virtualenv (not the editable checkout).

Dependencies come from the configured index (pip's cache makes it quick); the check is the README's
install-check snippet, run by the new environment's Python outside the source tree.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), flags=re.M).group(1)  # type: ignore[union-attr]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def install_check() -> str:
    """The README's install check: the block after 'Check the install'."""
    match = re.search(r"Check the install[^\n]*\n\n```sh\n(python -c .*?)\n```", README, flags=re.S)
    assert match, "README has no install check"
    return match.group(1)


def test_wheel_installs_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, ROOT, cwd=tmp_path)
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name == f"constructs_lib-{VERSION}-py3-none-any.whl"

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=tmp_path)

    # The check runs from an empty directory, with the user's environment minus jsii's silencer:
    # a plain `python -c` must print the version and synthesize, and no Node banner.
    work = tmp_path / "app"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    proc = run("bash", "-c", install_check().replace("python ", f"{python} ", 1), cwd=work, env=env)
    assert proc.stdout == f"{VERSION}\n"
    assert "end-of-life" not in proc.stderr, proc.stderr
    assert (work / "dist" / "check.k8s.yaml").read_text().startswith("apiVersion: v1\nkind: ConfigMap\n")
    # It is the wheel that was imported, not this checkout.
    where = run(python, "-c", "import constructs_lib; print(constructs_lib.__file__)", cwd=work).stdout
    assert where.startswith(str(env_dir)), where
