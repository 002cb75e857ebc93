"""`describe` treats every manifest string as data (issue 19).

Two layers:

* the reproducers of the review, one per defect class, each with the output or message it
  gets now;
* a generated sweep (hypothesis, derandomized): random manifests with a wrong type at any
  field of a pod, strings from a hostile alphabet (``%%{init}%%``, backticks, quotes, ``<>&#;``,
  C0/C1 controls, U+2028, NUL, surrogates, 20 000 characters...), and files made hostile at the
  byte level (alias and merge-key bombs, deep nesting, UTF-16, Latin-1, NUL, broken YAML). Each
  case goes through the function (all three formats) and the command line; the invariants are
  below (:func:`_check_drawn`, :func:`_check_cli`). The counts go to
  ``build/describe-hostile.json``. ``DESCRIBE_HOSTILE_EXAMPLES=2000`` runs it longer.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import io
import json
import os
import random
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from constructs_lib import PodPictures, PropsError, describe
from constructs_lib import _describe as d
from constructs_lib.__main__ import main

from .programs import require

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "build" / "describe-hostile.json"
EXAMPLES = int(os.environ.get("DESCRIBE_HOSTILE_EXAMPLES", "600"))
FORMATS = ("mermaid", "dot", "svg")
#: What one small generated case may take, and how much it may write (well under the hard
#: MAX_OUTPUT_CHARS): a label line is at most MAX_LINE characters, 9 per character once coded.
SECONDS_PER_CASE = 10.0
OUTPUT_BOUND = 2 * 2**20


def pod(*containers: Any, **spec: Any) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": list(containers), **spec}}


def cli_in_process(*args: str) -> tuple[int, bytes, str]:
    """``main(args)`` with standard output and error captured (as bytes and text)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
    out.flush()
    return code, out.buffer.getvalue(), err.getvalue()  # type: ignore[attr-defined]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "constructs_lib", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        cwd=ROOT,
        timeout=120,
        check=False,
    )


# --- the review's reproducers, one per defect class ---------------------------------------------

THEME = "nginx:1%%{init:{'theme':'dark','themeCSS':'.node{fill:red}'}}%%"


def test_a_mermaid_directive_in_an_image_is_text() -> None:
    text = describe([pod({"name": "app", "image": THEME})]).mermaid()
    assert "%%" not in text
    assert (
        '      p1_c_app["app<br/>nginx:1#37;#37;#123;init:#123;#39;theme#39;:#39;dark#39;,'
        '#39;themeCSS#39;:#39;.node#123;fill:red#125;#39;#125;#125;#37;#37;"]:::main\n'
    ) in text
    (parsed,) = mermaid_read([text])
    assert parsed["config"] == {}  # no directive reached Mermaid
    assert {"type": "string", "text": f"app<br>{THEME}"} in parsed["labels"]


def test_backticks_quotes_and_entities_are_text() -> None:
    name = '`md` "q" #quot; <b>x</b> & {y} [z] | style:#x;'
    text = describe([pod({"name": name, "image": "i"})]).mermaid()
    assert "`" not in text
    (parsed,) = mermaid_read([text])
    assert "error" not in parsed
    assert {"type": "string", "text": f"{name}<br>i"} in parsed["labels"]


def test_control_characters_are_visible_escapes() -> None:
    image = "a\x1b[31mred\u2028b\x00c\x85d\u202ee\ud800"
    pictures = describe([pod({"name": "app", "image": image})])
    shown = "a\\x1b[31mred\\u2028b\\x00c\\x85d\\u202ee\\ud800"
    assert d.display(image) == shown
    assert "a#92;x1b#91;31mred#92;u2028b#92;x00c#92;x85d#92;u202ee#92;ud800" in pictures.mermaid()
    assert "app\\n" + shown.replace("\\", "\\\\") in pictures.dot()
    svg = pictures.svg(require("dot", "graphviz"))
    ET.fromstring(svg.encode())  # well-formed XML
    assert f">{shown}</text>" in svg


def test_nul_and_long_strings_draw_as_svg() -> None:
    long = "x" * 20_000
    pictures = describe([pod({"name": long, "image": "a\x00b"}, volumes=[{"name": "v", "emptyDir": {}}])])
    svg = pictures.svg(require("dot", "graphviz"))
    ET.fromstring(svg.encode())
    assert "x" * (d.MAX_TEXT - 1) + "…" in svg
    assert "x" * d.MAX_TEXT not in svg
    assert "a\\x00b" in svg


def test_dot_entities_are_text() -> None:
    """Graphviz decodes ``&...;`` in labels: ``&nbsp;`` would be undefined in the SVG, ``&#0;`` a NUL."""
    pictures = describe([pod({"name": "&nbsp; &#0; &lt;", "image": "&"})])
    assert "&amp;nbsp; &amp;#0; &amp;lt;" in pictures.dot()
    svg = pictures.svg(require("dot", "graphviz"))
    ET.fromstring(svg.encode())
    assert "&amp;nbsp; &amp;#0; &amp;lt;" in svg


def test_wrong_types_are_drawn_as_data() -> None:
    """The review's odd files: each is drawn, the odd value shown (or skipped where a number is needed)."""
    (p,) = describe(
        [
            {
                "kind": "Pod",
                "metadata": None,
                "spec": {
                    "containers": [
                        {"image": "a", "ports": [{"containerPort": "http"}, {"containerPort": 8080}]},
                        {"name": True, "image": ["x"], "volumeMounts": [{"name": "v"}]},
                        "not a container",
                    ],
                    "volumes": "not a list",
                },
            }
        ]
    ).pods
    assert (p.name, p.namespace) == ("(no name)", "default")
    assert p.containers == (
        d.Container("(no name)", "a", "container", 0, (d.Listener(8080, ("containerPort",)),)),
        d.Container("true", "[...]", "container", 0, ()),
    )
    assert p.mounts == (d.Mount("true", "v", "(no mountPath)", "write"),)
    assert p.volumes == (d.Volume("v", "not declared in the pod"),)
    for doc in (
        {"kind": "Deployment", "metadata": {"name": "x"}, "spec": None},
        {"kind": "CronJob", "metadata": "x", "spec": {"jobTemplate": []}},
        {"kind": "StatefulSet", "spec": {"volumeClaimTemplates": [None, {"metadata": None}]}},
    ):
        (picture,) = describe([doc]).pods
        assert picture.containers == ()


def test_yaml_11_scalars_are_their_yaml_text(tmp_path: Path) -> None:
    path = tmp_path / "yes.yaml"
    path.write_text("kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: yes, image: 1.5}]\n")
    code, out, err = cli_in_process("describe", str(path))
    assert (code, err) == (0, "")
    assert b'      p1_c_true["true<br/>1.5"]:::main\n' in out


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "kind: Pod\n".encode("utf-16"),
            "encoding='UTF-16': describe reads UTF-8 only. Fix: convert it: iconv -f UTF-16 -t UTF-8",
        ),
        (
            "kind: Pod\n".encode("utf-16-le"),
            "encoding='NUL byte at offset 1': not UTF-8 YAML text (UTF-16 without a byte-order mark?). "
            "Fix: save the file as UTF-8",
        ),
        (
            "kind: Pod\nmetadata: {name: café}\n".encode("latin-1"),
            "encoding='byte 0xe9 at offset 30': not UTF-8. Fix: save the file as UTF-8",
        ),
        (
            b"a:\n" + b"".join(b"  " * i + b"b:\n" for i in range(1, 120)),
            "yaml='line 101': objects and lists nest more than 100 levels deep. "
            "Fix: pass a Kubernetes manifest (its objects nest far less)",
        ),
        (
            b"a: " + b"[" * 5000 + b"]" * 5000,
            "yaml='line 1, column 1003': not valid YAML: while increasing flow level exceeded maximum "
            "nesting depth. Fix: fix the YAML there",
        ),
        (
            b"a: &a [*a]\n",
            "yaml='*a': a YAML alias refers to a node that contains it (an endless structure). "
            "Fix: remove the alias",
        ),
        (
            b"- just\n- a list\n",
            "document 1='a list': every YAML document must be a Kubernetes object (a mapping). "
            "Fix: pass a synthesized manifest: objects separated by ---",
        ),
        (
            b"kind: !!python/object/apply:os.system [echo]\n",
            "yaml='line 1, column 7': not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'. Fix: fix the YAML there",
        ),
    ],
    ids=["utf-16", "utf-16-no-bom", "latin-1", "deep-block", "deep-flow", "recursive-alias", "list", "tag"],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    code, out, err = cli_in_process("describe", str(path))
    assert (code, out) == (2, b"")
    assert err == f"error: {path}: {message}\n"


def alias_bomb(levels: int = 9) -> bytes:
    """The review's bomb: 626 bytes that expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    lines += [
        "kind: Pod",
        "metadata: {name: p}",
        f"spec: {{containers: [{{name: x, args: *a{levels - 1}}}]}}",
    ]
    return ("\n".join(lines) + "\n").encode()


def merge_bomb(levels: int = 12) -> bytes:
    """Merge keys copy the merged pairs into the mapping: 9 merges a level multiply them."""
    lines = ["b0: &b0 {x: 1, y: 2}"]
    lines += [f"b{i}: &b{i} {{<<: [{', '.join([f'*b{i - 1}'] * 9)}]}}" for i in range(1, levels)]
    return ("\n".join(["kind: Pod", *lines]) + "\n").encode()


def test_alias_bombs_are_refused_before_they_expand(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    for data in (alias_bomb(), merge_bomb()):
        bomb.write_bytes(data)
        start = time.monotonic()
        code, out, err = cli_in_process("describe", str(bomb))
        assert time.monotonic() - start < 1.0
        assert (code, out) == (2, b"")
        assert err == (
            f"error: {bomb}: yaml='more than 1000000 nodes': its YAML aliases expand to more than 1000000 "
            "nodes (strings count per 64 characters). Fix: expand or remove the YAML aliases (synthesized "
            "manifests have none), or describe a smaller manifest\n"
        )
    # the same structure as Python objects (yaml.safe_load builds it sharing lists: cheap)
    start = time.monotonic()
    with pytest.raises(PropsError, match=r"^docs: docs='more than 1000000 nodes': the documents hold"):
        describe(yaml.safe_load_all(alias_bomb()))
    assert time.monotonic() - start < 1.0
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(PropsError, match=r"^docs: docs='a list': a list or object contains itself"):
        describe([pod({"name": "x", "args": loop})])
    # a few aliases, as a hand-written manifest may have, are fine
    anchors = b"kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - &c {name: a, image: i}\n  - *c\n"
    assert [c.name for c in d.describe(d.read_manifest(anchors)).pods[0].containers] == ["a", "a"]


def test_budgets(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * d.MAX_FILE_BYTES + b"\n")
    code, out, err = cli_in_process("describe", str(big))
    assert (code, out) == (2, b"")
    assert err == (
        f"error: {big}: size='over 8388608 bytes': describe reads manifests of at most 8 MiB. "
        "Fix: describe one chart's manifest at a time (cdk8s writes one file per chart)\n"
    )
    many = [{"name": f"c{i}", "volumeMounts": [{"name": "v", "mountPath": "/v"}]} for i in range(1000)]
    with pytest.raises(
        PropsError, match=r"^docs: docs='more than 2000 nodes and edges': the picture would be"
    ):
        describe([pod(*many)])
    # many selectors times many pods: refused, quickly, before the matching takes long
    pods = [
        {"kind": "Pod", "metadata": {"name": f"p{i}", "labels": {"app": "x"}}, "spec": {"containers": [{}]}}
        for i in range(300)
    ]
    services = [
        {"kind": "Service", "metadata": {"name": f"s{i}"}, "spec": {"selector": {"app": "x", "b": "y"}}}
        for i in range(2000)
    ]
    start = time.monotonic()
    with pytest.raises(PropsError, match=r"^docs: docs='more than 1000000 label comparisons'"):
        describe(pods + services)
    assert time.monotonic() - start < 2.0
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(d.MAX_DEPTH):
        node["x"] = node = {}
    with pytest.raises(PropsError, match="nest more than 100 levels deep"):
        describe([pod({"name": "x", "image": deep})])


def test_unwritable_output_and_closed_pipe(tmp_path: Path) -> None:
    manifest = str(ROOT / "tests" / "golden" / "pod.k8s.yaml")
    missing_dir = tmp_path / "none" / "out.svg"
    code, out, err = cli_in_process("describe", manifest, "-o", str(missing_dir))
    assert (code, out) == (2, b"")
    assert err == f"error: cannot write {missing_dir}: [Errno 2] No such file or directory: '{missing_dir}'\n"
    code, _, err = cli_in_process("describe", manifest, "-o", str(tmp_path))
    assert code == 2
    assert err.startswith(f"error: cannot write {tmp_path}: [Errno 21] Is a directory")
    # standard output closed before describe writes (`describe ... | true`): one line, no traceback
    proc = subprocess.run(
        f"{sys.executable} -m constructs_lib describe {manifest} --format dot | true; "
        "exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (
        2,
        "error: cannot write standard output: [Errno 32] Broken pipe\n",
    )


def test_the_command_line_never_shows_a_traceback(tmp_path: Path) -> None:
    """The reproducers through the real ``python -m constructs_lib`` (exit code, one line)."""
    require("dot", "graphviz")
    files = {
        "theme.yaml": yaml.safe_dump(pod({"name": "app", "image": THEME})).encode(),
        "controls.yaml": yaml.safe_dump(pod({"name": "a\x1b]0;owned\x07", "image": "\x00\u2028"})).encode(),
        "odd.yaml": b"kind: Pod\nmetadata: null\n"
        b"spec: {containers: [{ports: [{containerPort: http}]}, {name: yes}]}\n",
        "utf16.yaml": "kind: Pod\n".encode("utf-16"),
        "latin1.yaml": "kind: Pod\nmetadata: {name: café}\n".encode("latin-1"),
        "deep.yaml": b"a: " + b"[" * 5000 + b"]" * 5000,
        "bomb.yaml": alias_bomb(),
        "broken.yaml": b"kind: Pod\nmetadata: {name: [\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    runs = [(name, fmt) for name in files for fmt in FORMATS]
    with ThreadPoolExecutor(8) as pool:
        procs = list(pool.map(lambda run: cli("describe", str(tmp_path / run[0]), "--format", run[1]), runs))
    for (name, fmt), proc in zip(runs, procs, strict=True):
        assert "Traceback" not in proc.stderr, (name, fmt, proc.stderr)
        if name in ("theme.yaml", "controls.yaml", "odd.yaml"):
            assert (proc.returncode, proc.stderr) == (0, ""), (name, fmt, proc.stderr)
            assert not any(ch != "\n" and not ch.isprintable() for ch in proc.stdout), (name, fmt)
            if fmt == "svg":
                ET.fromstring(proc.stdout.encode())
        else:
            assert proc.returncode == 2, (name, fmt, proc.stderr)
            assert proc.stdout == ""
            assert re.fullmatch(r"error: [^\n]*\n", proc.stderr), (name, proc.stderr)
    unwritable = cli("describe", str(tmp_path / "theme.yaml"), "-o", str(tmp_path / "no" / "such" / "dir"))
    assert unwritable.returncode == 2
    assert unwritable.stderr.startswith("error: cannot write ")
    assert unwritable.stderr.count("\n") == 1


# --- Mermaid, read back ----------------------------------------------------------------------


def mermaid_read(texts: list[str]) -> list[dict[str, Any]]:
    """What the real Mermaid parser reads from each text (tests/mermaid_labels.mjs)."""
    assert (ROOT / "node_modules" / "mermaid").exists(), "run `make setup` (npm ci) first"
    proc = subprocess.run(
        ["node", str(Path(__file__).parent / "mermaid_labels.mjs")],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=True,
    )
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results


def test_the_label_reader_sees_an_injection() -> None:
    """The check has teeth: with only ``"<>`` escaped (describe before issue 19), Mermaid reads
    the directive (a theme and CSS) and the backtick (a markdown label)."""
    old = f'flowchart LR\n  a["app<br/>{THEME}"]\n  b["`md`"]\n'
    (parsed,) = mermaid_read([old])
    assert parsed["config"] == {"theme": "dark", "themeCSS": ".node{fill:red}"}
    assert {"type": "string", "text": "app<br>nginx:1"} in parsed["labels"]
    assert {"type": "markdown", "text": "md"} in parsed["labels"]


def expected_labels(pictures: PodPictures) -> set[str]:
    """Every label describe means to draw, as a browser shows it (lines joined by ``<br>``)."""
    labels: set[str] = set()
    for i, p in enumerate(pictures.pods, start=1):
        labels.add(f"{d.display(p.kind)} {d.display(p.namespace)}/{d.display(p.name)}")
        labels |= {d._ROLE_TITLE[role] for role, _ in d._groups(p, d._container_ids(p, f"p{i}")[0])}
        labels |= {"<br>".join(d._container_lines(c)) for c in p.containers}
        labels |= {f"{d.display(v.name)}<br>{d.display(v.source)}" for v in p.volumes}
        labels |= {"<br>".join(lines) for _, lines in d._missing_nodes(p, f"p{i}")}
        labels |= {"<br>".join(lines) for _, _, lines in d._outside_nodes(p, f"p{i}")}
        labels |= {label for *_, label in d._edges(p, f"p{i}")}
    return {label.strip() for label in labels}


# --- the generated sweep -----------------------------------------------------------------------

#: Pieces of hostile strings: Mermaid, DOT, XML, YAML and terminal syntax, controls, long text.
PIECES = [
    "%%",
    "%%{init: {'theme':'dark','themeCSS':'.node{fill:red}'}}%%",
    "%%{wrap}%%",
    "`",
    "`**md**`",
    '"',
    "'",
    "<",
    ">",
    "&",
    "#",
    ";",
    "#quot;",
    "#35;",
    "&nbsp;",
    "&#0;",
    "&lt;",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "|",
    "\\",
    "\\N",
    "\\G",
    "\\l",
    "<br/>",
    "<img src=x onerror=alert(1)>",
    "-->",
    "]]",
    ":::",
    "end",
    "subgraph",
    "style",
    "classDef",
    "click",
    "style x:#f00;",
    "ﬂ°°",
    "¶ß",
    "---\n",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x1b]0;title\x07",
    "\x7f",
    "\x85",
    "\x9b",
    "\t",
    "\n",
    "\r",
    "\u2028",
    "\u2029",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\ufffe",
    "\ud800",
    "\U000e0001",
    "é",
    "日本",
    "😀",
    "localhost:80",
    "127.0.0.1:6379",
    "[::1]:9000",
    "--listen=:8080",
    "--port",
    "8080",
    "yes",
    "null",
    "~",
    "*a",
    "&a",
    "!!python/object:os.system",
    "listen 80;",
    "x" * 300,
]
STRINGS = st.one_of(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=5).map("".join),
    st.sampled_from(["A" * 20_000, "%%" * 5000, "\x00" * 17_000, "\u2028" * 3000]),
)
NAMES = st.one_of(st.sampled_from(["app", "web", "v", "data", "conf", "end", "style", "a-b", "a_b"]), STRINGS)
PORTS = st.one_of(
    st.integers(1, 65535),
    st.sampled_from([0, -1, 65536, 10**30, 2**64, True, "http", "80", "99999", "٨٠", "²", "8080 "]),
)
WRONG = st.one_of(
    STRINGS,
    st.integers(),
    st.sampled_from([10**5000, -(10**80), 1.5, float("nan"), float("inf"), True, False, None]),
    st.binary(max_size=8),
    st.dates(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of ``options``, each as often as its weight (``one_of`` takes no weights)."""
    choices = [strategy for weight, strategy in options for _ in range(weight)]
    return st.integers(0, len(choices) - 1).flatmap(lambda i: choices[i])


def field(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the right shape, sometimes a value of a wrong type."""
    return weighted((4, good), (1, WRONG))


def obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: field(v) for k, v in fields.items()})


def some(element: st.SearchStrategy[Any], n: int = 3) -> st.SearchStrategy[list[Any]]:
    return st.lists(field(element), max_size=n)


WORDS = st.one_of(
    STRINGS, st.sampled_from(["--listen", ":8080", "--port", "6379", "--url=http://localhost:80/x"])
)
PROBE = obj(httpGet=obj(port=st.one_of(PORTS, NAMES)), tcpSocket=obj(port=PORTS), grpc=obj(port=PORTS))
CONTAINER = obj(
    name=NAMES,
    image=STRINGS,
    restartPolicy=st.sampled_from(["Always", "OnFailure"]),
    ports=some(obj(containerPort=PORTS, name=NAMES)),
    command=some(WORDS),
    args=some(WORDS),
    env=some(
        obj(name=st.one_of(NAMES, st.sampled_from(["X_HOST", "X_PORT"])), value=st.one_of(STRINGS, PORTS))
    ),
    volumeMounts=some(obj(name=NAMES, mountPath=STRINGS, readOnly=st.booleans())),
    readinessProbe=PROBE,
    livenessProbe=PROBE,
)
VOLUME = st.one_of(
    obj(name=NAMES, emptyDir=obj(medium=STRINGS)),
    obj(name=NAMES, configMap=obj(name=NAMES)),
    obj(name=NAMES, secret=obj(secretName=STRINGS)),
    st.dictionaries(STRINGS, WRONG, max_size=2),
)
POD_SPEC = obj(containers=some(CONTAINER), initContainers=some(CONTAINER, 2), volumes=some(VOLUME))
KIND = weighted((4, st.sampled_from(d.WORKLOAD_KINDS)), (1, STRINGS))
#: Labels drawn from a few common words (so that selectors match) or hostile text.
LABEL_KEYS = st.one_of(st.sampled_from(["app", "tier"]), NAMES)
LABEL_VALUES = st.one_of(st.sampled_from(["web", "front"]), STRINGS)
LABELS = st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=3)
ANNOTATIONS = st.dictionaries(
    st.one_of(st.sampled_from(["prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path"]), STRINGS),
    st.one_of(STRINGS, PORTS),
    max_size=4,
)
METADATA = obj(name=NAMES, namespace=NAMES, labels=LABELS, annotations=ANNOTATIONS)
SERVICE = obj(
    selector=LABELS,
    type=STRINGS,
    clusterIP=st.sampled_from(["None", "10.0.0.1"]),
    ports=some(
        obj(
            port=PORTS,
            targetPort=st.one_of(PORTS, NAMES),
            name=NAMES,
            protocol=st.one_of(st.sampled_from(["TCP", "UDP"]), STRINGS),
        )
    ),
)
POD_MONITOR = obj(
    selector=obj(
        matchLabels=LABELS,
        matchExpressions=some(
            obj(
                key=LABEL_KEYS,
                operator=st.one_of(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]), STRINGS),
                values=some(LABEL_VALUES),
            ),
            2,
        ),
    ),
    namespaceSelector=obj(any=st.booleans(), matchNames=some(NAMES)),
    podMetricsEndpoints=some(
        obj(port=NAMES, portNumber=PORTS, targetPort=st.one_of(PORTS, NAMES), path=STRINGS, scheme=STRINGS)
    ),
)


def _socket(host: Any, port: Any) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}


def _envoy(listener: str, port: Any, cluster: str, host: Any = "localhost", priority: Any = 0) -> str:
    """An Envoy bootstrap: an admin address, a redis_proxy listener whose routes (catch-all with a
    read policy, a key prefix) name ``cluster``, and ``cluster`` with an endpoint on ``host``
    (loopback, or another host: an upstream) at ``priority``."""
    route = {"cluster": cluster, "read_command_policy": {"cluster": cluster}}
    return yaml.safe_dump(
        {
            "admin": {"address": _socket("127.0.0.1", port)},
            "static_resources": {
                "listeners": [
                    {
                        "name": listener,
                        "address": {"socket_address": {"port_value": port}},
                        "filter_chains": [
                            {
                                "filters": [
                                    {
                                        "typed_config": {
                                            "prefix_routes": {
                                                "catch_all_route": route,
                                                "routes": [{"prefix": listener, **route}],
                                            }
                                        }
                                    }
                                ]
                            }
                        ],
                    }
                ],
                "clusters": [
                    {
                        "name": cluster,
                        "load_assignment": {
                            "endpoints": [
                                {
                                    "priority": priority,
                                    "lb_endpoints": [{"endpoint": {"address": _socket(host, port)}}],
                                }
                            ]
                        },
                    }
                ],
            },
        }
    )


PRIORITIES = st.one_of(st.integers(0, 3), st.sampled_from([-1, True, "1", 2**40, None, 1.5, [1]]))
CONFIG_TEXT = st.one_of(
    STRINGS,
    st.builds(_envoy, STRINGS, PORTS, STRINGS),
    st.builds(
        _envoy,
        STRINGS,
        PORTS,
        STRINGS,
        st.one_of(STRINGS, st.sampled_from(["redis.ns.svc", "db"])),
        PRIORITIES,
    ),
    st.builds(lambda s, p: f"server {{\n  listen {p};\n  # {s}\n}}\n", STRINGS, PORTS),
    st.sampled_from(
        [
            alias_bomb().decode().replace("kind: Pod", "admin: x"),
            "admin: " + "[" * 3000,
            "admin: &a [*a]",
            "\n" * 50_000 + "listen 80;",
            "listen " + "a:" * 20_000,
        ]
    ),
)


@st.composite
def documents(draw: st.DrawFn) -> list[Any]:
    docs: list[Any] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(KIND)
        spec = draw(field(POD_SPEC))
        wrapped: Any = {
            "Pod": spec,
            "CronJob": {"jobTemplate": {"spec": {"template": {"spec": spec}}}},
        }.get(kind, {"template": {"metadata": draw(field(METADATA)), "spec": spec}})
        if kind == "StatefulSet":
            wrapped["volumeClaimTemplates"] = draw(some(obj(metadata=obj(name=NAMES))))
        doc: dict[str, Any] = {
            "kind": kind,
            "metadata": draw(field(METADATA)),
            "spec": draw(field(st.just(wrapped))),
        }
        docs.append(doc)
    for _ in range(draw(st.integers(0, 2))):
        docs.append(
            {
                "kind": "ConfigMap",
                "metadata": draw(field(obj(name=NAMES))),
                "data": draw(field(st.dictionaries(NAMES, field(CONFIG_TEXT), max_size=2))),
            }
        )
    if draw(weighted((3, st.just(False)), (1, st.just(True)))):  # a proxy that mounts its Envoy config
        envoy = draw(st.builds(_envoy, STRINGS, PORTS, STRINGS, STRINGS, PRIORITIES))
        container = {"name": draw(NAMES), "volumeMounts": [{"name": "conf", "mountPath": "/etc/envoy"}]}
        volume = {"name": "conf", "configMap": {"name": "envoy"}}
        docs.append(
            {
                "kind": "Pod",
                "metadata": {"name": "proxy"},
                "spec": {"containers": [container], "volumes": [volume]},
            }
        )
        docs.append({"kind": "ConfigMap", "metadata": {"name": "envoy"}, "data": {"envoy.yaml": envoy}})
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["Service", "PodMonitor"]))
        docs.append(
            {
                "kind": kind,
                "metadata": draw(field(METADATA)),
                "spec": draw(field(SERVICE if kind == "Service" else POD_MONITOR)),
            }
        )
    docs = draw(st.permutations(docs))
    if draw(weighted((9, st.just(False)), (1, st.just(True)))):
        docs.insert(draw(st.integers(0, len(docs))), draw(st.one_of(st.none(), WRONG)))
    return docs


@contextlib.contextmanager
def _long_ints() -> Iterator[None]:
    """Python refuses str() of an int over 4300 digits; YAML can hold one."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(limit)


def _dump(docs: list[Any]) -> bytes:
    """The documents as a YAML file (raw UTF-8 where it can be, else escapes)."""
    with _long_ints():
        try:
            return yaml.dump_all(docs, allow_unicode=True, sort_keys=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: only an escape can carry it
            return yaml.dump_all(docs, sort_keys=False).encode("ascii")


#: Byte-level changes to the file: each makes it hostile to the reader rather than to the drawing.
MUTATIONS: dict[str, Callable[[bytes, int], bytes]] = {
    "none": lambda b, _: b,
    "utf-8 BOM": lambda b, _: b"\xef\xbb\xbf" + b,
    "truncated": lambda b, i: b[: i % (len(b) + 1)],
    "byte 0xff": lambda b, i: b[: i % (len(b) + 1)] + b"\xff" + b[i % (len(b) + 1) :],
    "NUL": lambda b, i: b[: i % (len(b) + 1)] + b"\x00" + b[i % (len(b) + 1) :],
    "raw ESC": lambda b, i: b[: i % (len(b) + 1)] + b"\x1b" + b[i % (len(b) + 1) :],
    "tab": lambda b, i: b.replace(b"\n", b"\n\t", 1 + i % 3),
    "utf-16": lambda b, _: b.decode("utf-8", "replace").encode("utf-16"),
    "utf-16-le": lambda b, _: b.decode("utf-8", "replace").encode("utf-16-le"),
    "alias bomb": lambda b, _: alias_bomb() + b"---\n" + b,
    "merge bomb": lambda b, _: b + b"---\n" + merge_bomb(),
    "recursive alias": lambda b, _: b + b"---\nkind: Pod\nspec: &s {template: *s}\n",
    "deep flow": lambda b, i: b + b"---\nkind: Pod\nspec: " + b"[" * (90 + i % 2000) + b"]" * (90 + i % 2000),
    "deep block": lambda b, i: (
        b + b"---\nkind: Pod\nx:\n" + b"".join(b" " * k + b" y:\n" for k in range(95 + i % 20))
    ),
    "huge int": lambda b, _: (
        b
        + b"---\nkind: Pod\nspec: {containers: [{name: a, ports: [{containerPort: 1"
        + b"0" * 5000
        + b"}]}]}\n"
    ),
    "bad timestamp": lambda b, _: b + b"---\nkind: Pod\nmetadata: {name: 2024-13-45}\n",
    "python tag": lambda b, _: b + b"---\nkind: !!python/object/apply:os.system [echo]\n",
    "few aliases": lambda b, _: (
        b + b"---\nkind: Pod\nmetadata: {name: &n x}\nspec: {containers: [{name: *n}, {name: *n}]}\n"
    ),
}


ROTATION = sorted(MUTATIONS)


class Tally:
    """What the sweep saw; ``other`` must stay 0 (anything that is not drawn or refused)."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.mermaid: list[tuple[str, set[str]]] = []

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] += n


def _check_text(text: str, fmt: str) -> None:
    assert len(text) <= OUTPUT_BOUND, (fmt, len(text))
    assert not any(ch != "\n" and not ch.isprintable() for ch in text), fmt
    if fmt == "mermaid":
        assert "%%" not in text
        assert "`" not in text
        assert text.isascii()
    if fmt == "svg":
        ET.fromstring(text.encode())


def _check_drawn(docs: list[Any], tally: Tally, dot: str, svg: bool) -> PodPictures | None:
    """describe(docs): drawn (each format well-formed, bounded, printable) or refused (PropsError)."""
    start = time.monotonic()
    try:
        pictures = describe(docs, source="case")
    except PropsError as err:
        tally.add("function: refused")
        tally.add(f"function: refused: {err.problem.split(' (')[0]}")
        message = str(err)
    else:
        message = ""
    if message:
        assert "\n" not in message
        return None
    tally.add("function: drawn")
    tally.add(
        "function: drawn with a Service, PodMonitor or annotations",
        any(p.discovered_by for p in pictures.pods),
    )
    tally.add("function: drawn with an upstream", any(p.upstreams for p in pictures.pods))
    for fmt in FORMATS if svg else FORMATS[:2]:
        text = pictures.svg(dot) if fmt == "svg" else getattr(pictures, fmt)()
        _check_text(text, fmt)
        tally.add(f"function: {fmt} checked")
    tally.mermaid.append((pictures.mermaid(), expected_labels(pictures)))
    assert time.monotonic() - start < SECONDS_PER_CASE
    return pictures


def _check_cli(path: Path, fmt: str, tally: Tally, mutation: str) -> tuple[int, bytes]:
    """The command line on the file: exit 0 with output and nothing on stderr, or 1/2 with one
    ``error: ...`` line and no output."""
    start = time.monotonic()
    code, out, err = cli_in_process("describe", str(path), "--format", fmt)
    assert time.monotonic() - start < SECONDS_PER_CASE
    tally.add(f"cli: exit {code}")
    tally.add(f"cli: mutation {mutation}: exit {code}")
    if code == 0:
        assert err == ""
        _check_text(out.decode("utf-8"), fmt)
    else:
        assert code in (1, 2), (code, err)
        assert out == b""
        assert re.fullmatch(r"error: [^\n]*\n", err), err
        assert err[:-1].isprintable(), err
    return code, out


def test_generated_hostile_manifests(tmp_path: Path) -> None:
    dot = require("dot", "graphviz")
    tally = Tally()
    started = time.monotonic()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # shrinking these takes minutes; the report says enough
    )
    @given(docs=documents())
    def case(docs: list[Any]) -> None:
        # the file's mutation and the format: uniform, and the same for the same example
        with _long_ints():
            rnd = random.Random(hashlib.sha256(repr(docs).encode("utf-8", "surrogatepass")).digest())
        mutation, fmt, where, svg = (
            rnd.choice(ROTATION),
            rnd.choice(FORMATS),
            rnd.randrange(10**6),
            rnd.random(),
        )
        tally.add("cases")
        pictures = _check_drawn(docs, tally, dot, svg=svg < 0.5)
        path = tmp_path / "case.yaml"
        path.write_bytes(MUTATIONS[mutation](_dump(docs), where))
        code, out = _check_cli(path, fmt, tally, mutation)
        # the file says what the objects say: the command line draws the same picture (compared
        # only when the YAML reads back equal: NaN does not equal itself, libyaml refuses a
        # surrogate's escape, timestamps stay text)
        try:
            same = d.read_manifest(_dump(docs)) == [doc for doc in docs if doc]
        except PropsError:
            same = False
        if same and mutation == "none" and pictures is not None and fmt != "svg":
            assert code == 0, (fmt, out[:300])
            assert out.decode() == getattr(pictures, fmt)(), fmt
            tally.add("cli: same picture as the function")

    case()
    # every Mermaid text through the real parser: it parses, sets no configuration, and shows
    # exactly the labels describe meant (no injected node, edge, class, directive or markdown)
    texts = [text for text, _ in tally.mermaid]
    for (text, expected), parsed in zip(tally.mermaid, mermaid_read(texts), strict=True):
        assert "error" not in parsed, (parsed, text[:2000])
        assert parsed["diagramType"] == "flowchart-v2"
        assert parsed["config"] == {}, text[:2000]
        for label in parsed["labels"]:
            if label["type"] == "text":  # a group id used as an edge's end: Mermaid labels it with the id
                assert re.fullmatch(r"p[0-9]+_g_(init|container)", label["text"]), label
                continue
            assert label["type"] == "string", label
            assert label["text"].strip() in expected, (label, sorted(expected)[:20])
        tally.add("mermaid: parsed, labels as meant")
    counts = dict(sorted(tally.counts.items()))
    other = counts["cases"] - counts.get("function: drawn", 0) - counts.get("function: refused", 0)
    report = {
        "cases": counts["cases"],
        "drawn": counts.get("function: drawn", 0),
        "refused": counts.get("function: refused", 0),
        "other": other,
        "seconds": round(time.monotonic() - started, 1),
        "counts": counts,
    }
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    assert other == 0
    assert counts["cases"] > EXAMPLES // 2
    assert report["drawn"] > EXAMPLES // 4
    assert report["refused"] > 0
    assert counts.get("cli: exit 2", 0) > 0
    assert counts.get("cli: exit 0", 0) > EXAMPLES // 10
    assert counts.get("function: drawn with a Service, PodMonitor or annotations", 0) > EXAMPLES // 20
    assert counts.get("function: drawn with an upstream", 0) > 0
