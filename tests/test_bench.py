"""The benchmark's baselines write the library's YAML, and its protocol computes what it says
(issue 24): a drift would make `make bench` compare different work or print wrong figures
(bench/figures.py checks the YAML too, but only when someone runs it). Tiny inputs only: this
runs in `make test`."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import cdk8s
import constructs
import pytest

from bench import figures, handwritten, runner, tuned

GOLDEN = Path(__file__).parent / "golden" / "all-patterns.k8s.yaml"


@pytest.mark.parametrize(
    ("cache", "hoist"), [(False, False), (True, False), (False, True)], ids=["plain", "cached", "hoisted"]
)
def test_hand_written_program_writes_the_all_patterns_yaml(cache: bool, hoist: bool) -> None:
    app = cdk8s.App()
    handwritten.build(app, cache=cache, hoist=hoist)
    assert app.synth_yaml() == GOLDEN.read_text()


def test_hoisted_objects_are_shared_by_every_chart_and_the_yaml_stays_the_same() -> None:
    """The hoisted program reuses one set of node-side objects across charts: two apps of
    two charts each write the same YAML as the straightforward program."""

    def two_charts(hoist: bool) -> str:
        app = cdk8s.App()
        for i in range(2):
            handwritten.build(app if i == 0 else constructs.Construct(app, f"copy{i}"), hoist=hoist)
        return str(app.synth_yaml())

    assert two_charts(hoist=True) == two_charts(hoist=True) == two_charts(hoist=False)


def test_library_with_user_code_hoisted_writes_the_all_patterns_yaml() -> None:
    """The tuned variant (the library's patterns, the user's nginx code hoisted) writes the
    golden file, and its hoisted objects shared by two charts write what the example does."""
    app = cdk8s.App()
    tuned.build(app)
    assert app.synth_yaml() == GOLDEN.read_text()

    def two_charts(variant: str) -> str:
        return str(runner.build_app(variant, 2).synth_yaml())

    assert two_charts("tuned") == two_charts("tuned") == two_charts("library")


def test_raw_api_objects_write_the_all_patterns_yaml() -> None:
    app = cdk8s.App()
    handwritten.build_raw(app)
    assert app.synth_yaml() == GOLDEN.read_text()


def test_round_trips_per_deployment() -> None:
    """Issue 11's and 24's counts: every message Python sends to node costs a round trip. The
    library may not add one (39 per Deployment, and the app's one synth_yaml, at 3df28e4);
    the hoisted program is issue 24's 36."""
    per_deployment = {
        v: sum(runner.round_trips(v, 10).values()) / 10 for v in ("library", "tuned", "cached", "hoisted")
    }
    assert round(per_deployment["hoisted"], 1) == 36.1
    assert per_deployment["library"] <= 39.1
    assert per_deployment["library"] < per_deployment["cached"]
    # The example's two nginx probes and its web.containers read, hoisted in bench/tuned.py.
    assert round(per_deployment["library"] - per_deployment["tuned"], 1) == 3.0


# --- the protocol -------------------------------------------------------------------------------


def test_rotation_puts_every_variant_first_once_per_cycle() -> None:
    variants = ["a", "b", "c"]
    orders = [figures.rotated(variants, i) for i in range(3)]
    assert orders == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]
    assert figures.rotated(variants, 3) == variants


def test_spread_is_min_median_max_of_the_paired_ratios_and_counts_rounds_above() -> None:
    rounds = [
        {"library": {"total": 9.0}, "hoisted": {"total": 10.0}},
        {"library": {"total": 12.0}, "hoisted": {"total": 10.0}},
        {"library": {"total": 20.0}, "hoisted": {"total": 10.0}},
    ]
    s = figures.spread(figures.ratios(rounds, "library", "hoisted"), 1.0)
    assert s.values == (0.9, 1.2, 2.0)
    assert s.text() == "0.90 / 1.20 / 2.00  (2 of 3 rounds above 1.0)"
    assert figures.verdict(s.median, 1.0) == "MISSED"
    assert figures.verdict(0.99, 1.0) == "met"


def _fake_result(variant: str, n: int, sha: str = "same", **extra: float) -> dict[str, Any]:
    base = {"build": 1.0, "synth": 1.0, "total": 2.0, "process": 3.0, "python_kb": 1024.0, "node_kb": 1024.0}
    return {"variant": variant, "n": n, "sha256": sha, **base, **extra}


def test_paired_rounds_rotate_and_refuse_different_yaml() -> None:
    calls: list[str] = []

    def run(variant: str, n: int) -> dict[str, Any]:
        calls.append(variant)
        return _fake_result(variant, n)

    rounds = figures.paired_rounds(["library", "hoisted", "floor"], 5, 2, run=run)
    assert calls == ["library", "hoisted", "floor", "hoisted", "floor", "library"]
    assert len(rounds) == 2
    assert set(rounds[0]) == {"library", "hoisted", "floor"}

    shas = itertools.count()
    with pytest.raises(SystemExit, match="different YAML"):
        figures.paired_rounds(
            ["library", "hoisted"], 5, 1, run=lambda v, n: _fake_result(v, n, sha=str(next(shas)))
        )


def test_reports_print_every_figure_with_its_target() -> None:
    rounds = [{v: _fake_result(v, 10) for v in ("library", "tuned", "hoisted", "cached", "handwritten")}]
    speed = "\n".join(figures.speed_report(rounds, 10, "build + synth"))
    assert "library / hand-written, hoisted" in speed
    assert "target median <= 1.0: met" in speed
    assert "synth phase, library / hand-written" in speed
    assert "target median <= 1.2: met" in speed
    # The tuned rows are informational: no target of their own.
    tuned_rows = [row for row in speed.splitlines() if "library (user code hoisted) /" in row]
    assert [row.split(" / hand-written")[0].strip() for row in tuned_rows] == [
        "build + synth, library (user code hoisted)",
        "synth phase, library (user code hoisted)",
    ]
    assert all("informational" in row and "target" not in row.split("informational")[0] for row in tuned_rows)
    assert speed.count("target median") == 4
    assert "    library (user code hoisted) " in speed  # its ms per Deployment
    memory = "\n".join(figures.memory_report(rounds, 10))
    assert "median library 2 MB against hand-written, cached 2 + 5% = 2: met" in memory
    imports = {s: [{k: 1.0 for k in figures.IMPORTS}] for s in ("silenced", "unset")}
    text = "\n".join(figures.import_report(imports))
    assert text.count("target median <= 1.05: met") == 2
    assert "variable unset" in text


def test_one_real_round_in_fresh_processes() -> None:
    """Three variants, two Deployments, in fresh processes: the golden check passed in each,
    the same YAML hash, and every field the figures read."""
    (results,) = figures.paired_rounds(["library", "tuned", "hoisted"], 2, 1)
    for result in results.values():
        assert result["total"] > 0
        assert result["synth"] > 0
        assert result["node_kb"] > 0
        assert result["process"] > result["total"]
    assert results["library"]["sha256"] == results["tuned"]["sha256"] == results["hoisted"]["sha256"]


def test_memory_across_apps_and_the_profile_run_in_fresh_processes() -> None:
    apps = {v: figures.fresh(["--variant", v, "--n", "1", "--apps", "3"]) for v in ("library", "hoisted")}
    text = "\n".join(figures.apps_report(apps, 1.0))
    assert "app 2 -> 3" in text
    assert "library's growth" in text
    profile = figures.fresh(["--profile", "5", "--n", "2"])
    assert 0 < profile["node_ms"] < profile["wall_ms"]
    assert len(profile["top"]) == 5
    assert any(row["function"].startswith("constructs_lib/") for row in profile["top"])
    assert "waiting on node's pipe" in "\n".join(figures.profile_report(profile))
