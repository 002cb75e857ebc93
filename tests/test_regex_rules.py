"""Regexes and group references in the metrics sources (issue 19).

StatsD regex mappings are Go regular expressions (statsd_exporter compiles them with Go's regexp):
checked with RE2 plus the few rules where Go and RE2 in C++ differ. Group references in names and
labels must be ones the exporter fills in: a glob's '*'s, a regex's groups (numbered and named),
a jmx_exporter pattern's Java groups. A jmx_exporter pattern gets the credential check.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from constructs_lib import (
    JmxRule,
    MetricsAdapter,
    MetricsSource,
    PropsError,
    StatsdMapping,
    StatsdMatchType,
)

from .helpers import chart, kind, synth, web

REGEX = StatsdMatchType.REGEX
JMX_IMAGE = "bitnamilegacy/jmx-exporter:1.1.0"
RE2_FIX = (
    "statsd_exporter compiles it with Go's regexp: write RE2 syntax "
    "(https://github.com/google/re2/wiki/Syntax), without look-arounds, back-references, atomic "
    "groups or possessive quantifiers; \\z ends the name"
)
EMPTY = "statsd_exporter would fill in an empty string"


def config(source: MetricsSource) -> dict[str, Any]:
    """The exporter's config file as the adapter renders it into the ConfigMap."""
    c = chart()
    MetricsAdapter(c, "metrics", deployment=web(c), source=source)
    (cm,) = kind(synth(c), "ConfigMap")
    (text,) = cm["data"].values()
    return dict(yaml.safe_load(text))


def statsd(*mappings: StatsdMapping) -> list[dict[str, Any]]:
    return list(config(MetricsSource.statsd(mappings=list(mappings)))["mappings"])


def jmx(*rules: JmxRule) -> list[dict[str, Any]]:
    return list(config(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, rules=list(rules)))["rules"])


def refusal(source: MetricsSource) -> str:
    c = chart()
    with pytest.raises(PropsError) as err:
        MetricsAdapter(c, "metrics", deployment=web(c), source=source)
    return str(err.value)


def statsd_refusal(*mappings: StatsdMapping) -> str:
    return refusal(MetricsSource.statsd(mappings=list(mappings)))


def jmx_refusal(*rules: JmxRule) -> str:
    return refusal(MetricsSource.jmx(image=JMX_IMAGE, jmx_port=5555, rules=list(rules)))


class TestStatsdRegexIsGo:
    @pytest.mark.parametrize(
        ("regex", "reason"),
        [
            # Python's re accepted each of these; Go's regexp (and RE2) refuse them.
            ("a++b", "bad repetition operator: ++"),
            (r"\Z", r"invalid escape sequence: \Z"),
            ("(?>x)", "invalid perl operator: (?>"),
            ("(?#c)", "invalid perl operator: (?#"),
            ("a{1001}", "invalid repetition size: {1001}"),
            ("(?P=n)", "invalid perl operator: (?P"),
            ("(?P<n>a)(?P=n)", "invalid perl operator: (?P"),
            ("a(?=b)", "invalid perl operator: (?="),
            (r"(a)\1", r"invalid escape sequence: \1"),
            # nested repeats: at most 1000 copies in all (Go's repeatIsValid)
            ("(a{3}){500}", "invalid repetition size: {500}"),
            ("(a", "missing ): (a"),
        ],
    )
    def test_refused_with_the_engines_reason(self, regex: str, reason: str) -> None:
        assert statsd_refusal(StatsdMapping(match=regex, match_type=REGEX, name="x")) == (
            f"test/metrics: mappings[0].match={regex!r}: not a Go regular expression (RE2): {reason}. "
            f"Fix: {RE2_FIX}"
        )

    @pytest.mark.parametrize(
        ("regex", "reason", "fix"),
        [
            # RE2 in C++ accepts these; Go's regexp/syntax does not.
            (
                r"a\Cb",
                r"invalid escape sequence: \C (Go has no \C; RE2 in C++ reads it as any byte)",
                "use . for any character",
            ),
            (
                "(?P<ñ>x)",
                "invalid named capture: (?P<ñ> (Go's group names are ASCII letters, digits and '_')",
                "rename the group with ASCII letters, digits and '_'",
            ),
            # Go reads (?<name>...) only since Go 1.22.
            (
                "(?<n>x)",
                "(?<name>...) is a named group only since Go 1.22, older statsd_exporter builds refuse it",
                "write (?P<name>...), which every Go version reads",
            ),
            (
                "(" * 201 + "a" + ")" * 201,
                "groups nested more than 200 deep (Go refuses parse trees deeper than 1000: expression "
                "nests too deeply)",
                "flatten the regex",
            ),
        ],
    )
    def test_refused_where_go_differs_from_re2(self, regex: str, reason: str, fix: str) -> None:
        assert statsd_refusal(StatsdMapping(match=regex, match_type=REGEX, name="x")) == (
            f"test/metrics: mappings[0].match={regex!r}: not a Go regular expression (RE2): {reason}. "
            f"Fix: {fix}"
        )

    @pytest.mark.parametrize(
        "regex",
        [
            # Valid RE2 / Go syntax that Python's re refused or read differently.
            r"app\.hits\z",
            r"^\pL+\.count$",
            r"\Q.\E",
            "(?P<n>x)",
            "a{1000}",
            "(a{2}){500}",
            "(?i)app|(?U)x*",
            "[[:alpha:]]+",
            # what looks like a Go-only construct, but is quoted or in a class
            r"\Qa\Cb(?<n>\E",
            "[(?<]",
            "(" * 200 + "a" + ")" * 200,
        ],
    )
    def test_accepted_and_rendered_unchanged(self, regex: str) -> None:
        (rule,) = statsd(StatsdMapping(match=regex, match_type=REGEX, name="x"))
        assert rule == {"match": regex, "name": "x", "match_type": "regex"}

    def test_re2_prints_nothing_when_it_refuses(self, capfd: pytest.CaptureFixture[str]) -> None:
        statsd_refusal(StatsdMapping(match="a++b", match_type=REGEX, name="x"))
        assert "a++b" not in capfd.readouterr().err


class TestStatsdGroupReferences:
    def test_glob_reference_beyond_its_stars(self) -> None:
        mapping = StatsdMapping(match="app.*.hits", name="hits_total", labels={"outcome": "$2"})
        assert statsd_refusal(mapping) == (
            "test/metrics: mappings[0].labels.outcome='$2': $2 refers to '*' number 2, but the glob has "
            f"1 '*'; {EMPTY}. Fix: refer to the glob's '*' as $1"
        )
        (rule,) = statsd(StatsdMapping(match="app.*.hits", name="hits_total", labels={"outcome": "$1"}))
        assert rule["labels"] == {"outcome": "$1"}

    @pytest.mark.parametrize(
        ("mapping", "message"),
        [
            (
                StatsdMapping(match="app.hits", name="hits_total", labels={"page": "$1"}),
                "mappings[0].labels.page='$1': $1 refers to '*' number 1, but the glob has 0 '*'; "
                f"{EMPTY}. Fix: add a '*' to the glob or remove the reference",
            ),
            (
                StatsdMapping(match="app.*.*", name="x_${3}"),
                "mappings[0].name='x_${3}': ${3} refers to '*' number 3, but the glob has 2 '*'; "
                f"{EMPTY}. Fix: refer to a '*' of the glob: $1 to $2",
            ),
            (
                StatsdMapping(match="app.*", name="x_$0"),
                f"mappings[0].name='x_$0': $0 refers to '*' number 0, but the glob has 1 '*'; {EMPTY}. "
                "Fix: refer to the glob's '*' as $1",
            ),
            # statsd_exporter's formatter takes every letter, digit and '_' after '$'.
            (
                StatsdMapping(match="app.*", name="app_$1_total"),
                "mappings[0].name='app_$1_total': $1_total refers to '1_total', which is not the number "
                "of a '*' (statsd_exporter reads every letter, digit, '_' and '$' after the '$'); "
                f"{EMPTY}. Fix: write ${{1}}_total to end the reference after the number",
            ),
            (
                StatsdMapping(match="app.*", name="x", labels={"page": "${page}"}),
                "mappings[0].labels.page='${page}': ${page} refers to 'page', which is not the number of a "
                f"'*' (statsd_exporter reads every letter, digit, '_' and '$' after the '$'); {EMPTY}. Fix: "
                "refer to a '*' of the glob as $1 or ${1} (named groups need a regex: "
                "match_type=StatsdMatchType.REGEX)",
            ),
        ],
    )
    def test_glob_references_refused(self, mapping: StatsdMapping, message: str) -> None:
        assert statsd_refusal(mapping) == f"test/metrics: {message}"

    def test_glob_references_accepted(self) -> None:
        rules = statsd(
            StatsdMapping(match="app.*.hits", name="hits_total", labels={"page": "$1"}),
            StatsdMapping(match="job.*.*", name="${1}_${2}_x", labels={"job": "${1}_server", "note": "$"}),
        )
        assert [(r["name"], r["labels"]) for r in rules] == [
            ("hits_total", {"page": "$1"}),
            ("${1}_${2}_x", {"job": "${1}_server", "note": "$"}),
        ]

    def test_regex_named_and_numbered_references_accepted(self) -> None:
        (rule,) = statsd(
            StatsdMapping(
                match=r"^app\.(?P<page>\w+)\.(\w+)$",
                match_type=REGEX,
                name="app_${2}_total",
                # Go's Regexp.Expand: ${name}, $name, $0 (the whole match), $$ (a '$')
                labels={"page": "${page}", "short": "$page", "raw": "$0", "cost": "$$1"},
            )
        )
        assert rule["name"] == "app_${2}_total"
        assert rule["labels"] == {"cost": "$$1", "page": "${page}", "raw": "$0", "short": "$page"}

    @pytest.mark.parametrize(
        ("labels", "message"),
        [
            (
                {"page": "${m}"},
                "mappings[0].labels.page='${m}': ${m} refers to a group named 'm', but the regex has 1 "
                f"group(s), named n; {EMPTY}. Fix: name a group (?P<m>...) or refer to one the regex has",
            ),
            (
                {"page": "$2"},
                "mappings[0].labels.page='$2': $2 refers to group 2, but the regex has 1 group(s), named n; "
                f"{EMPTY}. Fix: refer to a group of the regex ($0 is the whole match)",
            ),
            (
                {"page": "$1_x"},
                "mappings[0].labels.page='$1_x': $1_x refers to a group named '1_x', but the regex has 1 "
                f"group(s), named n; {EMPTY}. Fix: write ${{1}}_x to end the reference after the number",
            ),
            (
                {"page": "$01"},
                "mappings[0].labels.page='$01': $01 is a name to Go (a number with a leading 0), and the "
                f"regex has 1 group(s), named n; {EMPTY}. Fix: write $1",
            ),
        ],
    )
    def test_regex_references_refused(self, labels: dict[str, str], message: str) -> None:
        mapping = StatsdMapping(match=r"^app\.(?P<n>\w+)$", match_type=REGEX, name="x", labels=labels)
        assert statsd_refusal(mapping) == f"test/metrics: {message}"

    def test_regex_name_reference_beyond_its_groups(self) -> None:
        mapping = StatsdMapping(match=r"^app\.hits$", match_type=REGEX, name="x_$1")
        assert statsd_refusal(mapping) == (
            "test/metrics: mappings[0].name='x_$1': $1 refers to group 1, but the regex has 0 group(s), "
            f"none named; {EMPTY}. Fix: refer to a group of the regex ($0 is the whole match)"
        )


class TestJmxGroupReferences:
    def test_named_reference_without_the_group(self) -> None:
        assert jmx_refusal(JmxRule(pattern="(a)", name="x_${foo}")) == (
            "test/metrics: source.rules[0].name='x_${foo}': ${foo} but the pattern has no group named 'foo' "
            "(named groups: none); Java's Matcher would throw 'No group with name' at scrape time. Fix: "
            "name a group of the pattern (?<foo>...) or refer to one it has"
        )

    def test_named_reference_with_the_group(self) -> None:
        (rule,) = jmx(JmxRule(pattern="(?<foo>a)(b)", name="x_${foo}_$2", labels={"foo": "${foo}"}))
        assert rule == {"pattern": "(?<foo>a)(b)", "name": "x_${foo}_$2", "labels": {"foo": "${foo}"}}

    @pytest.mark.parametrize(
        ("rule", "message"),
        [
            # quoted by \Q..\E: text, not a group
            (
                JmxRule(pattern=r"\Q(?<foo>\E(a)", name="x", labels={"kind": "${foo}"}),
                "source.rules[0].labels='${foo}': ${foo} but the pattern has no group named 'foo' (named "
                "groups: none); Java's Matcher would throw 'No group with name' at scrape time. Fix: name "
                "a group of the pattern (?<foo>...) or refer to one it has",
            ),
            (
                JmxRule(pattern="(?<foo>a)", name="x", help="${bar}"),
                "source.rules[0].help='${bar}': ${bar} but the pattern has no group named 'bar' (named "
                "groups: foo); Java's Matcher would throw 'No group with name' at scrape time. Fix: name "
                "a group of the pattern (?<bar>...) or refer to one it has",
            ),
            # Java: ${...} names start with a letter
            (
                JmxRule(pattern="(a)", name="x_${1}"),
                "source.rules[0].name='x_${1}': a '$' that is not a group reference. Fix: write $1 or "
                "${name}, or \\$ for a '$'",
            ),
            (
                JmxRule(pattern="(a)", name="x", help="ends in \\"),
                "source.rules[0].help='ends in \\\\': a trailing '\\' (Java's Matcher would throw: character "
                "to be escaped is missing). Fix: write \\\\ for a '\\'",
            ),
        ],
    )
    def test_refused(self, rule: JmxRule, message: str) -> None:
        assert jmx_refusal(rule) == f"test/metrics: {message}"

    def test_java_reads_more_digits_only_while_they_name_a_group(self) -> None:
        # Matcher: $12 with one group is group 1 followed by "2"; with none it is group 1, missing.
        (rule,) = jmx(JmxRule(pattern="(a)", name="x_$12"))
        assert rule["name"] == "x_$12"
        assert jmx_refusal(JmxRule(pattern="a", name="x_$12")) == (
            "test/metrics: source.rules[0].name='x_$12': $1 but the pattern has 0 group(s). "
            "Fix: refer to a group of the pattern"
        )


class TestJmxPatternCredentials:
    TOKEN = "s3cr3tT0ken"

    def test_a_token_url_in_a_pattern_is_refused_as_in_help(self) -> None:
        url = f"https://deploy:{self.TOKEN}@git.example.com/jmx"
        as_pattern = jmx_refusal(JmxRule(pattern=url, name="x"))
        as_help = jmx_refusal(JmxRule(pattern="a", name="x", help=url))
        assert as_pattern.startswith(
            "test/metrics: source.rules[0].pattern='https://***@git.example.com/jmx': "
        ), as_pattern
        assert self.TOKEN not in as_pattern
        # The same detector and message as for help.
        assert as_pattern.split(": ", 2)[2] == as_help.split(": ", 2)[2]

    def test_a_pattern_on_several_lines_is_refused(self) -> None:
        message = jmx_refusal(JmxRule(pattern="a\nb", name="x"))
        assert message.startswith("test/metrics: source.rules[0].pattern='a\\nb': not a single-line string")
