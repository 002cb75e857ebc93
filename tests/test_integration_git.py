"""The rendered sparse-checkout file does what it says, applied by real git the way git-sync
applies it (main.go: the file is copied verbatim to the worktree's info/sparse-checkout,
then sparse checkout is switched on for that worktree)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from constructs_lib import SidecarGitSync

from .helpers import chart, kind, synth, web
from .programs import require

pytestmark = pytest.mark.integration
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        [require("git", "git"), "-C", str(cwd), *args], env=ENV, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_sparse_checkout_keeps_exactly_the_listed_paths(tmp_path: Path) -> None:
    c = chart()
    SidecarGitSync(
        c,
        "site",
        deployment=web(c),
        repo="https://github.com/example/site.git",
        sparse_checkout=["/public/", "!/public/drafts/"],
    )
    (cm,) = kind(synth(c), "ConfigMap")
    patterns = cm["data"]["sparse-checkout"]

    upstream = tmp_path / "upstream"
    for path in (
        "public/index.html",
        "public/css/site.css",
        "public/drafts/next.html",
        "src/build.py",
        "README.md",
    ):
        (upstream / path).parent.mkdir(parents=True, exist_ok=True)
        (upstream / path).write_text(path)
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", "-A")
    git(upstream, "commit", "-q", "-m", "site")

    root = tmp_path / "root"
    git(tmp_path, "clone", "-q", "--no-checkout", str(upstream), str(root))
    worktree = tmp_path / "worktree"
    git(root, "worktree", "add", "-q", "--no-checkout", "--detach", str(worktree), "HEAD")
    info = Path(git(worktree, "rev-parse", "--git-dir")) / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "sparse-checkout").write_text(patterns)  # verbatim, as git-sync does
    git(root, "config", "extensions.worktreeConfig", "true")
    git(worktree, "config", "--worktree", "core.sparseCheckout", "true")
    git(worktree, "checkout", "-q", "--detach", "HEAD")

    files = sorted(
        str(p.relative_to(worktree)) for p in worktree.rglob("*") if p.is_file() and ".git" not in p.parts
    )
    assert files == ["public/css/site.css", "public/index.html"]
