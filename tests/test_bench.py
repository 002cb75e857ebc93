"""The benchmark's baselines write the library's YAML: a drift would make `make bench` compare
different work (bench/figures.py checks it too, but only when someone runs it)."""

from __future__ import annotations

from pathlib import Path

import cdk8s
import pytest

from bench import handwritten

GOLDEN = Path(__file__).parent / "golden" / "all-patterns.k8s.yaml"


@pytest.mark.parametrize("cache", [False, True])
def test_hand_written_program_writes_the_all_patterns_yaml(cache: bool) -> None:
    app = cdk8s.App()
    handwritten.build(app, cache=cache)
    assert app.synth_yaml() == GOLDEN.read_text()


def test_raw_api_objects_write_the_all_patterns_yaml() -> None:
    app = cdk8s.App()
    handwritten.build_raw(app)
    assert app.synth_yaml() == GOLDEN.read_text()


def test_the_library_makes_fewer_jsii_round_trips_than_the_hand_written_program() -> None:
    """Issue 11's count, pinned: every message Python sends to node costs a round trip, so a
    change that adds one per Deployment shows here (bench/README.md lists them by call site)."""
    from bench.figures import round_trips

    per_deployment = {v: sum(round_trips(v, 10).values()) / 10 for v in ("library", "hand-written, cached")}
    assert round(per_deployment["library"], 1) == 39.1  # 39 per Deployment, and the app's one synth_yaml
    assert per_deployment["library"] < per_deployment["hand-written, cached"]
