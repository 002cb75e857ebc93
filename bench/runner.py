"""One measurement in this (fresh) process, printed as one JSON line: what ``bench.figures``
starts for every variant of every round, so no run inherits another's caches, node heap or
garbage.

    python -m bench.runner --variant library --n 100        # timings, peak memory, output hash
    python -m bench.runner --variant hoisted --n 10 --sites # jsii round trips by call site
    python -m bench.runner --variant library --n 20 --apps 10  # memory after each of 10 apps
    python -m bench.runner --variant library --n 100 --profile # where the time goes

Variants (``VARIANTS``): ``library`` (``examples/all_patterns.py``), ``tuned`` (the same
patterns through the library, the user's own code hoisted as the hoisted baseline's is:
``bench/tuned.py``; informational, the fair pair for the library's own cost), ``handwritten``,
``cached``, ``hoisted`` (``bench/handwritten.py``), ``raw`` (raw ApiObjects) and ``floor``
(dicts + libyaml, no cdk8s). Only the library's variants (``library``, ``tuned``) import
``constructs_lib``.

Every timing run first builds one chart and checks it against the golden file byte for byte
(exit status 3 if not), then times N charts in one app and reports the SHA-256 of their YAML,
which ``bench.figures`` compares across the variants of each round.
"""

from __future__ import annotations

import argparse
import collections
import gc
import hashlib
import json
import os
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "all-patterns.k8s.yaml"

# key -> label; the order is the default rotation's
VARIANTS = {
    "library": "library",
    "tuned": "library (user code hoisted)",
    "hoisted": "hand-written, hoisted",
    "cached": "hand-written, cached",
    "handwritten": "hand-written",
    "raw": "raw ApiObjects",
    "floor": "dicts + libyaml",
}


def builder(variant: str) -> Callable[[Any], object]:
    """The function that builds one chart below a scope (imports only what the variant needs)."""
    if variant == "library":
        from examples import all_patterns

        return all_patterns.build
    if variant == "tuned":
        from . import tuned

        return tuned.build
    from . import handwritten

    if variant == "raw":
        return handwritten.build_raw
    cache, hoist = {"handwritten": (False, False), "cached": (True, False), "hoisted": (False, True)}[variant]
    return lambda scope: handwritten.build(scope, cache=cache, hoist=hoist)


def build_app(variant: str, n: int, outdir: str | None = None) -> Any:
    """An app of ``n`` all-patterns charts; the first sits at the app's root (golden names)."""
    import cdk8s
    import constructs

    build = builder(variant)
    app = cdk8s.App(outdir=outdir) if outdir else cdk8s.App()
    for i in range(n):
        build(app if i == 0 else constructs.Construct(app, f"copy{i}"))
    return app


def synth_text(variant: str, n: int) -> tuple[float, float, str]:
    """(build seconds, synth seconds, YAML) of ``n`` charts."""
    start = time.perf_counter()
    if variant == "floor":
        from . import handwritten

        text = handwritten.floor_yaml(n)
        return time.perf_counter() - start, 0.0, text
    app = build_app(variant, n)
    built = time.perf_counter()
    text = app.synth_yaml()
    return built - start, time.perf_counter() - built, text


def check_golden(variant: str) -> None:
    """One chart, compared with the golden file (the floor: the same data, not the bytes)."""
    _, _, text = synth_text(variant, 1)
    golden = GOLDEN.read_text()
    if variant == "floor":
        import yaml

        same = list(yaml.safe_load_all(text)) == list(yaml.safe_load_all(golden))
    else:
        same = text == golden
    if not same:
        print(f"{variant}: YAML differs from {GOLDEN.relative_to(ROOT)}", file=sys.stderr)
        sys.exit(3)


def timing(variant: str, n: int) -> dict[str, Any]:
    """The golden check (it is also the warm-up), then ``n`` charts timed, then the peak RSS
    of this process and of every process below it (jsii's node launcher and node), read
    before they exit."""
    check_golden(variant)
    build, synth, text = synth_text(variant, n)
    return {
        "variant": variant,
        "n": n,
        "build": build,
        "synth": synth,
        "total": build + synth,
        "python_kb": status_kb(os.getpid(), "VmHWM"),
        "node_kb": children_kb("VmHWM"),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def status_kb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return float(line.split()[1])
    return 0.0


def children_kb(field: str) -> float:
    """``field`` (VmHWM, VmRSS) summed over every process below this one."""
    total, todo = 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            for kid in (task / "children").read_text().split():
                todo.append(int(kid))
                total += status_kb(int(kid), field)
    return total


# --- memory across apps -------------------------------------------------------------------


def apps(variant: str, n: int, count: int) -> dict[str, Any]:
    """Build ``count`` apps of ``n`` charts in turn, each ended with ``App.synth()`` into a
    temporary directory (what ``cdk8s synth`` runs; the library releases what its patterns
    added there, ``synth_yaml`` releases nothing) and dropped; after each: the Python heap
    (tracemalloc's current size), live gc objects, and the RSS of this process and of node.
    jsii itself never frees a Python proxy of a node object (its reference map is a plain
    dict), so every cdk8s program grows: compare variants."""
    import tempfile

    check_golden(variant)  # the process's one-off costs before the first sample
    gc.collect()
    tracemalloc.start()
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            app = build_app(variant, n, outdir=f"{tmp}/{i}")
            app.synth()
            del app
            gc.collect()
            samples.append(
                {
                    "heap_mb": tracemalloc.get_traced_memory()[0] / 2**20,
                    "objects": len(gc.get_objects()),
                    "python_rss_mb": status_kb(os.getpid(), "VmRSS") / 1024,
                    "node_rss_mb": children_kb("VmRSS") / 1024,
                }
            )
    return {"variant": variant, "n": n, "apps": samples}


# --- jsii round trips and where the time goes ----------------------------------------------


@contextmanager
def count_round_trips() -> Iterator[collections.Counter[tuple[str, str]]]:
    """Count every message Python sends to the jsii node process (each one waits for node's
    answer: a round trip), by (call site, request). A callback from node into Python ends
    with one more message (its completion), counted at the Python code it ran."""
    from jsii._kernel.providers import process as jsii_process

    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    original = jsii_process._NodeProcess.send

    def send(self: Any, request: Any, response_type: Any) -> Any:
        counts[(call_site(), _describe(request))] += 1
        return original(self, request, response_type)

    jsii_process._NodeProcess.send = send  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        jsii_process._NodeProcess.send = original  # type: ignore[method-assign]


def call_site(frames: list[traceback.FrameSummary] | None = None) -> str:
    """The innermost frame in the library, else in examples/ or bench/ (not this module)."""
    frames = traceback.extract_stack() if frames is None else frames
    for prefix in ("constructs_lib", "examples", "bench"):
        for frame in reversed(frames):
            path = Path(frame.filename)
            if prefix in path.parts and path.name not in {"runner.py", "figures.py", *PASS_THROUGH}:
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


# The library's pass-through wrappers around jsii's provider: frames there are charged to
# their caller, as jsii's own are.
PASS_THROUGH = frozenset({"_jsii_calls.py"})


def _own(filename: str) -> bool:
    """Our own code for the profile: the library, the examples, and ``bench/tuned.py`` (the
    ``tuned`` variant's user code, which stands in for the example's)."""
    path = Path(filename)
    if path.name == "tuned.py" and path.parent.name == "bench":
        return True
    return ("constructs_lib" in path.parts or "examples" in path.parts) and path.name not in PASS_THROUGH


def _key(code: Any) -> str:
    path = Path(code.co_filename)
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{where}:{code.co_firstlineno} {code.co_name}"


def profile(variant: str, n: int, top: int) -> dict[str, Any]:
    """Where ``n`` charts' build and synth spend their time (after a one-chart warm-up), by
    the innermost frame of our own code (``constructs_lib/``, ``examples/``,
    ``bench/tuned.py``) on the stack: a function's cost is its own Python time plus what it
    calls outside our code (jsii, cdk8s, the standard library), without our functions it calls.
    ``_synth.py``'s ``wrapper`` is ``app.synth_yaml``: node's synth outside our callbacks. Per
    Deployment, in ms.

    Two passes over the same work. Waiting on node (jsii reading node's pipe,
    ``_NodeProcess._next_message``) is timed directly in an otherwise unprofiled pass, which
    also gives the wall time. The Python time comes from a ``sys.setprofile`` pass (every
    interval between two call/return events charged to the innermost frame of our code), scaled
    so that its total is the unprofiled pass's wall time minus its node time: the tracer's
    per-event overhead inflates Python time about twofold, assumed evenly.
    """
    from jsii._kernel.providers import process as jsii_process

    check_golden(variant)
    clock = time.perf_counter
    outside = "(outside our code)"

    def innermost(frame: Any) -> str:
        while frame is not None:
            if _own(frame.f_code.co_filename):
                return _key(frame.f_code)
            frame = frame.f_back
        return outside

    waits: collections.defaultdict[str, float] = collections.defaultdict(float)
    original = jsii_process._NodeProcess._next_message

    def next_message(self: Any) -> Any:
        start = clock()
        try:
            return original(self)
        finally:
            waits[innermost(sys._getframe(1))] += clock() - start

    jsii_process._NodeProcess._next_message = next_message  # type: ignore[method-assign]
    try:
        gc.collect()
        start = clock()
        app = build_app(variant, n)
        built = clock()
        app.synth_yaml()
        wall = clock() - start
    finally:
        jsii_process._NodeProcess._next_message = original  # type: ignore[method-assign]
    del app

    charged: collections.defaultdict[str, float] = collections.defaultdict(float)
    profiled_waits: collections.defaultdict[str, float] = collections.defaultdict(float)
    calls: collections.Counter[str] = collections.Counter()
    stack: list[tuple[Any, str]] = [(None, outside)]
    last = [0.0]

    def tracer(frame: Any, event: str, arg: Any) -> None:
        now = clock()
        charged[stack[-1][1]] += now - last[0]
        if event == "call":
            code = frame.f_code
            if _own(code.co_filename):
                key = _key(code)
                stack.append((frame, key))
                calls[key] += 1
        elif event == "return" and stack[-1][0] is frame:
            stack.pop()
        last[0] = clock()

    def profiled_next_message(self: Any) -> Any:
        start = clock()
        try:
            return original(self)
        finally:
            profiled_waits[stack[-1][1]] += clock() - start

    jsii_process._NodeProcess._next_message = profiled_next_message  # type: ignore[method-assign]
    gc.collect()
    last[0] = clock()
    sys.setprofile(tracer)
    try:
        build_app(variant, n).synth_yaml()
    finally:
        sys.setprofile(None)
        jsii_process._NodeProcess._next_message = original  # type: ignore[method-assign]
    python = {k: max(0.0, charged[k] - profiled_waits[k]) for k in charged}
    node_total = sum(waits.values())
    scale = (wall - node_total) / (sum(python.values()) or 1.0)
    cost = {k: waits.get(k, 0.0) + python.get(k, 0.0) * scale for k in set(python) | set(waits)}
    ms = 1000 / n
    ranked = sorted(cost, key=lambda k: -cost[k])[:top]
    return {
        "variant": variant,
        "n": n,
        "wall_ms": wall * ms,
        "build_ms": (built - start) * ms,
        "synth_ms": (wall - (built - start)) * ms,
        "node_ms": node_total * ms,
        "python_scale": scale,
        "top": [
            {
                "function": k,
                "ms": cost[k] * ms,
                "node_ms": waits.get(k, 0.0) * ms,
                "python_ms": python.get(k, 0.0) * scale * ms,
                "calls": calls[k] / n,
            }
            for k in ranked
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, default="library")
    parser.add_argument("--n", type=int, default=100)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sites", action="store_true", help="jsii round trips by call site")
    mode.add_argument("--apps", type=int, metavar="K", help="memory after each of K apps")
    mode.add_argument("--profile", type=int, nargs="?", const=10, metavar="TOP", help="top costs")
    opts = parser.parse_args(argv)
    out: Any
    if opts.sites:
        counts = round_trips(opts.variant, opts.n)
        out = {
            "variant": opts.variant,
            "n": opts.n,
            "sites": [[site, what, c] for (site, what), c in counts.most_common()],
        }
    elif opts.apps:
        out = apps(opts.variant, opts.n, opts.apps)
    elif opts.profile:
        out = profile(opts.variant, opts.n, opts.profile)
    else:
        out = timing(opts.variant, opts.n)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
