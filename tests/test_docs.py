"""The docs site (mkdocs.yml, docs/) stays true: it builds strictly, every code block runs (or says why not),
printed output is the page's, and the API reference covers the public API.

Code blocks, by their fence's language:

- ``python``: run as a script in a scratch directory (``CDK8S_OUTDIR`` there); a block that calls
  ``app.synth()`` at top level must write a manifest. A ``text`` block right after it is its standard output,
  compared exactly (``UPDATE_GOLDEN=1`` rewrites those blocks from a run); a block that prints must have one.
  Each block also passes ruff (check and format) with the project's settings.
- ``py``: a Pulumi program, run under Pulumi's mocks (the Pulumi page's recipe, inlined).
- ``sh``, ``bash``, ``console``: commands this test cannot run; each needs ``<!-- not run: why -->`` on the
  line before it.
- ``text``, ``yaml``, ``mermaid``: data.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
PAGES = sorted(p for p in DOCS.rglob("*.md"))

RUN = {"python"}
PULUMI = {"py"}
SHELL = {"sh", "bash", "console", "shell"}
DATA = {"text", "yaml", "mermaid"}
NOT_RUN = re.compile(r"^<!-- not run: (?P<why>\S.*?) -->$")
FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")

#: What runs a ``py`` block: the Pulumi page's mocks recipe, around the block.
PULUMI_HARNESS = """
from typing import Any

import pulumi


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


pulumi.runtime.set_mocks(Mocks(), preview=False)


@pulumi.runtime.test
def program() -> None:
    exec(compile(SNIPPET, WHERE, "exec"), {"__name__": "__main__"})


program()
"""


@dataclass(frozen=True)
class Block:
    """One fenced code block of a Markdown file."""

    path: Path
    start: int  # 0-based line of the opening fence
    end: int  # 0-based line of the closing fence
    lang: str
    code: str
    not_run: str | None  # the reason of a `<!-- not run: ... -->` on the line before

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.start + 1}"


def code_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of ``path``, in order."""
    lines = path.read_text().split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = next(
            (j for j in range(i + 1, len(lines)) if lines[j].strip() == fence),
            None,
        )
        assert end is not None, f"{path}:{i + 1}: unclosed code block"
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        reason = NOT_RUN.match(before.strip())
        body = "\n".join(line[indent:] for line in lines[i + 1 : end])
        found.append(
            Block(
                path,
                i,
                end,
                opening["info"].strip().split(" ")[0].lstrip("{.").rstrip("}"),
                body + "\n" if body else "",
                reason["why"] if reason else None,
            )
        )
        i = end + 1
    return found


def output_of(block: Block, blocks: list[Block]) -> Block | None:
    """The ``text`` block right after ``block`` (only blank lines between): its printed output."""
    lines = block.path.read_text().split("\n")
    following = [b for b in blocks if b.start > block.end]
    if not following or following[0].lang != "text":
        return None
    between = lines[block.end + 1 : following[0].start]
    return following[0] if not any(line.strip() for line in between) else None


def runnable(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.lang in RUN | PULUMI and b.not_run is None]


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str
    manifests: list[str]


def run_block(block: Block, work: Path) -> Ran:
    """Run one block as a script of its own in ``work`` (a fresh directory), as a reader would."""
    work.mkdir(parents=True)
    script = work / "snippet.py"
    if block.lang in PULUMI:
        script.write_text(f"SNIPPET = {block.code!r}\nWHERE = {block.where!r}\n{PULUMI_HARNESS}")
    else:
        script.write_text(block.code)
    env = {**os.environ, "CDK8S_OUTDIR": str(work / "dist")}
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    manifests = sorted(p.name for p in (work / "dist").glob("*.k8s.yaml"))
    return Ran(proc.returncode, proc.stdout, proc.stderr, manifests)


def run_all(blocks: list[Block], work: Path) -> dict[str, Ran]:
    """Every block, a few at a time (each is a Python process with its own Node)."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        futures = {b.where: pool.submit(run_block, b, work / f"block-{i}") for i, b in enumerate(blocks)}
        return {where: future.result() for where, future in futures.items()}


def rewrite_outputs(path: Path, outputs: dict[int, str]) -> None:
    """Replace the body of each ``text`` block starting at line ``n`` with ``outputs[n]``."""
    lines = path.read_text().split("\n")
    for start in sorted(outputs, reverse=True):
        end = next(j for j in range(start + 1, len(lines)) if lines[j].strip() == lines[start].strip()[:3])
        lines[start + 1 : end] = outputs[start].rstrip("\n").split("\n")
    path.write_text("\n".join(lines))


BLOCKS = {page: code_blocks(page) for page in PAGES}
ALL_BLOCKS = [b for blocks in BLOCKS.values() for b in blocks]
RUNNABLE = [b for blocks in BLOCKS.values() for b in runnable(blocks)]


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    results = run_all(RUNNABLE, tmp_path_factory.mktemp("blocks"))
    if os.environ.get("UPDATE_GOLDEN"):
        for page, blocks in BLOCKS.items():
            new = {
                out.start: results[b.where].stdout
                for b in runnable(blocks)
                if (out := output_of(b, blocks)) is not None and results[b.where].returncode == 0
            }
            if new:
                rewrite_outputs(page, new)
    return results


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built with ``mkdocs build --strict`` (as ``make docs`` does) into a scratch directory."""
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def inventory(site: Path) -> set[str]:
    """The objects the build rendered, from its Sphinx-format ``objects.inv``."""
    data = (site / "objects.inv").read_bytes()
    header_end = 0
    for _ in range(4):  # four header lines, then the zlib-compressed entries
        header_end = data.index(b"\n", header_end) + 1
    entries = zlib.decompress(data[header_end:]).decode().splitlines()
    return {line.split(" ", 1)[0] for line in entries if " py:" in line}


def public_names() -> dict[str, list[str]]:
    import constructs_lib
    import constructs_lib.pulumi

    return {
        "constructs_lib": list(constructs_lib.__all__),
        "constructs_lib.pulumi": constructs_lib.pulumi.__all__,
    }


# --- the build ---------------------------------------------------------------------------------


def test_site_builds_strictly_with_every_page(site: Path) -> None:
    built = sorted(p.relative_to(site) for p in site.rglob("*.html") if p.name != "404.html")
    assert len(built) == len(PAGES), built  # one page per Markdown file, each in the nav (else: warning)
    for name in sorted(p.name for p in (DOCS / "pods").glob("*.svg")):
        assert (site / "pods" / name).read_bytes() == (DOCS / "pods" / name).read_bytes(), name


def test_api_reference_renders_exactly_the_public_names(site: Path) -> None:
    """Each public name has a `::: module.name` entry in docs/reference/, rendered by the build, and each
    entry is a public name (none private, none removed)."""
    entries = set(re.findall(r"^::: (\S+)$", "\n".join(p.read_text() for p in REFERENCE.glob("*.md")), re.M))
    expected = {f"{module}.{name}" for module, names in public_names().items() for name in names}
    assert not expected - entries, f"public names without a reference entry: {sorted(expected - entries)}"
    assert not entries - expected, (
        f"reference entries that are not public names: {sorted(entries - expected)}"
    )
    rendered = inventory(site)
    assert not expected - rendered, f"entries the build did not render: {sorted(expected - rendered)}"


def test_names_without_a_docstring_are_described_in_the_reference() -> None:
    import inspect

    import constructs_lib
    import constructs_lib.pulumi

    reference = "\n".join(p.read_text() for p in REFERENCE.glob("*.md"))
    for module, names in public_names().items():
        mod = constructs_lib if module == "constructs_lib" else constructs_lib.pulumi
        for name in names:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                doc = vars(obj).get("__doc__")
            elif inspect.isfunction(obj):
                doc = obj.__doc__
            else:  # a constant or a type alias: its docstring is its type's
                doc = None
            if not (doc or "").strip():
                assert f"| `{name}` |" in reference, (
                    f"{module}.{name} has no docstring and no row in docs/reference/"
                )


# --- code blocks -------------------------------------------------------------------------------


def test_every_code_block_runs_or_says_why_not() -> None:
    assert RUNNABLE
    for block in ALL_BLOCKS:
        assert block.lang in RUN | PULUMI | SHELL | DATA, f"{block.where}: unknown language {block.lang!r}"
        if block.lang in SHELL:
            assert block.not_run, f"{block.where}: a {block.lang} block needs <!-- not run: why --> before it"


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.where for b in RUNNABLE])
def test_python_block_runs(block: Block, ran: dict[str, Ran]) -> None:
    result = ran[block.where]
    assert result.returncode == 0, f"{block.where}\n{result.stderr}"
    if re.search(r"^app\.synth\(\)", block.code, flags=re.M):
        assert result.manifests, f"{block.where} synthesized nothing"
    expected = output_of(block, BLOCKS[block.path])
    if expected is None:
        assert not result.stdout, f"{block.where} prints; put its output in a ```text block right after it"
    elif not os.environ.get("UPDATE_GOLDEN"):
        assert result.stdout == expected.code, (
            f"{expected.where}: not what the block above prints (UPDATE_GOLDEN=1 rewrites it)"
        )


def test_error_messages_shown_without_their_block_are_real(ran: dict[str, Ran]) -> None:
    """A ```text block holding an error message (``... Fix: ...``) that is not some block's output must
    still be one that a block of the docs prints."""
    printed = "".join(result.stdout for result in ran.values())
    for blocks in BLOCKS.values():
        outputs = {id(out) for b in runnable(blocks) if (out := output_of(b, blocks)) is not None}
        for block in blocks:
            if block.lang == "text" and " Fix: " in block.code and id(block) not in outputs:
                for line in block.code.splitlines():
                    assert line in printed, f"{block.where}: no block of the docs prints {line!r}"


def test_python_blocks_pass_ruff(tmp_path: Path) -> None:
    """The project's lint and format settings, so that the docs read like the code."""
    files = []
    for i, block in enumerate(b for b in RUNNABLE if b.lang in RUN):
        path = tmp_path / f"block_{i}.py"
        path.write_text(block.code)
        files.append((path, block.where))
    names = {str(p.name): where for p, where in files}
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["check", "--no-cache", *config], ["format", "--check", "--no-cache", *config]):
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *command, *[str(p) for p, _ in files]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        report = proc.stdout + proc.stderr
        for name, where in names.items():
            report = report.replace(str(tmp_path / name), where)
        assert proc.returncode == 0, report


# --- the README and the pages share these ------------------------------------------------------


def test_install_section_is_included_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "--8<-- [start:install]" in readme
    assert "--8<-- [end:install]" in readme
    assert '--8<-- "README.md:install"' in (DOCS / "install.md").read_text()


def test_every_pod_picture_is_shown() -> None:
    text = (DOCS / "pictures.md").read_text()
    for svg in sorted((DOCS / "pods").glob("*.svg")):
        assert f"](pods/{svg.name})" in text, svg.name


def walk_links() -> Iterator[tuple[Path, str]]:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.match(r"[a-z]+:", target):
                yield page, target


def test_links_to_repository_files_are_not_used() -> None:
    """A link must stay inside docs/ (the site has nothing else); name repository files as `code`."""
    for page, target in walk_links():
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(DOCS), f"{page.relative_to(ROOT)}: {target} leaves docs/"
        assert resolved.exists(), f"{page.relative_to(ROOT)}: {target} does not exist"


def test_client_table_is_where_test_client_matrix_reads_it() -> None:
    """tests/test_client_matrix.py compares (and, with UPDATE_GOLDEN=1, rewrites) the block between these
    markers with its run's table: one block, the table right after the opening marker."""
    page = (DOCS / "patterns" / "redis-ambassador.md").read_text()
    blocks = re.findall(r"<!-- client-matrix -->\n(.*?)\n<!-- /client-matrix -->", page, flags=re.S)
    assert len(blocks) == 1
    assert blocks[0].startswith("| client | at its defaults |"), blocks[0][:80]
    assert "client-matrix" not in (ROOT / "README.md").read_text()


def test_quick_start_lists_every_example() -> None:
    text = (DOCS / "quickstart.md").read_text()
    for example in sorted((ROOT / "examples").glob("*.py")):
        if not example.name.startswith("_"):
            assert f"`{example.name}`" in text, example.name
