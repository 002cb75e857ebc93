"""The README is what it is: the two commands first, install, and the way to the docs site (docs/), where
everything else lives and is checked by tests/test_docs.py. Its code blocks follow the docs' rules: Python
runs as written, anything else says what runs it."""

import re
from pathlib import Path

from tests.test_docs import DATA, PULUMI, RUN, SHELL, code_blocks, run_block

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCKS = code_blocks(README)


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text()
    assert text.startswith("# constructs_lib\n\n```sh\n"), (
        "the README starts with `make synth` and `make test`"
    )
    first = BLOCKS[0].code.splitlines()
    assert first[0].startswith("make synth "), first
    assert first[1].startswith("make test "), first


def test_readme_is_short_and_points_at_the_docs() -> None:
    text = README.read_text()
    assert len(text.encode()) < 8_000, (
        "the README is the two commands, install and a link: the rest goes to docs/"
    )
    for needed in ("## Install", "Check the install", "make docs", "make docs-serve", "](docs/index.md)"):
        assert needed in text, needed
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docs:", makefile, flags=re.M)
    assert re.search(r"^docs-serve:", makefile, flags=re.M)


def test_readme_links_resolve() -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text()):
        if not re.match(r"[a-z]+:", target):
            assert (ROOT / target).exists(), target


def test_readme_code_blocks_run_or_say_why_not(tmp_path: Path) -> None:
    for i, block in enumerate(BLOCKS):
        assert block.lang in RUN | PULUMI | SHELL | DATA, f"{block.where}: unknown language {block.lang!r}"
        if block.lang in SHELL and block is not BLOCKS[0]:  # the two commands are what `make` runs
            assert block.not_run, f"{block.where}: a {block.lang} block needs <!-- not run: why --> before it"
        if block.lang in RUN | PULUMI and block.not_run is None:
            result = run_block(block, tmp_path / f"block-{i}")
            assert result.returncode == 0, f"{block.where}\n{result.stderr}"
