"""json_exporter's metrics: JsonMetric, its checks, and the config file it renders to (``config.yml``)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _checks
from ._errors import PropsError
from ._statsd_rules import _METRIC_NAME  # statsd_exporter's name rule; "$" is refused below


@dataclass(frozen=True)
class JsonMetric:
    """One json_exporter metric: a JSONPath into the app's stats document.

    Attributes:
        name: Prometheus metric name.
        path: kubectl-style JSONPath, e.g. ``{.requests.total}``.
        type: ``value`` (one number) or ``object`` (labels + values per element).
        help: help text.
        labels: label name -> JSONPath (``object`` type).
        values: value suffix -> JSONPath (``object`` type).
        value_type: ``gauge`` (default), ``counter`` or ``untyped``.
    """

    name: str
    path: str
    type: str = "value"
    help: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, str] = field(default_factory=dict)
    value_type: str = "gauge"


def render_json_config(where: str, module: str, metrics: Sequence[JsonMetric]) -> str:
    if not metrics:
        raise PropsError(where, "source.metrics", [], "no metrics", "pass at least one JsonMetric")
    metrics = _checks.sequence_of(where, "source.metrics", metrics, JsonMetric)
    rendered = []
    for i, m in enumerate(metrics):
        if not isinstance(m.name, str) or not _METRIC_NAME.fullmatch(m.name) or "$" in m.name:
            raise PropsError(
                where,
                f"source.metrics[{i}].name",
                m.name,
                "not a Prometheus metric name",
                "use letters, digits and '_'",
            )
        if not (isinstance(m.path, str) and re.fullmatch(r"\{[^\x00-\x1f\x7f]*\}", m.path)):
            raise PropsError(
                where,
                f"source.metrics[{i}].path",
                m.path,
                "not a JSONPath in braces",
                "use e.g. '{.requests.total}'",
            )
        # Copied into the ConfigMap: the credential check every copied text gets.
        _checks.no_credentials(where, f"source.metrics[{i}].path", m.path)
        if m.type not in ("value", "object"):
            raise PropsError(
                where, f"source.metrics[{i}].type", m.type, "unknown type", "use 'value' or 'object'"
            )
        if m.value_type not in ("gauge", "counter", "untyped"):
            raise PropsError(
                where,
                f"source.metrics[{i}].value_type",
                m.value_type,
                "unknown value type",
                "use 'gauge', 'counter' or 'untyped'",
            )
        entry: dict[str, Any] = {"name": m.name, "path": m.path, "type": m.type, "valuetype": m.value_type}
        if m.help is not None:
            entry["help"] = _checks.text(
                where, f"source.metrics[{i}].help", m.help, fix="use one line of text"
            )
        for key, value in (("labels", m.labels), ("values", m.values)):
            if value:
                entry[key] = dict(
                    sorted(_checks.string_mapping(where, f"source.metrics[{i}].{key}", value).items())
                )
        rendered.append(entry)
    return _checks.render_yaml({"modules": {module: {"metrics": rendered}}}, sort_keys=False)
