"""statsd_exporter's mapping rules: StatsdMapping and its option types, their checks, and the
mapping file they render to (``mapping.yaml``).

A mapping's match (a glob, or a Go regex checked with RE2) and the ``$`` references its name and
labels make to what the match captures are checked in ``_statsd_captures.py``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import cdk8s

from . import _checks
from ._errors import PropsError
from ._statsd_captures import _check_statsd_refs, _go_regexp, _StatsdCaptures

_E = TypeVar("_E", bound=enum.Enum)

# statsd_exporter's validation (pkg/mapper/mapping.go, mapper.go), applied here so a bad
# mapping fails at construction time instead of at the exporter's start.
_METRIC_NAME = re.compile(r"([a-zA-Z_]|(\$\{?[0-9]+\}?))([a-zA-Z0-9_]|(\$\{?[0-9]+\}?))*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]+")
_GLOB = re.compile(r"(\*|[a-zA-Z_](-?[a-zA-Z0-9_])*)(\.\*|\.[a-zA-Z0-9_](-?[a-zA-Z0-9_])*)*")
# ms -> s: the factor statsd_exporter already applies to |ms timers (pkg/line/line.go).
_MS_TO_S = 0.001


class StatsdMatchType(enum.Enum):
    GLOB = "glob"
    REGEX = "regex"


class StatsdObserver(enum.Enum):
    """How statsd timers and histograms become Prometheus metrics."""

    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class StatsdMetricType(enum.Enum):
    """``match_metric_type``: restrict a mapping to one statsd type."""

    COUNTER = "counter"
    GAUGE = "gauge"
    OBSERVER = "observer"


@dataclass(frozen=True)
class StatsdMapping:
    """One statsd_exporter mapping rule.

    Attributes:
        match: glob (``django.view.*.duration``) or regex matched against the statsd name.
            A regex is Go's (RE2 syntax, checked with RE2) and unanchored: it matches anywhere
            in the name unless it has ``^...$``.
        name: Prometheus metric name; ``$1``... refer to the glob's ``*``s or the regex's
            groups. A reference takes every letter, digit and ``_`` after the ``$``: write
            ``${1}_total``, not ``$1_total``. Default ``"dropped"`` for drop rules; required
            otherwise.
        labels: label name -> value (may use ``$1``..., and ``${name}`` for a regex's
            ``(?P<name>...)`` group).
        match_type: glob (default) or regex.
        drop: drop matching metrics instead of mapping them. Default False.
        match_metric_type: only match counters, gauges or observers. Default any.
        observer_type: histogram or summary for timers. Default the exporter's (summary).
        buckets: histogram buckets (ascending); needs ``observer_type=HISTOGRAM``.
        ttl: forget a series not updated for this long. Default never.
        scale: multiply each value by this factor, after statsd_exporter's own conversion.
            statsd_exporter already turns ``|ms`` timers into seconds (it divides them by
            1000 while parsing), so timers need no scale; ``scale`` is for values it does not
            convert: gauges and counters in other units, or ``|h``/``|d`` values. ``0.001`` on
            a mapping that can match timers is refused, because it would convert them twice
            (123 ms would be exported as 0.000123 s). Default none.
        help: metric help text. Default the exporter's.
    """

    match: str
    name: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    match_type: StatsdMatchType = StatsdMatchType.GLOB
    drop: bool = False
    match_metric_type: StatsdMetricType | None = None
    observer_type: StatsdObserver | None = None
    buckets: Sequence[float] | None = None
    ttl: cdk8s.Duration | None = None
    scale: float | None = None
    help: str | None = None


def render_statsd_mapping(where: str, mappings: Sequence[StatsdMapping]) -> str:
    """The statsd_exporter mapping file, checked against the exporter's own rules."""
    mappings = _checks.sequence_of(where, "mappings", mappings, StatsdMapping)
    rendered = [_statsd_rule(where, i, m) for i, m in enumerate(mappings)]
    _check_statsd_conflicts(where, mappings, rendered)
    return _checks.render_yaml({"mappings": rendered}, sort_keys=False)


def _statsd_rule(where: str, i: int, m: StatsdMapping) -> dict[str, Any]:
    """One mapping: its options checked in this order, rendered in this key order."""
    prop = f"mappings[{i}]"
    match_type = _checks.enum_member(where, f"{prop}.match_type", StatsdMatchType, m.match_type)
    observer = _optional_member(where, f"{prop}.observer_type", StatsdObserver, m.observer_type)
    metric_type = _optional_member(where, f"{prop}.match_metric_type", StatsdMetricType, m.match_metric_type)
    drop = _checks.boolean(where, f"{prop}.drop", m.drop)
    captures = _check_statsd_match(where, prop, m.match, match_type)
    rule: dict[str, Any] = {"match": m.match, "name": _statsd_name(where, prop, m.name, drop, captures)}
    if match_type is StatsdMatchType.REGEX:
        rule["match_type"] = "regex"
    if drop:
        rule["action"] = "drop"
    labels = _statsd_labels(where, prop, m.labels, captures)
    if labels:
        rule["labels"] = labels
    if metric_type is not None:
        rule["match_metric_type"] = metric_type.value
    if observer is not None:
        rule["observer_type"] = observer.value
    if m.buckets is not None:
        rule["histogram_options"] = {"buckets": _statsd_buckets(where, prop, m.buckets, observer)}
    if m.ttl is not None:
        ms = _checks.duration_at_least(where, f"{prop}.ttl", m.ttl, 1000, "use at least 1s")
        rule["ttl"] = _checks.go_duration(ms)
    if m.scale is not None:
        rule["scale"] = _statsd_scale(where, prop, m.scale, metric_type)
    if m.help is not None:
        rule["help"] = _checks.text(where, f"{prop}.help", m.help, fix="use one line of text")
    return rule


def _optional_member(where: str, prop: str, cls: type[_E], value: _E | str | None) -> _E | None:
    """An enum option whose None means the exporter's default."""
    return None if value is None else _checks.enum_member(where, prop, cls, value)


def _check_statsd_match(where: str, prop: str, match: Any, match_type: StatsdMatchType) -> _StatsdCaptures:
    """``match``: one line; a statsd_exporter glob, or a regex Go's regexp accepts. Returns
    what the name and labels may refer to."""
    _checks.text(where, f"{prop}.match", match, fix="use e.g. 'app.*.requests'")
    if match_type is StatsdMatchType.REGEX:
        return _go_regexp(where, f"{prop}.match", match)
    if not _GLOB.fullmatch(match):
        raise PropsError(
            where,
            f"{prop}.match",
            match,
            "not a statsd_exporter glob (dot-separated names and *)",
            "use e.g. 'django.view.*.duration', or match_type=StatsdMatchType.REGEX",
        )
    # Each '*' is one capture (pkg/mapper/fsm: AddState returns the number of '*' fields).
    return _StatsdCaptures(regex=False, count=match.count("*"))


def _statsd_name(where: str, prop: str, name: Any, drop: bool, captures: _StatsdCaptures) -> str:
    """``name``: a metric name with ``$1``-style references; ``"dropped"`` by default for drop rules."""
    name = name if name is not None else ("dropped" if drop else None)
    if name is None:
        raise PropsError(
            where,
            f"{prop}.name",
            None,
            "a mapping needs a metric name",
            "pass name='app_requests_total' (or drop=True)",
        )
    if not isinstance(name, str) or not _METRIC_NAME.fullmatch(name):
        raise PropsError(
            where,
            f"{prop}.name",
            name,
            "not a valid Prometheus metric name",
            "use letters, digits, '_' and $1-style references (no ':', '.' or '-')",
        )
    _check_statsd_refs(where, f"{prop}.name", name, captures)
    return name


def _statsd_labels(where: str, prop: str, labels: Any, captures: _StatsdCaptures) -> dict[str, str]:
    """``labels``, sorted by name; empty if none. Values may refer to the match's captures."""
    checked = _checks.string_mapping(where, f"{prop}.labels", labels)
    for label in checked:
        if not isinstance(label, str) or not _LABEL_NAME.fullmatch(label):
            raise PropsError(
                where,
                f"{prop}.labels",
                label,
                "not a label name statsd_exporter accepts",
                "use at least two characters of letters, digits and '_', not starting with a digit",
            )
    for label, value in checked.items():
        _check_statsd_refs(where, f"{prop}.labels.{label}", value, captures)
    return dict(sorted(checked.items()))


def _statsd_buckets(where: str, prop: str, buckets: Any, observer: StatsdObserver | None) -> list[float]:
    """``buckets``: strictly ascending finite numbers, for a histogram observer only."""
    if isinstance(buckets, str | bytes) or not isinstance(buckets, list | tuple):
        raise PropsError(
            where, f"{prop}.buckets", buckets, "not a list of numbers", "use e.g. [0.01, 0.1, 1, 10]"
        )
    buckets = list(buckets)
    if observer is not StatsdObserver.HISTOGRAM:
        raise PropsError(
            where,
            f"{prop}.buckets",
            buckets,
            "buckets need a histogram observer",
            "pass observer_type=StatsdObserver.HISTOGRAM",
        )
    if (
        not buckets
        or any(isinstance(b, bool) or not isinstance(b, int | float) or not math.isfinite(b) for b in buckets)
        or buckets != sorted(set(buckets))
    ):
        raise PropsError(
            where,
            f"{prop}.buckets",
            buckets,
            "not strictly ascending numbers",
            "use e.g. [0.01, 0.1, 1, 10]",
        )
    return [float(b) for b in buckets]


def _statsd_scale(where: str, prop: str, scale: Any, metric_type: StatsdMetricType | None) -> float:
    """``scale``: a non-zero factor, and not ms -> s on a mapping that can match timers."""
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or scale == 0
    ):
        raise PropsError(where, f"{prop}.scale", scale, "not a non-zero number", "use e.g. 1024")
    if scale == _MS_TO_S and metric_type in (None, StatsdMetricType.OBSERVER):
        raise PropsError(
            where,
            f"{prop}.scale",
            scale,
            "statsd_exporter already exports |ms timers in seconds (pkg/line/line.go divides them "
            "by 1000; pkg/exporter/exporter.go applies scale afterwards), so 123 ms would become "
            "0.000123 s",
            "remove scale for timers; to rescale |h or |d values sent in milliseconds, send them as "
            "|ms timers instead, or restrict the mapping with match_metric_type=GAUGE or COUNTER",
        )
    return float(scale)


def _check_statsd_conflicts(
    where: str, mappings: Sequence[StatsdMapping], rendered: list[dict[str, Any]]
) -> None:
    """Same metric name, different type or label names: the exporter loads the file but then
    drops every conflicting event at run time (registry.go: "metric with name ... is already
    registered", counted in statsd_exporter_events_conflict_total). Refuse it here."""
    seen: dict[str, tuple[int, tuple[Any, ...]]] = {}
    for i, (m, rule) in enumerate(zip(mappings, rendered, strict=True)):
        if m.drop or "$" in rule["name"]:
            continue  # templated names cannot be compared before run time
        shape = (
            rule.get("match_metric_type"),
            rule.get("observer_type"),
            tuple(sorted(rule.get("labels", {}))),
        )
        first = seen.setdefault(rule["name"], (i, shape))
        if first[1] != shape:
            raise PropsError(
                where,
                f"mappings[{i}].name",
                rule["name"],
                f"mappings[{first[0]}] already defines this metric with another type or label names; "
                "statsd_exporter would drop these events as conflicts at run time",
                "give the metric another name, or the same match_metric_type/observer_type and label names",
            )
