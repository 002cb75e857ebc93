"""Issue 11's figures, every one next to its target, measured in one run.

The library builds ``examples/all_patterns.py``'s chart (all three patterns on one
Deployment) N times in one app; the other variants build the very same YAML (checked, byte
for byte, at the start of every run):

* ``hand-written``: ``bench/handwritten.py``, cdk8s-plus-27 used directly;
* ``hand-written, cached``: the same, its Durations/Cpu/Size created once per process;
* ``raw ApiObjects``: the same documents as Python data in plain ``cdk8s.ApiObject``s;
* ``dicts + libyaml``: no cdk8s at all (the floor; same data, libyaml's indentation).

Timings are interleaved (every variant once per round, rounds repeated) and every figure is
computed once per run; a figure is printed as the range over ``--runs`` runs. Peak memory
and the N growth are measured in a fresh process per variant and N.

    .venv/bin/python -m bench.figures [--runs 2] [--n 100] [--big-n 1000] [--rounds 3]
    .venv/bin/python -m bench.figures --sites   # jsii round trips per Deployment by call site
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import cdk8s
import constructs
from jsii._kernel.providers import process as jsii_process

from examples import all_patterns

from . import handwritten

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "all-patterns.k8s.yaml"


def _library(scope: constructs.Construct) -> None:
    all_patterns.build(cast(cdk8s.App, scope))  # a Chart only needs a scope


VARIANTS: dict[str, Callable[[constructs.Construct], object]] = {
    "library": _library,
    "hand-written": lambda scope: handwritten.build(scope),
    "hand-written, cached": lambda scope: handwritten.build(scope, cache=True),
    "raw ApiObjects": handwritten.build_raw,
}
FLOOR = "dicts + libyaml"


def build_app(variant: str, n: int) -> cdk8s.App:
    """An app of ``n`` all-patterns charts; the first sits at the app's root (golden names)."""
    app = cdk8s.App()
    build = VARIANTS[variant]
    for i in range(n):
        build(app if i == 0 else constructs.Construct(app, f"copy{i}"))
    return app


def check_same_yaml() -> None:
    """Every variant writes the golden file of examples/all_patterns.py, byte for byte."""
    golden = GOLDEN.read_text()
    for variant in VARIANTS:
        text = build_app(variant, 1).synth_yaml()
        if text != golden:
            sys.exit(f"{variant}: YAML differs from {GOLDEN.relative_to(ROOT)}")
    import yaml

    if list(yaml.safe_load_all(handwritten.floor_yaml(1))) != list(yaml.safe_load_all(golden)):
        sys.exit(f"{FLOOR}: data differs from {GOLDEN.relative_to(ROOT)}")


def timed(variant: str, n: int) -> tuple[float, float]:
    """(build seconds, synth seconds) for ``n`` Deployments."""
    start = time.perf_counter()
    if variant == FLOOR:
        handwritten.floor_yaml(n)
        return time.perf_counter() - start, 0.0
    app = build_app(variant, n)
    built = time.perf_counter()
    app.synth_yaml()
    return built - start, time.perf_counter() - built


# --- jsii round trips -------------------------------------------------------------------


@contextmanager
def count_round_trips() -> Iterator[collections.Counter[tuple[str, str]]]:
    """Count every message Python sends to the jsii node process (each one waits for node's
    answer: a round trip), by (call site, request). A callback from node into Python ends
    with one more message (its completion), counted at the Python code it ran."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    original = jsii_process._NodeProcess.send

    def send(self: Any, request: Any, response_type: Any) -> Any:
        counts[(_call_site(), _describe(request))] += 1
        return original(self, request, response_type)

    jsii_process._NodeProcess.send = send  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        jsii_process._NodeProcess.send = original  # type: ignore[method-assign]


def _call_site() -> str:
    """The innermost frame in the library, else in bench/ or examples/."""
    frames = traceback.extract_stack()
    for prefix in ("constructs_lib", "bench", "examples"):
        for frame in reversed(frames):
            path = Path(frame.filename)
            if prefix in path.parts and path.name != "figures.py":
                return f"{path.relative_to(ROOT)}:{frame.lineno} {frame.name}"
    return "(jsii/cdk8s internals)"


def _describe(request: Any) -> str:
    kind = type(request).__name__.removesuffix("Request").lstrip("_")
    obj = getattr(request, "objref", None)
    owner = obj.ref.split("@")[0] if obj is not None else getattr(request, "fqn", "")
    member = getattr(request, "method", None) or getattr(request, "property", None) or ""
    return f"{kind} {owner.rsplit('.', 1)[-1]}{'.' + member if member else ''}"


def round_trips(variant: str, n: int) -> collections.Counter[tuple[str, str]]:
    build_app(variant, 1).synth_yaml()  # warm caches, as in a real app of many charts
    with count_round_trips() as counts:
        build_app(variant, n).synth_yaml()
    return counts


# --- fresh processes -------------------------------------------------------------------


def child(variant: str, n: int) -> dict[str, float]:
    """Run in a fresh process: time ``n`` Deployments after a warm-up, then the peak RSS of
    this process and of its node child (VmHWM, read before either exits)."""
    timed(variant, 1)
    build, synth = timed(variant, n)
    return {"build": build, "synth": synth, "python_kb": _hwm(os.getpid()), "node_kb": _node_hwm()}


def _hwm(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    return 0.0


def _node_hwm() -> float:
    """Peak RSS of every process below this one: jsii's node launcher and the node program it runs."""
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            for kid in (task / "children").read_text().split():
                todo.append(int(kid))
                total += _hwm(int(kid))
    return total


def in_fresh_process(variant: str, n: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.figures", "--child", variant, str(n)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return cast(dict[str, float], json.loads(out.splitlines()[-1]))


def import_seconds(code: str, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env)
    return time.perf_counter() - start


def cli_vs_direct(rounds: int) -> float:
    """Median of ``cdk8s synth`` / ``python -m examples`` (same outdir kind, interleaved)."""
    cli = ROOT / "node_modules" / ".bin" / "cdk8s"
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            start = time.perf_counter()
            subprocess.run(
                [str(cli), "synth", "--no-check-upgrade", "-o", f"{tmp}/cli"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            middle = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "examples"],
                cwd=ROOT,
                check=True,
                env={**os.environ, "CDK8S_OUTDIR": f"{tmp}/direct"},
            )
            ratios.append((middle - start) / (time.perf_counter() - middle))
    return statistics.median(ratios)


# --- one run ------------------------------------------------------------------------------

TIMED = [*VARIANTS, FLOOR]
GROWTH = ["library", "hand-written, cached"]


def one_run(opts: argparse.Namespace) -> dict[str, float]:
    """Every figure once; keys are figure names."""
    fig: dict[str, float] = {}
    samples: dict[str, list[float]] = {v: [] for v in TIMED}
    for _ in range(opts.rounds):
        for variant in TIMED:
            samples[variant].append(sum(timed(variant, opts.n)))
    ms = {v: statistics.median(s) * 1000 / opts.n for v, s in samples.items()}
    for variant in TIMED:
        fig[f"ms/Deployment, {variant}"] = ms[variant]
    fig["build+synth library / hand-written"] = ms["library"] / ms["hand-written"]
    fig["build+synth library / hand-written, cached"] = ms["library"] / ms["hand-written, cached"]
    fig["library / raw ApiObjects"] = ms["library"] / ms["raw ApiObjects"]
    fig[f"library / {FLOOR}"] = ms["library"] / ms[FLOOR]

    for variant in ("library", "hand-written", "hand-written, cached"):
        counts = round_trips(variant, 10)
        fig[f"round trips/Deployment, {variant}"] = sum(counts.values()) / 10

    fresh: dict[tuple[str, int], dict[str, float]] = {}
    for n in (opts.n, opts.big_n):
        for variant in GROWTH:
            fresh[(variant, n)] = in_fresh_process(variant, n)
    for variant in GROWTH:
        small, big = fresh[(variant, opts.n)], fresh[(variant, opts.big_n)]
        per = {k: (small[k] / opts.n, big[k] / opts.big_n) for k in ("build", "synth")}
        total = (per["build"][0] + per["synth"][0], per["build"][1] + per["synth"][1])
        fig[f"growth N={opts.big_n}/N={opts.n}, {variant}"] = total[1] / total[0]
        fig[f"synth ms/Deployment N={opts.n}, {variant}"] = per["synth"][0] * 1000
        fig[f"synth ms/Deployment N={opts.big_n}, {variant}"] = per["synth"][1] * 1000
        fig[f"peak MB N={opts.big_n} python+node, {variant}"] = (big["python_kb"] + big["node_kb"]) / 1024

    # "no gc": the same imports with Python's garbage collector paused. The process's first
    # full collection (~20 ms over the ~55k objects cdk8s's import leaves) falls due during the
    # library's import; without the library it comes later, in the app's own code.
    imports = {
        # The package loads its cdk8s names on first use (describe never starts Node): time the
        # import of a pattern, which is what an app does.
        "lib": "import constructs_lib; constructs_lib.SidecarGitSync",
        "base": "import cdk8s, cdk8s_plus_27",
        "lib no gc": "import gc; gc.disable(); import constructs_lib; constructs_lib.SidecarGitSync",
        "base no gc": "import gc; gc.disable(); import cdk8s, cdk8s_plus_27",
    }
    times: dict[str, list[float]] = {k: [] for k in imports}
    # Both sides from bytecode, as after `pip install` (which compiles every module): this
    # machine sets PYTHONDONTWRITEBYTECODE=1, so the editable checkout would otherwise recompile
    # the library's sources on every import (~50 of its ~80 ms) while cdk8s loads its .pyc.
    with tempfile.TemporaryDirectory() as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        for code in imports.values():
            import_seconds(code, env)  # warm-up: writes every module's bytecode below pycache
        for _ in range(opts.import_rounds):
            for key, code in imports.items():
                times[key].append(import_seconds(code, env))
    fig["import constructs_lib / import cdk8s, cdk8s_plus_27"] = statistics.median(
        times["lib"]
    ) / statistics.median(times["base"])
    fig["import ratio, gc paused"] = statistics.median(times["lib no gc"]) / statistics.median(
        times["base no gc"]
    )
    fig["cdk8s synth / python -m examples"] = cli_vs_direct(opts.cli_rounds)
    return fig


def report(runs: Sequence[dict[str, float]], opts: argparse.Namespace) -> None:
    def spread(key: str, fmt: str = ".2f") -> str:
        values = sorted(r[key] for r in runs)
        lo, hi = values[0], values[-1]
        return f"{lo:{fmt}}" if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}}-{hi:{fmt}}"

    def worst(key: str, higher_is_worse: bool = True) -> float:
        return max(r[key] for r in runs) if higher_is_worse else min(r[key] for r in runs)

    n, big = opts.n, opts.big_n
    hand_mem = f"peak MB N={big} python+node, hand-written, cached"
    lib_mem = f"peak MB N={big} python+node, library"
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"build + synth, library / hand-written, cached (N={n})",
            spread("build+synth library / hand-written, cached"),
            "<= 1.0",
            worst("build+synth library / hand-written, cached") <= 1.0,
        ),
        (
            f"build + synth, library / hand-written, not cached (N={n})",
            spread("build+synth library / hand-written"),
            "",
            None,
        ),
        (
            "jsii round trips per Deployment, library",
            spread("round trips/Deployment, library", ".0f"),
            f"<= hand-written ({spread('round trips/Deployment, hand-written', '.0f')}; "
            f"cached {spread('round trips/Deployment, hand-written, cached', '.0f')})",
            worst("round trips/Deployment, library") <= worst("round trips/Deployment, hand-written", False),
        ),
        (
            f"per-Deployment cost N={big} / N={n}, library",
            spread(f"growth N={big}/N={n}, library")
            + f" (synth {spread(f'synth ms/Deployment N={n}, library', '.1f')} → "
            f"{spread(f'synth ms/Deployment N={big}, library', '.1f')} ms)",
            f"<= 1.1, or hand-written grows the same "
            f"({spread(f'growth N={big}/N={n}, hand-written, cached')}; synth "
            f"{spread(f'synth ms/Deployment N={n}, hand-written, cached', '.1f')} → "
            f"{spread(f'synth ms/Deployment N={big}, hand-written, cached', '.1f')} ms)",
            worst(f"growth N={big}/N={n}, library") <= 1.1
            or worst(f"growth N={big}/N={n}, library")
            <= 1.1 * worst(f"growth N={big}/N={n}, hand-written, cached"),
        ),
        (
            f"peak memory N={big}, python + node (MB), library",
            spread(lib_mem, ".0f"),
            f"<= hand-written + 10% ({spread(hand_mem, '.0f')} x 1.1)",
            worst(lib_mem) <= 1.1 * worst(hand_mem, False),
        ),
        (
            "import constructs_lib / import cdk8s, cdk8s_plus_27",
            spread("import constructs_lib / import cdk8s, cdk8s_plus_27"),
            "<= 1.05",
            worst("import constructs_lib / import cdk8s, cdk8s_plus_27") <= 1.05,
        ),
        (
            "the same, garbage collector paused on both sides",
            spread("import ratio, gc paused"),
            "(the first full collection falls in the library's import)",
            None,
        ),
        (
            "cdk8s synth of the examples / python -m examples",
            spread("cdk8s synth / python -m examples"),
            "documented; CI can run the app directly",
            None,
        ),
        (
            f"library / raw ApiObjects (N={n})",
            spread("library / raw ApiObjects"),
            "",
            None,
        ),
        (f"library / {FLOOR} (N={n})", spread(f"library / {FLOOR}"), "", None),
    ]
    print(f"\nIssue 11 figures: {len(runs)} runs, {opts.rounds} interleaved rounds each (range over runs)")
    for figure, value, target, ok in rows:
        verdict = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {figure:<58} {value:<34} target {target or '-'}{verdict}")
    print(f"\n  ms per Deployment, build + synth (N={n}):")
    for variant in TIMED:
        print(f"    {variant:<24} {spread(f'ms/Deployment, {variant}', '.1f')}")


def print_sites(variant: str, n: int) -> None:
    counts = round_trips(variant, n)
    by_site: collections.Counter[str] = collections.Counter()
    for (site, _), count in counts.items():
        by_site[site] += count
    print(f"jsii round trips per Deployment, {variant}: {sum(counts.values()) / n:.0f}")
    for site, count in by_site.most_common():
        print(f"  {count / n:6.1f}  {site}")
        for (s, what), c in counts.most_common():
            if s == site:
                print(f"  {'':6}    {c / n:5.1f} {what}")


def print_memory(n: int, k: int) -> None:
    """Peak memory is the noisiest figure (node's heap peaks when V8 happens to collect): ``k``
    fresh processes per variant, interleaved, every sample and the median."""
    samples: dict[str, list[tuple[float, float]]] = {v: [] for v in GROWTH}
    for _ in range(k):
        for variant in GROWTH:
            out = in_fresh_process(variant, n)
            samples[variant].append((out["python_kb"] / 1024, out["node_kb"] / 1024))
    print(f"peak memory at N={n}, MB (python + node), {k} fresh processes per variant:")
    for variant, values in samples.items():
        totals = [p + q for p, q in values]
        listed = ", ".join(f"{p + q:.0f} ({p:.0f} + {q:.0f})" for p, q in values)
        print(f"  {variant:<22} median {statistics.median(totals):.0f}: {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the N timing")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--big-n", type=int, default=1000)
    parser.add_argument("--import-rounds", type=int, default=25)
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--sites", nargs="?", const="library", help="round trips by call site, and stop")
    parser.add_argument(
        "--memory", type=int, metavar="K", help="peak memory at --big-n in K fresh processes each, and stop"
    )
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "N"), help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(child(opts.child[0], int(opts.child[1]))))
        return
    if opts.sites:
        print_sites(opts.sites, 10)
        return
    if opts.memory:
        print_memory(opts.big_n, opts.memory)
        return
    check_same_yaml()
    print(f"same YAML: {', '.join(VARIANTS)} write {GOLDEN.relative_to(ROOT)} byte for byte;")
    print(f"{FLOOR}: the same data")
    runs = []
    for i in range(opts.runs):
        started = time.perf_counter()
        runs.append(one_run(opts))
        print(f"run {i + 1}/{opts.runs}: {time.perf_counter() - started:.0f} s", flush=True)
    report(runs, opts)


if __name__ == "__main__":
    main()
