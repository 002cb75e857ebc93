"""jmx_exporter's rules: JmxRule and JmxMetricType, their checks (the pattern as a Java regex,
``$`` group references as Java's Matcher reads them), and the ``rules:`` list they render to.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _checks
from ._errors import PropsError


class JmxMetricType(enum.Enum):
    """A jmx_exporter rule's ``type`` (rules.md: GAUGE, COUNTER or UNTYPED; default UNTYPED)."""

    GAUGE = "GAUGE"
    COUNTER = "COUNTER"
    UNTYPED = "UNTYPED"


@dataclass(frozen=True)
class JmxRule:
    """One jmx_exporter rule (prometheus/jmx_exporter docs/content/1.1.0/http-mode/rules.md).

    Rules apply in order; the first whose pattern matches an MBean attribute wins, and
    attributes no rule matches are not exported.

    Attributes:
        pattern: Java regex matched (unanchored) against
            ``domain<prop=value, ...><key, ...>attrName: value``. Default: everything.
        name: metric name; ``$1``/``${name}`` refer to the pattern's groups (``${name}`` to a
            ``(?<name>...)`` group). Default the exporter's own format. ``labels``, ``help`` and
            ``type`` need a ``name``.
        value: static value or group reference instead of the attribute's value.
        value_factor: multiply the value, e.g. 0.001 for milliseconds to seconds.
        labels: label name -> value (group references allowed in both).
        help: help text. Default the attribute's description.
        type: GAUGE, COUNTER or UNTYPED (the exporter's default).
        attr_name_snake_case: ``anAttrName`` becomes ``an_attr_name``. Default False.
        cache: cache the match result per bean name (wrong for rules that match on the value).
            Default False.
    """

    pattern: str | None = None
    name: str | None = None
    value: str | None = None
    value_factor: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    help: str | None = None
    type: JmxMetricType | None = None
    attr_name_snake_case: bool = False
    cache: bool = False


# jmx_exporter's rule keys (rules.md) -> JmxRule fields, in the order they are rendered.
_JMX_RULE_KEYS = {
    "pattern": "pattern",
    "name": "name",
    "value": "value",
    "valueFactor": "value_factor",
    "labels": "labels",
    "help": "help",
    "type": "type",
    "attrNameSnakeCase": "attr_name_snake_case",
    "cache": "cache",
}
# Java's Matcher.replaceAll (which jmx_exporter applies to name, value, help and labels) reads
# `$1` and `${name}`; any other `$` throws "Illegal group reference" at scrape time.
_JAVA_NAMED_REF = re.compile(r"\{([A-Za-z][A-Za-z0-9]*)\}")
_JMX_METRIC_NAME = re.compile(r"(?:[a-zA-Z_:]|\$\d+|\$\{\w+\})(?:[a-zA-Z0-9_:]|\$\d+|\$\{\w+\})*")
_JMX_LABEL_NAME = re.compile(r"(?:[a-zA-Z_]|\$\d+|\$\{\w+\})(?:[a-zA-Z0-9_]|\$\d+|\$\{\w+\})*")


def render_jmx_rules(where: str, rules: Any) -> list[dict[str, Any]]:
    """jmx_exporter's ``rules:`` list, each rule checked as the exporter would use it."""
    if isinstance(rules, str | bytes | Mapping) or not isinstance(rules, list | tuple):
        raise PropsError(
            where,
            "source.rules",
            type(rules).__name__,
            "not a list of JmxRule",
            "pass rules=[JmxRule(pattern='...', name='...')]",
        )
    return [_jmx_rule(where, f"source.rules[{i}]", rule) for i, rule in enumerate(rules)]


def _jmx_rule(where: str, prop: str, rule: Any) -> dict[str, Any]:
    """One rule: its fields checked in this order, rendered in jmx_exporter's key order."""
    r, props = _jmx_rule_fields(where, prop, rule)
    groups = _java_regex_groups(where, props.at("pattern"), r.pattern)
    out: dict[str, Any] = {}
    if r.pattern is not None:
        out["pattern"] = r.pattern
    out.update(_jmx_texts(where, props, r, groups))
    if r.value_factor is not None:
        out["valueFactor"] = _jmx_value_factor(where, props.at("value_factor"), r.value_factor)
    labels = _jmx_labels(where, props.at("labels"), r.labels, groups)
    if labels:
        out["labels"] = labels
    if r.type is not None:
        out["type"] = _checks.enum_member(where, props.at("type"), JmxMetricType, r.type).value
    _check_jmx_name_given(where, props, r, out)
    for f in ("attr_name_snake_case", "cache"):
        if _checks.boolean(where, props.at(f), getattr(r, f)):
            out[{"attr_name_snake_case": "attrNameSnakeCase"}.get(f, f)] = True
    return out


@dataclass(frozen=True)
class _JmxRuleProps:
    """How errors name a rule's fields: by jmx_exporter's keys (``valueFactor``) for a dict
    rule, by JmxRule's fields (``value_factor``) for a JmxRule."""

    prop: str  # the rule, e.g. source.rules[0]
    key_of: Mapping[str, str]  # JmxRule field -> the name the caller used

    def at(self, f: str) -> str:
        return f"{self.prop}.{self.key_of[f]}"


def _jmx_rule_fields(where: str, prop: str, rule: Any) -> tuple[JmxRule, _JmxRuleProps]:
    """The rule as a JmxRule (a dict's keys checked first), and how its errors name its fields."""
    if isinstance(rule, Mapping):
        _check_jmx_rule_keys(where, prop, rule)
        key_of = {f: k for k, f in _JMX_RULE_KEYS.items()}
        return JmxRule(**{_JMX_RULE_KEYS[k]: v for k, v in rule.items()}), _JmxRuleProps(prop, key_of)
    if isinstance(rule, JmxRule):
        return rule, _JmxRuleProps(prop, {f: f for f in _JMX_RULE_KEYS.values()})
    raise PropsError(
        where,
        prop,
        type(rule).__name__,
        "not a JmxRule",
        "build it with JmxRule(pattern='...', name='...')",
    )


def _check_jmx_rule_keys(where: str, prop: str, rule: Mapping[Any, Any]) -> None:
    """Every key of a dict rule is one of jmx_exporter's; an unknown one names the key it resembles."""
    for key in rule:
        if key not in _JMX_RULE_KEYS:
            import difflib  # only on this error path: keeps `import constructs_lib` lean

            close = difflib.get_close_matches(str(key), list(_JMX_RULE_KEYS), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise PropsError(
                where,
                prop,
                key,
                "not a jmx_exporter rule key",
                f"{hint}a rule takes {', '.join(_JMX_RULE_KEYS)} (or build it with JmxRule(...))",
            )


def _jmx_texts(where: str, props: _JmxRuleProps, r: JmxRule, groups: _JavaGroups) -> dict[str, Any]:
    """``name``, ``value`` and ``help`` (those given): one line each, ``name`` a metric name,
    every ``$`` a group the pattern has."""
    out: dict[str, Any] = {}
    for f, pattern in (("name", _JMX_METRIC_NAME), ("value", None), ("help", None)):
        text = getattr(r, f)
        if text is None:
            continue
        _checks.text(where, props.at(f), text, fix=f"pass {props.key_of[f]}='...' on one line")
        if pattern is not None and not pattern.fullmatch(text):
            raise PropsError(
                where,
                props.at(f),
                text,
                "not a Prometheus metric name",
                "use letters, digits, '_', ':' and $1-style group references",
            )
        _java_group_refs(where, props.at(f), text, groups)
        out[f] = text
    return out


def _jmx_value_factor(where: str, prop: str, vf: Any) -> float:
    """``value_factor``: a non-zero finite number."""
    if isinstance(vf, bool) or not isinstance(vf, int | float) or not math.isfinite(vf) or vf == 0:
        raise PropsError(where, prop, vf, "not a non-zero number", "use e.g. 0.001")
    return float(vf)


def _jmx_labels(where: str, prop: str, labels: Any, groups: _JavaGroups) -> dict[str, str]:
    """``labels``, sorted by name; empty if none. Names and values may refer to the pattern's groups."""
    checked = _checks.string_mapping(where, prop, labels)
    for label, label_value in checked.items():
        if not _JMX_LABEL_NAME.fullmatch(label) or label.startswith("__"):
            raise PropsError(
                where,
                prop,
                label,
                "not a Prometheus label name",
                "use letters, digits and '_' (not starting with a digit or '__'), and $1-style references",
            )
        _java_group_refs(where, prop, label, groups)
        _java_group_refs(where, prop, label_value, groups)
    return dict(sorted(checked.items()))


def _check_jmx_name_given(where: str, props: _JmxRuleProps, r: JmxRule, out: Mapping[str, Any]) -> None:
    """``labels``, ``help`` and ``type`` (as rendered in ``out``) need the rule's ``name``."""
    for f in ("labels", "help", "type"):
        if f in out and r.name is None:
            # rules.md: "`name` must be set to use this" (labels, help, type).
            raise PropsError(
                where, props.at(f), out[f], "jmx_exporter ignores it without a name", "give the rule a name"
            )


@dataclass(frozen=True)
class _JavaGroups:
    """A jmx_exporter pattern's capturing groups: how many, and the names of the named ones."""

    count: int = 0
    names: frozenset[str] = frozenset()


# Java's named group: (?<name>...), the name an ASCII letter then letters and digits
# (java.util.regex.Pattern.groupname).
_JAVA_NAMED_GROUP = re.compile(r"\(\?<([A-Za-z][A-Za-z0-9]*)>")


def _java_regex_groups(where: str, prop: str, pattern: Any) -> _JavaGroups:
    """Check a jmx_exporter pattern (java.util.regex) as far as Python's re can; return its
    capturing groups. Java-only syntax is rewritten first (\\Q..\\E quoting, \\p{..} classes,
    (?<name>..) groups); Python-only syntax ((?P<..>)) is refused. The pattern is copied into
    the ConfigMap, so it gets the credential check every copied text gets."""
    if pattern is None:
        return _JavaGroups()
    if not isinstance(pattern, str) or not pattern:
        raise PropsError(where, prop, pattern, "not a non-empty regex", "use e.g. 'java.lang<type=Memory>'")
    _checks.text(where, prop, pattern, fix="write the pattern on one line")
    if "(?P" in pattern:
        raise PropsError(
            where,
            prop,
            pattern,
            "(?P...) is Python syntax; Java rejects it",
            "use (?<name>...) and \\k<name>",
        )
    python = re.sub(r"\\Q(.*?)(?:\\E|$)", lambda m: re.escape(m.group(1)), pattern, flags=re.DOTALL)
    python = re.sub(r"\\[pP](?:\{\w+\}|[A-Za-z])", r"\\w", python)
    python = _JAVA_NAMED_GROUP.sub(r"(?P<\1>", python)
    python = re.sub(r"\\k<([A-Za-z][A-Za-z0-9]*)>", r"(?P=\1)", python)
    try:
        compiled = re.compile(python)
    except re.error as err:
        raise PropsError(where, prop, pattern, f"invalid regex ({err})", "fix the regex") from None
    # The names Python saw are exactly the (?<name> groups Java sees: \Q..\E was escaped first.
    return _JavaGroups(compiled.groups, frozenset(compiled.groupindex))


def _java_group_refs(where: str, prop: str, text: str, groups: _JavaGroups) -> None:
    """Every ``$`` must be a group reference the pattern has: jmx_exporter fills in the text with
    Matcher.replaceAll, which throws at scrape time otherwise. Read as Java's
    Matcher.appendExpandedReplacement reads it: ``\\x`` is a literal x (a trailing ``\\``
    throws); ``${name}`` names a group (an ASCII letter, then letters and digits); ``$`` and
    digits is a group number: the first digit always, each further digit while the number
    stays a group of the pattern (``$12`` with one group is group 1, then "2")."""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 == len(text):
                raise PropsError(
                    where,
                    prop,
                    text,
                    "a trailing '\\' (Java's Matcher would throw: character to be escaped is missing)",
                    "write \\\\ for a '\\'",
                )
            i += 2
        elif c != "$":
            i += 1
        elif m := _JAVA_NAMED_REF.match(text, i + 1):
            if m.group(1) not in groups.names:
                named = ", ".join(sorted(groups.names)) or "none"
                raise PropsError(
                    where,
                    prop,
                    text,
                    f"${{{m.group(1)}}} but the pattern has no group named {m.group(1)!r} (named groups: "
                    f"{named}); Java's Matcher would throw 'No group with name' at scrape time",
                    f"name a group of the pattern (?<{m.group(1)}>...) or refer to one it has",
                )
            i = m.end()
        elif text[i + 1 : i + 2].isascii() and text[i + 1 : i + 2].isdigit():
            number, i = int(text[i + 1]), i + 2
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                if number * 10 + int(text[i]) > groups.count:
                    break
                number, i = number * 10 + int(text[i]), i + 1
            if number > groups.count:
                raise PropsError(
                    where,
                    prop,
                    text,
                    f"${number} but the pattern has {groups.count} group(s)",
                    "refer to a group of the pattern",
                )
        else:
            raise PropsError(
                where,
                prop,
                text,
                "a '$' that is not a group reference",
                "write $1 or ${name}, or \\$ for a '$'",
            )
