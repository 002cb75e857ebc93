"""The README's install steps work from each source it names, in a fresh virtualenv each (never the editable
checkout): a checkout (`pip install .`), a wheel built from it (`pip wheel --no-deps .`), and a release tag
through git (`pip install "git+file://...@v<version>"`).

The source is a temporary clone of this repository with the working tree's changes committed on top and a
temporary tag ``v<version>`` (never made in the repository itself). Dependencies come from the configured
index, through pip's cache; the check is the README's install-check line, run by the new environment's Python
from an empty directory outside the source tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
VERSION = re.search(r'^version = "(.+)"$', (ROOT / "pyproject.toml").read_text(), flags=re.M).group(1)  # type: ignore[union-attr]
TAG = f"v{VERSION}"
WHEEL = f"constructs_lib-{VERSION}-py3-none-any.whl"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout}{proc.stderr}"
    return proc


def install_check() -> str:
    """The README's install check: the block after 'Check the install'."""
    match = re.search(
        r"Check the install[^\n]*\n\n(?:<!--.*?-->\n)?```sh\n(python -c .*?)\n```", README, flags=re.S
    )
    assert match, "README has no install check"
    return match.group(1)


def test_readme_names_the_three_sources() -> None:
    assert "pip install ./constructs-lib\n" in README
    assert f"pip wheel --no-deps -w wheels ./constructs-lib\npip install wheels/{WHEEL}\n" in README
    assert f'pip install "git+file://$PWD/constructs-lib@{TAG}"' in README


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository holding the working tree as it is (tracked and new files, not ignored
    ones), committed and tagged ``v<version>`` in the clone."""
    clone = tmp_path_factory.mktemp("git") / "constructs-lib"
    run("git", "clone", "--quiet", "--no-local", ROOT, clone, cwd=clone.parent)
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).stdout
    for name in sorted(set(filter(None, listed.split("\0")))):
        here, there = ROOT / name, clone / name
        if here.is_file():
            there.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(here, there)
        elif there.is_file():  # tracked, deleted in the working tree
            there.unlink()
    git = ["git", "-c", "user.name=test_install", "-c", "user.email=test_install@localhost"]
    run(*git, "add", "--all", cwd=clone)
    run(*git, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", "the working tree", cwd=clone)
    run(*git, "tag", TAG, cwd=clone)
    return clone


def fresh_venv(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin" / "python"


def pip_install(python: Path, *args: str | Path, cwd: Path) -> None:
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args, cwd=cwd)


def install_from_checkout(python: Path, source: Path, tmp: Path) -> None:
    pip_install(python, ".", cwd=source)  # `pip install .` in the checkout


def install_from_wheel(python: Path, source: Path, tmp: Path) -> None:
    wheels = tmp / "wheels"
    run(python, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, ".", cwd=source)
    assert [p.name for p in wheels.iterdir()] == [WHEEL]
    pip_install(python, wheels / WHEEL, cwd=tmp)


def install_from_tag(python: Path, source: Path, tmp: Path) -> None:
    # The README's form: a bare VCS URL. (`constructs-lib @ git+file:///...` is refused by the pip that
    # Python 3.11's venv bundles, 23.2: "Invalid requirement ... It looks like a path".)
    pip_install(python, f"git+file://{source}@{TAG}", cwd=tmp)


SOURCES = {"checkout": install_from_checkout, "wheel": install_from_wheel, "git-tag": install_from_tag}


@pytest.mark.parametrize("kind", list(SOURCES))
def test_installs_in_a_fresh_venv(kind: str, source: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    python = fresh_venv(tmp_path / "venv")
    SOURCES[kind](python, source, tmp_path)
    installed = time.monotonic() - started

    # The check runs from an empty directory, with the user's environment minus jsii's silencer:
    # a plain `python -c` must print the version and synthesize, and no Node banner.
    work = tmp_path / "app"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"}
    proc = run("bash", "-c", install_check().replace("python ", f"{python} ", 1), cwd=work, env=env)
    assert proc.stdout == f"{VERSION}\n"
    assert "end-of-life" not in proc.stderr, proc.stderr
    assert (work / "dist" / "check.k8s.yaml").read_text().startswith("apiVersion: v1\nkind: ConfigMap\n")
    # It is the installed copy that was imported, not this checkout or the clone.
    where = run(python, "-c", "import constructs_lib; print(constructs_lib.__file__)", cwd=work).stdout
    assert where.startswith(str(tmp_path / "venv")), where
    # Only the runtime dependencies: no extra was asked for.
    missing = run(python, "-c", "import importlib.util as u; print(u.find_spec('pulumi') is None)", cwd=work)
    assert missing.stdout == "True\n"
    checked = time.monotonic() - started - installed
    print(f"{kind}: installed in {installed:.1f} s, checked in {checked:.1f} s")


def test_the_tag_and_its_commit_exist_only_in_the_clone(source: Path) -> None:
    commit = run("git", "rev-parse", f"{TAG}^{{commit}}", cwd=source).stdout.strip()
    in_repo = subprocess.run(["git", "cat-file", "-e", commit], cwd=ROOT, capture_output=True, check=False)
    assert in_repo.returncode != 0, "the temporary commit reached the repository"
