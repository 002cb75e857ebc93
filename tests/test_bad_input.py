"""Bad input never crashes the run, never yields invalid objects, never leaks a credential.

Three layers (tests/mutation.py holds the targets, values and invariants):

* the reproducers of the sweep that found the original defects, each now refused with the
  library's message;
* the deterministic sweep: every prop of every public constructor, one at a time, from a
  valid baseline, through every value of ``mutation.mutants()``;
* a property-based run (hypothesis, derandomized): random values of random types for random
  props. ``BAD_INPUT_EXAMPLES=20000 make test`` (or pytest on this file) runs it longer.
"""

from __future__ import annotations

import collections
import os
import random
from typing import Any

import cdk8s
import cdk8s_plus_27 as kplus
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib import (
    GitAuth,
    GitSyncWebhook,
    MetricsAdapter,
    MetricsSource,
    PropsError,
    RedisAmbassador,
    SidecarGitSync,
    StatsdMapping,
)

from . import mutation
from .mutation import MARKER, Case, Target

TARGETS = {t.name: t for t in mutation.targets()}


def _app() -> tuple[cdk8s.Chart, kplus.Deployment]:
    return mutation._app()[1:]


def _ssh(chart: cdk8s.Chart, secret: Any) -> None:
    SidecarGitSync(
        chart,
        "site",
        workload=_app_web(chart),
        repo="git@github.com:example/site.git",
        auth=GitAuth.ssh(secret=secret),
    )


def _app_web(chart: cdk8s.Chart) -> kplus.Deployment:
    return chart.node.find_child("web")  # type: ignore[return-value]


REPRODUCERS: list[tuple[str, Any, str]] = [
    (
        "sparse_checkout=5",
        lambda c, w: SidecarGitSync(c, "site", workload=w, repo=mutation.REPO, sparse_checkout=5),
        r"shop/site: sparse_checkout=5: not a non-empty list of patterns",
    ),
    (
        "webhook method list",
        lambda c, w: SidecarGitSync(
            c,
            "site",
            workload=w,
            repo=mutation.REPO,
            webhook=GitSyncWebhook(url="http://127.0.0.1:8080/r", method=["POST"]),  # type: ignore[arg-type]
        ),
        r"shop/site: webhook.method=\['POST'\]: not an HTTP method",
    ),
    (
        "ssh secret SecretValue",
        lambda c, w: _ssh(c, kplus.SecretValue(secret=kplus.Secret.from_secret_name(c, "s", "s"), key="k")),
        r"auth.secret=SecretValue\(.*\): not a Secret",
    ),
    ("ssh secret 5", lambda c, w: _ssh(c, 5), r"auth.secret=5: not a Secret"),
    ("ssh secret []", lambda c, w: _ssh(c, []), r"auth.secret=\[\]: not a Secret"),
    ("ssh secret NaN", lambda c, w: _ssh(c, float("nan")), r"auth.secret=nan: not a Secret"),
    *[
        (
            f"{prop}=Duration.seconds(1e308)",
            (
                lambda p: (
                    lambda c, w: SidecarGitSync(
                        c, "site", workload=w, repo=mutation.REPO, **{p: cdk8s.Duration.seconds(1e308)}
                    )
                )
            )(prop),
            rf"shop/site: {prop}='(None|inf)ms': longer than the maximum",
        )
        for prop in ("period", "sync_timeout", "startup_timeout")
    ],
    (
        "op_timeout=Duration.seconds(1e308)",
        lambda c, w: RedisAmbassador(
            c, "cache", workload=w, primary="redis:6379", op_timeout=cdk8s.Duration.seconds(1e308)
        ),
        r"shop/cache: op_timeout='(None|inf)ms': longer than the maximum",
    ),
    (
        "primary='redis:²'",
        lambda c, w: RedisAmbassador(c, "cache", workload=w, primary="redis:²"),
        r"shop/cache: primary='redis:²': the port is not in 1-65535",
    ),
    (
        "StatsdMapping name=5",
        lambda c, w: MetricsAdapter(
            c,
            "metrics",
            workload=w,
            source=MetricsSource.statsd(mappings=[StatsdMapping(match="a.b", name=5)]),  # type: ignore[arg-type]
        ),
        r"shop/metrics: mappings\[0\].name=5: not a valid Prometheus metric name",
    ),
    (
        "StatsdMapping buckets=5",
        lambda c, w: MetricsAdapter(
            c,
            "metrics",
            workload=w,
            source=MetricsSource.statsd(mappings=[StatsdMapping(match="a.b", name="a_b", buckets=5)]),  # type: ignore[arg-type]
        ),
        r"shop/metrics: mappings\[0\].buckets=5: not a list of numbers",
    ),
    (
        "url_env with a trailing newline",
        lambda c, w: RedisAmbassador(c, "cache", workload=w, primary="redis:6379", host_env="REDIS_HOST\n"),
        r"host_env='REDIS_HOST\\n': not an environment variable name",
    ),
    (
        "startup_timeout=Duration.days(100000)",
        lambda c, w: SidecarGitSync(
            c, "site", workload=w, repo=mutation.REPO, startup_timeout=cdk8s.Duration.days(100000)
        ),
        r"startup_timeout='8640000000000ms': longer than the maximum of 2147483647s",
    ),
    (
        "run_as_user=2**63",
        lambda c, w: SidecarGitSync(c, "site", workload=w, repo=mutation.REPO, run_as_user=2**63),
        r"run_as_user=9223372036854775808: not an integer from 1 to 2147483647",
    ),
    (
        "scrape_uri port 99999",
        lambda c, w: MetricsAdapter(
            c, "metrics", workload=w, source=MetricsSource.nginx(scrape_uri="http://127.0.0.1:99999/x")
        ),
        r"source.scrape_uri='http://127.0.0.1:99999/x': not a URL of the main container on localhost",
    ),
    (
        "ref with NUL",
        lambda c, w: SidecarGitSync(c, "site", workload=w, repo=mutation.REPO, ref="ma\x00in"),
        r"ref='ma\\x00in': not a git ref",
    ),
    (
        "file:// repo with a password",
        lambda c, w: SidecarGitSync(c, "site", workload=w, repo=f"file://deploy:{MARKER}PW@nas/srv/site.git"),
        r"repo='file://\*\*\*@nas/srv/site.git': a URL carries credentials",
    ),
    (
        "custom args with a bare token",
        lambda c, w: MetricsAdapter(
            c,
            "metrics",
            workload=w,
            source=MetricsSource.custom(
                image="e/x:1", port=9200, args=[f"--target=https://ghp_{MARKER}@api.github.com/"]
            ),
        ),
        r"source.args='--target=https://\*\*\*@api.github.com/': a URL carries credentials",
    ),
    (
        "repo with a token in the query",
        lambda c, w: SidecarGitSync(
            c, "site", workload=w, repo=f"https://host/x/site.git?private_token={MARKER}"
        ),
        r"repo='https://host/x/site.git\?private_token=\*\*\*': a URL's query string or fragment carries a "
        "secret",
    ),
    (
        "custom args with a password flag",
        lambda c, w: MetricsAdapter(
            c,
            "metrics",
            workload=w,
            source=MetricsSource.custom(image="e/x:1", port=9200, args=[f"--redis.password={MARKER}"]),
        ),
        r"source.args='--redis.password=\*\*\*': a flag that takes a secret has its value inline",
    ),
    (
        "git-config Authorization header",
        lambda c, w: SidecarGitSync(
            c,
            "site",
            workload=w,
            repo=mutation.REPO,
            extra_args=[f"--git-config=http.extraHeader:Authorization: Bearer {MARKER}"],
        ),
        r"extra_args='--git-config=http.extraHeader:Authorization: \*\*\*': an HTTP credential header",
    ),
]


@pytest.mark.parametrize(("label", "build", "message"), REPRODUCERS, ids=[r[0] for r in REPRODUCERS])
def test_reproducer_is_refused_with_the_library_message(label: str, build: Any, message: str) -> None:
    chart, web = _app()
    with pytest.raises(PropsError, match=message) as err:
        build(chart, web)
    assert MARKER not in str(err.value)
    assert " Fix: " in str(err.value)
    mutation.kernel_alive()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_sweep(name: str) -> None:
    """Every prop, every mutant: refused with the library's message, or valid output."""
    target = TARGETS[name]
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    for t, case in mutation.cases([target]):
        try:
            outcomes[mutation.check(t, case) or "?"] += 1
        except AssertionError as err:
            outcomes["failed"] += 1
            failures.append(str(err)[:400])
    mutation.kernel_alive()
    _record(name, outcomes)
    assert not failures, (
        f"{len(failures)} of {sum(outcomes.values())} cases broke an invariant:\n" + "\n".join(failures[:20])
    )
    assert outcomes["refused"] > 0
    assert outcomes["accepted"] > 0


def _record(name: str, outcomes: collections.Counter[str]) -> None:
    """Outcome counts per target, for the record (``pytest -s`` prints them)."""
    print(f"\n{name}: {dict(sorted(outcomes.items()))}")


# --- property-based: random types for random props -------------------------------------

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="ascii"), max_size=20).map(lambda s: f"https://{s}@h/{s}"),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=8), st.integers()), max_size=2),
    st.sampled_from(mutation.mutants()),
)

_EXAMPLES = int(os.environ.get("BAD_INPUT_EXAMPLES", "400"))


@settings(
    max_examples=_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_random_props_keep_the_invariants(data: st.DataObject) -> None:
    target: Target = data.draw(st.sampled_from(sorted(TARGETS.values(), key=lambda t: t.name)))
    props = sorted(target.baseline)
    overrides = data.draw(st.dictionaries(st.sampled_from(props), _VALUES, min_size=1, max_size=3))
    (prop, value), *rest = sorted(overrides.items())
    if rest:
        target = Target(target.name, target.build, {**target.baseline, **dict(rest)})
    mutation.check(target, Case(target.name, prop, value))


# --- every workload kind, the user's edits before and after, and the Pulumi component ----

#: Sampled cases per (kind, edit order): seeded, so every run checks the same ones.
_PER_CELL = int(os.environ.get("BAD_INPUT_PER_CELL", "60"))
_CELLS = [(kind, edits) for kind in mutation.KINDS for edits in ("before", "after")]


def _baseline_for(target: Target, kind: str) -> Target | None:
    """The target's baseline on ``kind``: as it is, or with ``native_sidecar=True`` (a looping
    sidecar in a Job, CronJob or Pod); None when neither attaches there."""
    for extra in ({}, {"native_sidecar": True}):
        candidate = Target(target.name, target.build, {**target.baseline, **extra}, target.extra)
        prop = next(iter(candidate.baseline))
        try:
            outcome = mutation.check(candidate, Case(target.name, prop, candidate.baseline[prop]), kind=kind)
        except AssertionError:  # the target takes no native_sidecar (an option type's props)
            continue
        if outcome == "accepted":
            return candidate
    return None


def _valid_cases() -> list[tuple[Target, Case]]:
    """Each target's baseline, as a case (its first prop at its own value)."""
    return [
        (t, Case(t.name, prop, t.baseline[prop])) for t in TARGETS.values() for prop in list(t.baseline)[:1]
    ]


@pytest.mark.parametrize(("kind", "edits"), _CELLS, ids=[f"{k}-{e}" for k, e in _CELLS])
def test_sweep_on_every_kind_with_edits_before_and_after(kind: str, edits: str) -> None:
    """A seeded sample of the sweep's cases on each workload kind, the user's own edits (an env
    variable, a volume) before or after the pattern: the same invariants."""
    rng = random.Random(f"{kind}-{edits}")
    every = list(mutation.cases())
    outcomes: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    baselines: dict[str, Target | None] = {}
    for target, case in [*_valid_cases(), *rng.sample(every, _PER_CELL)]:
        if target.name not in baselines:
            baselines[target.name] = _baseline_for(target, kind)
        on_kind = baselines[target.name]
        if on_kind is None:
            outcomes["not on this kind"] += 1
            continue
        try:
            outcomes[mutation.check(on_kind, case, kind=kind, edits=edits) or "?"] += 1
        except AssertionError as err:
            outcomes["failed"] += 1
            failures.append(str(err)[:400])
    _record(f"{kind}, edits {edits}", outcomes)
    assert not failures, "\n".join(failures[:20])
    assert outcomes["refused"] > 0
    assert outcomes["accepted"] > 0


def test_accepted_cases_through_the_pulumi_component() -> None:
    """Charts the sweep accepts, registered by the Pulumi component under mocks: every object once,
    no marker credential in any input the engine receives."""
    from constructs_lib.pulumi import Cdk8sChart

    from .test_pulumi import run

    rng = random.Random("pulumi")
    charts: list[cdk8s.Chart] = []
    for target, case in [*_valid_cases(), *rng.sample(list(mutation.cases()), 200)]:
        mutation.check(target, case, keep=charts)
    assert len(charts) >= len(TARGETS), len(charts)
    for chart in charts:
        monitor, names = run(lambda chart=chart: Cdk8sChart("shop", chart).workload_names)
        registered = monitor.objects()
        assert len(registered) == len(chart.to_json())
        assert "shop-web-c81100ac" in names, names
        for r in registered:
            assert MARKER not in str(r.request.object), r.name
    _record("Pulumi component", collections.Counter(registered=len(charts)))


def test_the_kernel_survives_the_whole_run() -> None:
    mutation.kernel_alive()
