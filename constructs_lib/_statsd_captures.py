"""What a statsd mapping's match captures, and the ``$`` references to it: the ``*``s of a glob,
or the groups of a regex (Go's regexp, checked with RE2). A mapping's name and label values may
refer only to those; statsd_exporter would fill in an empty string for any other reference.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from ._errors import PropsError


@dataclass(frozen=True)
class _StatsdCaptures:
    """What a mapping's name and label values may refer to: its glob's ``*``s, or its
    regex's groups (numbered, and named ones by name)."""

    regex: bool
    count: int  # '*'s of the glob, or capturing groups of the regex
    names: frozenset[str] = frozenset()


# --- StatsD regexes: Go's regexp, checked with RE2 ----------------------------------------
# statsd_exporter compiles a regex mapping's match with Go's regexp, as is: per upstream
# pkg/mapper/mapper.go, `regexp.Compile(currentMapping.Match)` with no anchors added, matched
# with FindStringSubmatchIndex (so unanchored: the regex may match anywhere in the statsd name
# unless it has ^...$), and the name and every label value filled in with
# Regexp.ExpandString. (A glob is turned into an FSM instead; its name and labels are filled
# in by pkg/mapper/fsm/formatter.go.) The library does not anchor or rewrite the regex either:
# it renders it unchanged.
#
# The library checks the regex with RE2 (the google-re2 binding): Go's regexp/syntax is a port
# of RE2's parser and takes the same syntax (Perl-like: no look-arounds, back-references,
# atomic groups, possessive quantifiers, comments or \Z; \z, \pL, \Q...\E and (?P<name>...)
# work). Where RE2 in C++ and Go's regexp/syntax differ, the Go side is applied on top:
#   - \C (any byte): RE2 accepts it; Go refuses it ("invalid escape sequence").
#   - group names: RE2 accepts Unicode letters; Go only ASCII letters, digits and '_'
#     (regexp/syntax isValidCaptureName). Duplicate names: both accept them.
#   - (?<name>...): Go reads it only since Go 1.22 (RE2 since 2023). The library cannot tell
#     which Go an image (the pinned one, or image=) was built with, so it refuses it and
#     asks for (?P<name>...), which every Go version reads.
#   - repeat counts: both refuse {n} above 1000, and nested repeats whose product exceeds
#     1000 ((a{2}){501}): Go's repeatIsValid, RE2's RepetitionWalker. Nothing to add.
#   - size: Go refuses a program of more than ~3.3M instructions (ErrLarge); RE2 with its
#     default 8 MiB budget ("pattern too large") stops far below that, so it refuses all Go
#     refuses, and also a few huge regexes Go would take (\pL{500}: RE2 compiles UTF-8 bytes).
#   - nesting: Go refuses parse trees deeper than 1000 (ErrNestingDepth); RE2 has no such
#     limit. The library counts parentheses and refuses more than _MAX_GROUP_DEPTH levels, a
#     depth whose parse tree always stays under Go's limit (at most 4 tree levels a group).
#   - Unicode: \p{...} names come from each side's tables; Go 1.21+ and RE2 since 2023 both
#     have Unicode 15.0's categories and scripts (\p{Kawi} yes, Unicode 16's \p{Garay} no).
# Sources: the Go side from Go's src/regexp/syntax/parse.go (no Go toolchain here runs it); the
# RE2 side is what google-re2 does, pinned by tests/test_regex_rules.py.
_MAX_GROUP_DEPTH = 200
_GO_CAPTURE_NAME = re.compile(r"[A-Za-z0-9_]+")
_RE2_FIX = (
    "statsd_exporter compiles it with Go's regexp: write RE2 syntax "
    "(https://github.com/google/re2/wiki/Syntax), without look-arounds, back-references, atomic "
    "groups or possessive quantifiers; \\z ends the name"
)


@functools.cache
def _re2() -> Any:
    """google-re2, imported on first use: only regex mappings need it."""
    import re2  # type: ignore[import-untyped]

    return re2


def _go_regexp(where: str, prop: str, regex: str) -> _StatsdCaptures:
    """A statsd mapping's regex, as Go's regexp.Compile would take it (see above); its groups."""

    def refuse(problem: str, fix: str = _RE2_FIX) -> PropsError:
        return PropsError(where, prop, regex, f"not a Go regular expression (RE2): {problem}", fix)

    re2 = _re2()
    options = re2.Options()
    options.log_errors = False  # RE2 would log every pattern it refuses to stderr
    try:
        compiled = re2.compile(regex, options)
    except UnicodeEncodeError:
        raise refuse("not valid UTF-8 (a lone surrogate)", "remove the surrogate character") from None
    except re2.error as err:  # the reason as RE2 states it, in bytes
        reason = err.args[0] if err.args else b""
        raise refuse(reason.decode() if isinstance(reason, bytes) else str(reason)) from None
    go_only = _go_only_problem(regex)
    if go_only is not None:
        raise refuse(*go_only)
    names = frozenset(str(n) for n in compiled.groupindex)
    for name in sorted(names):
        if not _GO_CAPTURE_NAME.fullmatch(name):
            raise refuse(
                f"invalid named capture: (?P<{name}> (Go's group names are ASCII letters, digits and '_')",
                "rename the group with ASCII letters, digits and '_'",
            )
    return _StatsdCaptures(regex=True, count=int(compiled.groups), names=names)


def _go_only_problem(regex: str) -> tuple[str, str] | None:
    """What Go's regexp refuses in a regex RE2 accepted: \\C, (?<name>, or groups nested too
    deep. Walks the regex outside character classes and \\Q...\\E quotes (RE2 already checked
    that they are well formed); (problem, fix) or None."""
    i, depth, in_class = 0, 0, False
    while i < len(regex):
        c = regex[i]
        if c == "\\":
            escaped = regex[i + 1 : i + 2]
            if escaped == "Q" and not in_class:
                end = regex.find("\\E", i + 2)
                i = len(regex) if end < 0 else end + 2
                continue
            if escaped == "C":
                return (
                    "invalid escape sequence: \\C (Go has no \\C; RE2 in C++ reads it as any byte)",
                    "use . for any character",
                )
            i += 2
        elif in_class:
            if regex.startswith("[:", i) and regex.find(":]", i + 2) >= 0:
                i = regex.find(":]", i + 2) + 2  # [:alpha:]; RE2 refused any other [:...:]
                continue
            in_class = c != "]"
            i += 1
        elif c == "[":
            i += 1
            i += regex.startswith("^", i)
            i += regex.startswith("]", i)  # a ']' first in the class is literal
            in_class = True
        else:
            if c == "(" and regex.startswith("(?<", i):
                return (
                    "(?<name>...) is a named group only since Go 1.22, older statsd_exporter builds "
                    "refuse it",
                    "write (?P<name>...), which every Go version reads",
                )
            depth += (c == "(") - (c == ")")
            if depth > _MAX_GROUP_DEPTH:
                return (
                    f"groups nested more than {_MAX_GROUP_DEPTH} deep (Go refuses parse trees deeper than "
                    "1000: expression nests too deeply)",
                    "flatten the regex",
                )
            i += 1
    return None


def _check_statsd_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    """Every ``$`` reference in a name or label value is one the exporter fills in: a ``*``
    of the glob, or a group of the regex. An unknown one would silently become ''."""
    check = _check_regex_refs if captures.regex else _check_glob_refs
    check(where, prop, text, captures)


# pkg/mapper/fsm/formatter.go: templateReplaceCaptureRE. A capture that is not a number from
# 1 to the count of '*'s is replaced with '' (so are names: a glob has no named captures).
_GLOB_REF = re.compile(r"\$\{?([a-zA-Z0-9_$]+)\}?")


def _check_glob_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    stars = captures.count
    for m in _GLOB_REF.finditer(text):
        ref, capture = m.group(0), m.group(1)
        if capture.isdigit() and 1 <= int(capture) <= stars:
            continue
        if capture.isdigit():
            problem = f"{ref} refers to '*' number {int(capture)}, but the glob has {stars} '*'"
            fix = f"refer to a '*' of the glob: $1 to ${stars}"
            if stars <= 1:
                fix = (
                    "refer to the glob's '*' as $1"
                    if stars
                    else "add a '*' to the glob or remove the reference"
                )
        else:
            problem = (
                f"{ref} refers to {capture!r}, which is not the number of a '*' (statsd_exporter reads "
                "every letter, digit, '_' and '$' after the '$')"
            )
            fix = _braced_ref_fix(capture) or (
                "refer to a '*' of the glob as $1 or ${1} (named groups need a regex: "
                "match_type=StatsdMatchType.REGEX)"
            )
        raise PropsError(where, prop, text, f"{problem}; statsd_exporter would fill in an empty string", fix)


def _check_regex_refs(where: str, prop: str, text: str, captures: _StatsdCaptures) -> None:
    """Go's Regexp.Expand: ``$$`` is a '$'; ``$name``/``${name}`` takes the longest run of
    letters, digits and '_'; a name of ASCII digits (no leading 0) is a group number (0 the
    whole match); any other '$' stays as it is."""
    i = 0
    while (i := text.find("$", i)) >= 0:
        if text.startswith("$$", i):
            i += 2
            continue
        ref, name = _go_expand_ref(text, i)
        if ref is None:
            i += 1  # not a reference: Go copies the '$'
            continue
        i += len(ref)
        number = int(name) if name.isascii() and name.isdigit() and name == str(int(name)) else None
        if number is not None and number <= captures.count:
            continue
        if number is None and name in captures.names:
            continue
        groups = f"{captures.count} group(s)" + (
            f", named {', '.join(sorted(captures.names))}" if captures.names else ", none named"
        )
        if number is not None:
            problem = f"{ref} refers to group {number}, but the regex has {groups}"
            fix = "refer to a group of the regex ($0 is the whole match)"
        elif name.isascii() and name.isdigit():  # a leading 0: Go reads it as a name
            problem = f"{ref} is a name to Go (a number with a leading 0), and the regex has {groups}"
            fix = f"write ${int(name)}"
        else:
            problem = f"{ref} refers to a group named {name!r}, but the regex has {groups}"
            fix = _braced_ref_fix(name) or f"name a group (?P<{name}>...) or refer to one the regex has"
        raise PropsError(where, prop, text, f"{problem}; statsd_exporter would fill in an empty string", fix)


def _go_expand_ref(text: str, i: int) -> tuple[str | None, str]:
    """The reference at ``text[i] == '$'`` as Go's regexp extract() reads it: (the reference
    text, its name), or (None, '') if the '$' is literal."""
    j = i + 1
    brace = text.startswith("{", j)
    j += brace
    start = j
    while j < len(text) and (
        text[j] == "_" or unicodedata.category(text[j])[0] == "L" or text[j].isdecimal()
    ):
        j += 1  # Go: '_', unicode.IsLetter (L*) or unicode.IsDigit (Nd)
    name = text[start:j]
    if not name or (brace and not text.startswith("}", j)):
        return None, ""
    return text[i : j + brace], name


def _braced_ref_fix(capture: str) -> str | None:
    """``1_total`` -> "write ${1}_total": a number run into the text after it."""
    m = re.match(r"([0-9]+)([^0-9].*)", capture)
    return f"write ${{{m.group(1)}}}{m.group(2)} to end the reference after the number" if m else None
