"""Issue 24's figures (after issue 11's), each as min / median / max of per-round paired ratios.

The library builds ``examples/all_patterns.py``'s chart (all three patterns on one Deployment)
N times in one app; the hand-written variants (``bench/handwritten.py``) build the very same
YAML. Protocol:

* every measurement is a fresh process (``python -m bench.runner --variant X --n N``): no run
  inherits another's caches, node heap or garbage;
* a round runs every variant once, in an order rotated by one each round (so no variant is
  always first or last after the machine's other jobs);
* each process checks its first chart against the golden file byte for byte, and reports the
  SHA-256 of its N charts' YAML: every variant of a round must print the same (checked);
* a figure is the ratio library / baseline computed within each round (paired), printed as
  min / median / max over the rounds, with how many rounds are above the target.

Variants: ``library``; ``tuned`` (``bench/tuned.py``: the library's same patterns, with the
example's own nginx code hoisted as the hoisted baseline's is: the same user code on both sides,
so tuned / hoisted is the library's own cost; informational rows, not the headline or a
target); ``hoisted`` (hand-written, every constant node-side object built once per process: the
baseline to beat); ``cached`` (hand-written, Durations/Cpu/Size once); ``handwritten``
(straightforward); with ``--all`` also ``raw`` (raw ApiObjects) and ``floor`` (dicts +
libyaml, no cdk8s).

    .venv/bin/python -m bench.figures                 # everything (~25 min on the busy 2-core machine)
    .venv/bin/python -m bench.figures --quick         # every figure on tiny inputs (~1-2 min)
    .venv/bin/python -m bench.figures --only speed    # sections: speed big import apps sites profile cli
    .venv/bin/python -m bench.figures --sites hoisted # jsii round trips per Deployment by call site
    .venv/bin/python -m bench.figures --memory 5      # peak memory at --big-n, 5 fresh processes each
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .runner import ROOT, VARIANTS

SILENCE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
MAIN = ["library", "tuned", "hoisted", "cached", "handwritten"]
BIG = ["library", "tuned", "hoisted", "cached"]
MEMORY = ["library", "hoisted", "cached"]  # --memory K: the memory target's variants only
EXTRA = ["raw", "floor"]
SECTIONS = ["speed", "big", "import", "apps", "sites", "profile", "cli"]
# Column widths: a figure's name, a variant's label.
FIGURE = 66
LABEL = max(len(label) for label in VARIANTS.values())

T = TypeVar("T")
Result = dict[str, Any]
Run = Callable[[str, int], Result]


# --- the protocol ----------------------------------------------------------------------------


def rotated(items: Sequence[T], index: int) -> list[T]:
    """``items`` rotated left by ``index``: round i starts with the i-th variant."""
    if not items:
        return []
    k = index % len(items)
    return [*items[k:], *items[:k]]


def child_env(silence: bool = True) -> dict[str, str]:
    """The children's environment: this one, with jsii's Node banner silenced or not, and the
    tree this module is in first on the path (so a worktree measures its own library)."""
    env = dict(os.environ)
    env.pop(SILENCE, None)
    if silence:
        env[SILENCE] = "20"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return env


def fresh(args: Sequence[str]) -> Result:
    """Run ``python -m bench.runner ARGS`` in a fresh process: its JSON line, and the wall
    time of the whole process (interpreter start and imports included) as ``process``."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.runner", *args],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"bench.runner {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    out: Result = json.loads(done.stdout.splitlines()[-1])
    out["process"] = elapsed
    return out


def fresh_timing(variant: str, n: int) -> Result:
    return fresh(["--variant", variant, "--n", str(n)])


def paired_rounds(
    variants: Sequence[str], n: int, rounds: int, run: Run = fresh_timing, progress: str = ""
) -> list[dict[str, Result]]:
    """``rounds`` rounds; each runs every variant once (``run``), order rotated per round,
    and checks that every cdk8s variant wrote the same YAML (the floor writes the same data
    with libyaml's indentation, so it is checked against the golden data only)."""
    out = []
    for i in range(rounds):
        results = {v: run(v, n) for v in rotated(variants, i)}
        hashes = {v: r["sha256"] for v, r in results.items() if v != "floor"}
        if len(set(hashes.values())) > 1:
            sys.exit(f"round {i + 1} at N={n}: the variants wrote different YAML: {hashes}")
        out.append(results)
        if progress:
            print(f"  {progress} round {i + 1}/{rounds}: {', '.join(rotated(variants, i))}", flush=True)
    return out


@dataclass(frozen=True)
class Spread:
    """min / median / max of per-round values, and how many rounds are above a threshold."""

    values: tuple[float, ...]
    above: int
    threshold: float | None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def text(self, fmt: str = ".2f") -> str:
        lo, mid, hi = min(self.values), self.median, max(self.values)
        out = f"{lo:{fmt}} / {mid:{fmt}} / {hi:{fmt}}"
        if self.threshold is not None:
            out += f"  ({self.above} of {len(self.values)} rounds above {self.threshold})"
        return out


def spread(values: Iterable[float], threshold: float | None = None) -> Spread:
    vals = tuple(values)
    if not vals:
        raise ValueError("no rounds")
    above = sum(v > threshold for v in vals) if threshold is not None else 0
    return Spread(vals, above, threshold)


def ratios(rounds: Sequence[dict[str, Result]], num: str, den: str, key: str = "total") -> list[float]:
    """The paired ratio ``num / den`` of ``key`` in each round."""
    return [r[num][key] / r[den][key] for r in rounds]


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


# --- printing ----------------------------------------------------------------------------------


def line(figure: str, s: Spread, target: str = "", fmt: str = ".2f") -> str:
    return f"  {figure:<{FIGURE}} {s.text(fmt):<44} {target}".rstrip()


def target_line(figure: str, s: Spread, target: float) -> str:
    return line(figure, s, f"target median <= {target}: {verdict(s.median, target)}")


def speed_report(rounds: Sequence[dict[str, Result]], n: int, title: str) -> list[str]:
    """Build + synth and the synth phase, library against each hand-written baseline."""
    out = [f"{title}: N={n}, {len(rounds)} rounds, min / median / max of the per-round ratio"]
    present = set(rounds[0])
    out.append(
        target_line(
            "build + synth, library / hand-written, hoisted",
            spread(ratios(rounds, "library", "hoisted"), 1.0),
            1.0,
        )
    )
    for base in ("cached", "handwritten", "raw", "floor"):
        if base in present:
            out.append(
                line(
                    f"build + synth, library / {VARIANTS[base]}", spread(ratios(rounds, "library", base), 1.0)
                )
            )
    out.append(
        target_line(
            "synth phase, library / hand-written, hoisted",
            spread(ratios(rounds, "library", "hoisted", "synth"), 1.2),
            1.2,
        )
    )
    for base in ("cached", "handwritten"):
        if base in present:
            out.append(
                target_line(
                    f"synth phase, library / {VARIANTS[base]}",
                    spread(ratios(rounds, "library", base, "synth"), 1.2),
                    1.2,
                )
            )
    out.append(
        line(
            "whole process, library / hand-written, hoisted",
            spread(ratios(rounds, "library", "hoisted", "process"), 1.0),
            "(fresh interpreter: imports, one-chart check, N charts)",
        )
    )
    if "tuned" in present:
        # The same user code on both sides (bench/tuned.py): the library's own cost. Not a target.
        info = "informational, not a target: the same user code on both sides"
        out.append(
            line(
                "build + synth, library (user code hoisted) / hand-written, hoisted",
                spread(ratios(rounds, "tuned", "hoisted"), 1.0),
                info,
            )
        )
        out.append(
            line(
                "synth phase, library (user code hoisted) / hand-written, hoisted",
                spread(ratios(rounds, "tuned", "hoisted", "synth"), 1.2),
                "informational",
            )
        )
        out.append(
            line(
                "build + synth, library / library (user code hoisted)",
                spread(ratios(rounds, "library", "tuned"), 1.0),
                "informational: what the example's own nginx code adds",
            )
        )
    out.append(f"  ms per Deployment, min / median / max (N={n}):")
    for v in VARIANTS:
        if v in present:
            per = {
                k: spread(r[v][k] * 1000 / n for r in rounds).text(".1f") for k in ("total", "build", "synth")
            }
            out.append(
                f"    {VARIANTS[v]:<{LABEL}} {per['total']:<20} build {per['build']:<20} synth {per['synth']}"
            )
    return out


def memory_report(rounds: Sequence[dict[str, Result]], n: int) -> list[str]:
    """Peak memory (VmHWM of python plus its node processes) over the fresh processes."""

    def mb(r: Result) -> float:
        return (float(r["python_kb"]) + float(r["node_kb"])) / 1024

    out = [f"peak memory at N={n}, MB, python + node (VmHWM), {len(rounds)} fresh processes per variant:"]
    med = {}
    for v in rounds[0]:
        totals = [mb(r[v]) for r in rounds]
        med[v] = statistics.median(totals)
        python = spread(float(r[v]["python_kb"]) / 1024 for r in rounds).text(".0f")
        node = spread(float(r[v]["node_kb"]) / 1024 for r in rounds).text(".0f")
        out.append(
            f"    {VARIANTS[v]:<{LABEL}} {spread(totals).text('.0f'):<18} python {python:<18} node {node}"
        )
    if "cached" in med:
        goal = med["cached"] * 1.05
        out.append(
            f"  median library {med['library']:.0f} MB against hand-written, cached "
            f"{med['cached']:.0f} + 5% = {goal:.0f}: {verdict(med['library'], goal)}"
        )
        paired = spread([mb(r["library"]) / mb(r["cached"]) for r in rounds], 1.05)
        out.append(line("peak memory, library / hand-written, cached (paired)", paired))
        py = spread(
            [float(r["library"]["python_kb"]) / float(r["cached"]["python_kb"]) for r in rounds], 1.05
        )
        out.append(line("python process peak, library / hand-written, cached", py))
    return out


def growth_report(
    small: Sequence[dict[str, Result]], big: Sequence[dict[str, Result]], n: int, big_n: int
) -> list[str]:
    out = [f"per-Deployment cost N={big_n} / N={n} (medians over rounds):"]
    for v in big[0]:
        if v not in small[0]:
            continue
        per = {
            (k, m): statistics.median(r[v][k] for r in rounds) / m
            for k in ("total", "synth")
            for m, rounds in ((n, small), (big_n, big))
        }
        out.append(
            f"    {VARIANTS[v]:<{LABEL}} {per[('total', big_n)] / per[('total', n)]:.2f}  "
            f"(synth {per[('synth', n)] * 1000:.1f} -> {per[('synth', big_n)] * 1000:.1f} ms per Deployment)"
        )
    return out


# --- import ------------------------------------------------------------------------------------

IMPORTS = {
    # The package loads its cdk8s names on first use (describe never starts Node): time the
    # import of a pattern, which is what an app does.
    "lib": "import constructs_lib; constructs_lib.SidecarGitSync",
    "base": "import cdk8s, cdk8s_plus_27",
    # The same with Python's garbage collector paused: the process's first full collection
    # falls due during whichever import comes second to cdk8s's.
    "lib no gc": "import gc; gc.disable(); import constructs_lib; constructs_lib.SidecarGitSync",
    "base no gc": "import gc; gc.disable(); import cdk8s, cdk8s_plus_27",
}


def import_rounds(rounds: int, progress: bool = False) -> dict[str, list[dict[str, float]]]:
    """Fresh interpreters, every snippet once per round in a rotated order, with the Node
    banner's variable set ("silenced") and removed from the child's environment ("unset").
    Both sides load bytecode, as after ``pip install``: this machine sets
    PYTHONDONTWRITEBYTECODE=1, which would make the editable checkout recompile the library."""
    jobs = [(setting, key) for setting in ("silenced", "unset") for key in IMPORTS]
    out: dict[str, list[dict[str, float]]] = {"silenced": [], "unset": []}
    with tempfile.TemporaryDirectory() as pycache:
        envs = {}
        for setting in out:
            env = child_env(silence=setting == "silenced")
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = pycache
            envs[setting] = env
        for setting, key in jobs:
            _run_code(IMPORTS[key], envs[setting])  # warm-up: writes the bytecode below pycache
        for i in range(rounds):
            times: dict[tuple[str, str], float] = {}
            for setting, key in rotated(jobs, i):
                times[(setting, key)] = _run_code(IMPORTS[key], envs[setting])
            for setting in out:
                out[setting].append({key: times[(setting, key)] for key in IMPORTS})
            if progress:
                print(f"  import round {i + 1}/{rounds}", flush=True)
    return out


def _run_code(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, env=env, capture_output=True)
    return time.perf_counter() - start


def import_report(data: dict[str, list[dict[str, float]]]) -> list[str]:
    out = [f"import, fresh interpreters, {len(data['silenced'])} rounds, per-round ratio:"]
    for setting in ("silenced", "unset"):
        rounds = data[setting]
        label = f"the Node banner's variable {'set' if setting == 'silenced' else 'unset'}"
        s = spread([r["lib"] / r["base"] for r in rounds], 1.05)
        out.append(f"  import constructs_lib / import cdk8s, cdk8s_plus_27, {label}:")
        out.append(target_line("", s, 1.05))
        gc_paused = spread([r["lib no gc"] / r["base no gc"] for r in rounds], 1.05)
        out.append(line("the same, garbage collector paused on both sides", gc_paused))
        ms = spread(r["lib"] * 1000 for r in rounds).text(".0f")
        base = spread(r["base"] * 1000 for r in rounds).text(".0f")
        out.append(f"    ms: library {ms}, cdk8s {base}")
    return out


# --- memory across apps --------------------------------------------------------------------------


def apps_report(results: dict[str, Result], bound_mb: float) -> list[str]:
    """Growth of the Python heap (tracemalloc) from app 2 to the last app, per variant; the
    library's target: no more than the hoisted program's growth plus ``bound_mb``."""
    first = next(iter(results.values()))
    count, n = len(first["apps"]), first["n"]
    out = [f"memory across {count} apps of N={n} built and synthesized in turn in one process:"]
    growth = {}
    for v, r in results.items():
        apps = r["apps"]
        heap = [a["heap_mb"] for a in apps]
        growth[v] = heap[-1] - heap[1]
        objects = apps[-1]["objects"] - apps[1]["objects"]
        rss = apps[-1]["python_rss_mb"] - apps[1]["python_rss_mb"]
        node = apps[-1]["node_rss_mb"] - apps[1]["node_rss_mb"]
        out.append(
            f"    {VARIANTS[v]:<{LABEL}} python heap after each app (MB): "
            f"{' '.join(f'{h:.1f}' for h in heap)}"
        )
        out.append(
            f"    {'':<{LABEL}} app 2 -> {count}: heap {growth[v]:+.2f} MB "
            f"({growth[v] * 1024 / ((count - 2) * n):+.1f} KB per Deployment), gc objects {objects:+d}, "
            f"python RSS {rss:+.1f} MB, node RSS {node:+.1f} MB"
        )
    if "library" in growth and "hoisted" in growth:
        goal = growth["hoisted"] + bound_mb
        out.append(
            f"  library's growth {growth['library']:+.2f} MB, target <= hand-written, hoisted's "
            f"({growth['hoisted']:+.2f}: jsii never frees a proxy) + {bound_mb:g} MB: "
            f"{verdict(growth['library'], goal)}"
        )
    return out


# --- round trips, profile, CLI ---------------------------------------------------------------------


def sites_report(result: Result, n: int, detail: bool = True) -> list[str]:
    by_site: dict[str, int] = {}
    for site, _what, c in result["sites"]:
        by_site[site] = by_site.get(site, 0) + c
    total = sum(by_site.values())
    out = [f"jsii round trips per Deployment, {VARIANTS[result['variant']]}: {total / n:.1f}"]
    if detail:
        for site, count in sorted(by_site.items(), key=lambda kv: -kv[1]):
            out.append(f"  {count / n:6.1f}  {site}")
            for s, what, c in result["sites"]:
                if s == site:
                    out.append(f"  {'':6}    {c / n:5.1f} {what}")
    return out


def profile_report(result: Result) -> list[str]:
    out = [
        f"where the time goes, {VARIANTS[result['variant']]}, N={result['n']}, ms per Deployment: "
        f"{result['wall_ms']:.1f} (build {result['build_ms']:.1f}, synth {result['synth_ms']:.1f}), "
        f"waiting on node's pipe {result['node_ms']:.1f} ({result['node_ms'] / result['wall_ms']:.0%})",
        f"  {'ms':>6} {'node':>6} {'python':>6} {'calls':>5}  innermost function of our code "
        "(own time + what it calls outside our code)",
    ]
    for r in result["top"]:
        out.append(
            f"  {r['ms']:6.2f} {r['node_ms']:6.2f} {r['python_ms']:6.2f} {r['calls']:5.1f}  {r['function']}"
        )
    return out


def cli_rounds(rounds: int) -> list[float]:
    """Per round: ``cdk8s synth`` / ``python -m examples`` (rotated order)."""
    cli = ROOT / "node_modules" / ".bin" / "cdk8s"
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {
            "cli": ([str(cli), "synth", "--no-check-upgrade", "-o", f"{tmp}/cli"], child_env()),
            "direct": ([sys.executable, "-m", "examples"], {**child_env(), "CDK8S_OUTDIR": f"{tmp}/direct"}),
        }
        for i in range(rounds):
            t = {}
            for key in rotated(list(cmds), i):
                cmd, env = cmds[key]
                start = time.perf_counter()
                subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, env=env)
                t[key] = time.perf_counter() - start
            out.append(t["cli"] / t["direct"])
    return out


# --- main ----------------------------------------------------------------------------------------


def quick(opts: argparse.Namespace) -> None:
    """Every figure on tiny inputs (tests, a smoke run)."""
    opts.n, opts.rounds, opts.big_n, opts.big_rounds = 3, 2, 6, 2
    opts.import_rounds, opts.apps, opts.apps_n, opts.cli_rounds, opts.profile_n = 1, 3, 2, 0, 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds at --n")
    parser.add_argument("--big-n", type=int, default=1000)
    parser.add_argument(
        "--big-rounds", type=int, default=5, help="paired rounds at --big-n (and memory samples)"
    )
    parser.add_argument("--import-rounds", type=int, default=25)
    parser.add_argument("--apps", type=int, default=10, help="apps built in turn in one process")
    parser.add_argument("--apps-n", type=int, default=50, help="Deployments per app for --apps")
    parser.add_argument(
        "--apps-bound", type=float, default=1.0, help="MB the library may grow beyond hoisted"
    )
    parser.add_argument("--profile-n", type=int, default=100)
    parser.add_argument("--cli-rounds", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also raw ApiObjects and dicts + libyaml at --n")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--quick", action="store_true", help="every figure on tiny inputs")
    parser.add_argument("--json", type=Path, help="write every raw result here (after each section)")
    parser.add_argument(
        "--sites", nargs="?", const="library", choices=VARIANTS, help="round trips by call site"
    )
    parser.add_argument("--memory", type=int, metavar="K", help="peak memory at --big-n, K processes each")
    parser.add_argument("--profile", action="store_true", help="where the library's time goes, and stop")
    opts = parser.parse_args(argv)
    if opts.quick:
        quick(opts)
    if opts.sites:
        print("\n".join(sites_report(fresh(["--sites", "--variant", opts.sites, "--n", "10"]), 10)))
        return
    if opts.memory:
        rounds = paired_rounds(MEMORY, opts.big_n, opts.memory, progress="memory")
        print("\n".join(memory_report(rounds, opts.big_n)))
        return
    if opts.profile:
        print("\n".join(profile_report(fresh(["--profile", "10", "--n", str(opts.profile_n)]))))
        return
    print(report(opts))


def report(opts: argparse.Namespace) -> str:
    raw: dict[str, Any] = {"options": {k: str(v) for k, v in vars(opts).items()}}
    lines: list[str] = []
    started = time.perf_counter()
    small: list[dict[str, Result]] = []

    def keep() -> None:
        """Write what is measured so far: a section that fails late loses nothing before it."""
        if opts.json:
            opts.json.write_text(json.dumps(raw, indent=1))

    if "speed" in opts.only:
        variants = MAIN + (EXTRA if opts.all else [])
        small = raw["speed"] = paired_rounds(variants, opts.n, opts.rounds, progress=f"N={opts.n}")
        keep()
    if "big" in opts.only:
        big = raw["big"] = paired_rounds(BIG, opts.big_n, opts.big_rounds, progress=f"N={opts.big_n}")
        keep()
    if "import" in opts.only:
        raw["import"] = import_rounds(opts.import_rounds, progress=True)
        keep()
    if "apps" in opts.only:
        raw["apps"] = {
            v: fresh(["--variant", v, "--n", str(opts.apps_n), "--apps", str(opts.apps)])
            for v in ("library", "hoisted")
        }
        keep()
    if "sites" in opts.only:
        raw["sites"] = {v: fresh(["--sites", "--variant", v, "--n", "10"]) for v in MAIN}
        keep()
    if "profile" in opts.only:
        raw["profile"] = fresh(["--profile", "10", "--n", str(opts.profile_n)])
        keep()
    if "cli" in opts.only and opts.cli_rounds:
        raw["cli"] = cli_rounds(opts.cli_rounds)
        keep()

    lines.append(
        "same YAML: every process checked its first chart against tests/golden/all-patterns.k8s.yaml "
        "byte for byte, and every variant of a round wrote the same N charts (SHA-256)"
    )
    if small:
        lines += ["", *speed_report(small, opts.n, "build + synth")]
    if "big" in opts.only:
        lines += ["", *speed_report(big, opts.big_n, "build + synth"), "", *memory_report(big, opts.big_n)]
        if small:
            lines += ["", *growth_report(small, big, opts.n, opts.big_n)]
    if "import" in opts.only:
        lines += ["", *import_report(raw["import"])]
    if "apps" in opts.only:
        lines += ["", *apps_report(raw["apps"], opts.apps_bound)]
    if "sites" in opts.only:
        lines.append("")
        for v in MAIN:
            lines += sites_report(raw["sites"][v], 10, detail=False)
    if "profile" in opts.only:
        lines += ["", *profile_report(raw["profile"])]
    if "cli" in opts.only and opts.cli_rounds:
        lines += ["", line("cdk8s synth of the examples / python -m examples", spread(raw["cli"]))]
    lines.append(f"\n({time.perf_counter() - started:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
