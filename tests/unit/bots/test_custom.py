"""COLLECTOR_BOT_PATTERNS: comma-separated regular expressions, checked, matched case-insensitively."""

from __future__ import annotations

import pytest

from collector.bots import MAX_PATTERN_LENGTH, MAX_PATTERNS, parse_patterns
from collector.bots.bot import MAX_NAME_LENGTH
from collector.bots.custom import CustomPatterns


def test_a_value_is_split_at_commas_and_trimmed():
    assert parse_patterns(" acme-uptime , ^internal-scraper/ ,,") == ("acme-uptime", "^internal-scraper/")


def test_an_empty_value_is_no_patterns():
    assert parse_patterns("") == ()
    assert parse_patterns("  ") == ()


def test_a_value_of_only_commas_is_refused():
    with pytest.raises(ValueError, match=r"^empty \(no patterns of the team's own\) or comma-separated regular"):
        parse_patterns(" , ,")


@pytest.mark.parametrize(
    "raw, message",
    [
        ("ok,acme(", "pattern 'acme(' is not a valid regular expression: missing ), unterminated subpattern"),
        ("x{1,3}", "pattern 'x{1': a comma separates patterns, so a pattern cannot hold a {m,n} repeat"),
        ("a|", "pattern 'a|' matches an empty User-Agent, so it would flag every request"),
        (".*", "pattern '.*' matches an empty User-Agent"),
        ("a" * (MAX_PATTERN_LENGTH + 1), f"is longer than {MAX_PATTERN_LENGTH} characters"),
        (
            ",".join(f"p{n}" for n in range(MAX_PATTERNS + 1)),
            f"at most {MAX_PATTERNS} comma-separated patterns, not {MAX_PATTERNS + 1}",
        ),
    ],
)
def test_a_bad_value_is_refused_in_one_line_naming_the_pattern(raw, message):
    with pytest.raises(ValueError) as refused:
        parse_patterns(raw)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_the_bounds_are_accepted_at_the_edge():
    assert len(parse_patterns(",".join(f"p{n}" for n in range(MAX_PATTERNS)))) == MAX_PATTERNS
    assert parse_patterns("a" * MAX_PATTERN_LENGTH) == ("a" * MAX_PATTERN_LENGTH,)


def test_a_match_is_case_insensitive_and_named_by_the_text_matched():
    patterns = CustomPatterns(["acme-uptime/\\d+", "scraper"])
    assert patterns.match("Mozilla/5.0 (ACME-Uptime/3; +https://acme.test)").as_json() == {
        "name": "ACME-Uptime/3",
        "category": "custom",
    }
    assert patterns.match("Our-Scraper 1.0").name == "Scraper"
    assert patterns.match("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0") is None


def test_a_match_of_blanks_is_named_by_the_pattern():
    assert CustomPatterns(["x\\s+y|\\s{3}"]).match("a   b").name == "x\\s+y|\\s{3}"


def test_a_long_match_is_named_by_its_start():
    bot = CustomPatterns(["acme.*"]).match("acme" + "z" * 500)
    assert bot.name == ("acme" + "z" * 500)[:MAX_NAME_LENGTH]


def test_patterns_given_directly_are_checked_too():
    with pytest.raises(ValueError, match="not a valid regular expression"):
        CustomPatterns(["["])
