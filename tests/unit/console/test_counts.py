"""collector/console/counts.py: counts by type per minute and per hour, and people's or bots' alone."""

from __future__ import annotations

from collections import Counter

from collector.console.counts import EXCLUDE, ONLY, TimeCounts, chosen

HOUR = 1_796_000_400  # a whole hour
KEPT = (0.0, 0.0)


def test_an_event_counts_in_its_minute_and_its_hour_and_old_ones_are_not_counted():
    counts = TimeCounts()
    counts.add(HOUR + 61.5, "view", KEPT)
    counts.add(HOUR + 3599, "view", KEPT)
    counts.add(HOUR - 10, "view", (HOUR, HOUR))  # older than what is kept: not counted
    assert counts.minutes == {HOUR + 60: Counter(view=1), HOUR + 3540: Counter(view=1)}
    assert counts.hours == {HOUR: Counter(view=2)}
    assert counts.totals(HOUR, HOUR + 3540, 60)["view"] == Counter({HOUR + 60: 1, HOUR + 3540: 1})
    assert counts.since(HOUR + 120) == Counter(view=1)
    counts.forget_before(HOUR + 120, HOUR)
    assert counts.cells() == 2


def test_people_are_every_event_less_the_bots_and_a_type_only_bots_sent_is_left_out():
    every = {"view": Counter({0: 3, 60: 1}), "ping": Counter({0: 2})}
    bots = {"view": Counter({0: 1}), "ping": Counter({0: 2})}
    assert chosen(every, bots, EXCLUDE) == {"view": Counter({0: 2, 60: 1})}
    assert chosen(every, bots, ONLY) is bots and chosen(every, bots, None) is every
