"""bench/report.py writes bench/RESULTS.md for users: what was measured, on what, the ratios; no verdicts."""

from __future__ import annotations

import argparse
import importlib
import re

import pytest

from tests.processes import ROOT

# What a results page for users has no use for: the project's issue numbers,
# and pass/fail verdicts against targets it never sees.
INTERNAL = re.compile(r"\bissue \d+|\bnot met\b|\*\*met\*\*|\btargets?\b", re.I)


@pytest.fixture
def report(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("report")


def measurement(wrkload, rps: float, p99: float, events_per_request: int = 1):
    rounds = [wrkload.Round(int(rps * 6), 6.0, p99 / 3, p99, 0, 0, [0.8, 0.7]) for _ in range(3)]
    return wrkload.Measurement(rounds, events_per_request, True, [38.0, 38.0])


def bench_of(report):
    wrkload = importlib.import_module("wrkload")  # on the path with report
    bench = argparse.Namespace(
        results={}, rss_runs={"deployed": [(0, [38.9, 38.9]), (1_000_000, [39.0, 38.9])]}, profiles={}
    )
    for shape in ("deployed", "default"):
        bench.results[(shape, "baseline single")] = measurement(wrkload, 4000, 10.0)
        bench.results[(shape, "naive service single")] = measurement(wrkload, 1000, 40.0)
        bench.results[(shape, "single")] = measurement(wrkload, 1400, 25.0)
        bench.results[(shape, "naive service batch")] = measurement(wrkload, 250, 120.0, 100)
        bench.results[(shape, "batch")] = measurement(wrkload, 500, 80.0, 100)
        bench.results[(shape, "batch, Segment /v1/batch")] = measurement(wrkload, 450, 90.0, 100)
        bench.results[(shape, "429")] = measurement(wrkload, 4400, 12.0)
    return bench


def test_the_page_gives_ratios_beside_what_they_compare_with_and_no_verdicts(report):
    args = argparse.Namespace(warmup=5, rounds=3, seconds=6, wrk_threads=2, connections=16)
    text = report.render(args, bench_of(report), ["--rounds", "3"], 600)
    assert not INTERNAL.findall(text)
    assert "| single events, req/s | deployed | 1,400 | bare WSGI: 4,000 | 0.35x |" in text
    assert "| single events, req/s | default | 1,400 | naive Flask service: 1,000 | 1.40x |" in text
    assert "| 100-event batches, events/s | deployed | 50,000 | naive Flask service: 25,000 | 2.00x |" in text
    assert "| worker RSS after 1,000,000 events | deployed | 39.0 MB | after warm-up: 38.9 MB | +0.1 MB |" in text
    assert re.search(r"figures from commit \S+, .*`git log \S+\.\.HEAD -- collector gunicorn\.conf\.py`", text)


def test_segment_batches_are_given_as_a_ratio_to_collect_event_batches_of_the_same_run(report):
    args = argparse.Namespace(warmup=5, rounds=3, seconds=6, wrk_threads=2, connections=16)
    text = report.render(args, bench_of(report), ["--rounds", "3"], 600)
    row = (
        "| Segment /v1/batch, 100 messages a request, events/s | {} | 45,000 "
        "| /collect/event, 100-event batches: 50,000 | 0.90x |"
    )
    assert row.format("deployed") in text and row.format("default") in text
    assert "| deployed | batch, Segment /v1/batch | 450 (450-450) |" in text


def test_a_segment_only_run_has_its_rows_without_a_baseline(report):
    bench = bench_of(report)
    bench.results = {key: m for key, m in bench.results.items() if key[1] in ("batch", "batch, Segment /v1/batch")}
    bench.rss_runs = {}
    args = argparse.Namespace(warmup=1, rounds=3, seconds=3, wrk_threads=2, connections=16)
    text = report.render(args, bench, ["--segment-only"], 60)
    assert "| Segment /v1/batch, 100 messages a request, events/s | deployed | 45,000 |" in text
    assert not INTERNAL.findall(text)


def test_a_before_run_has_the_earlier_commit_beside_bare_wsgi_and_this_commit_beside_it(report):
    bench = bench_of(report)
    wrkload = importlib.import_module("wrkload")
    bench.before = argparse.Namespace(ref="d24da50", commit="d24da50", label="before d24da50")
    for shape in ("deployed", "default"):
        bench.results[(shape, "single, before d24da50")] = measurement(wrkload, 1250, 26.0)
        bench.results[(shape, "batch, before d24da50")] = measurement(wrkload, 400, 90.0, 100)
    args = argparse.Namespace(warmup=1, rounds=1, seconds=3, wrk_threads=2, connections=16)
    text = report.render(args, bench, ["--quick", "--before", "d24da50"], 60)
    assert "the collector of `d24da50` (commit d24da50; rows `before d24da50`)" in text
    assert "| single events, req/s, before d24da50 | deployed | 1,250 | bare WSGI: 4,000 | 0.31x |" in text
    assert "| single events, req/s, this commit | deployed | 1,400 | before d24da50: 1,250 | 1.12x |" in text
    assert (
        "| 100-event batches, events/s, before d24da50 | default | 40,000 "
        "| bare WSGI single-event req/s x 100: 400,000 | 0.100x |"
    ) in text
    assert "| 100-event batches, events/s, this commit | default | 50,000 | before d24da50: 40,000 | 1.25x |" in text
    assert "| deployed | single, before d24da50 | 1,250 (1,250-1,250) | 0.31x |" in text
    assert not INTERNAL.findall(text)


def test_a_run_without_before_has_no_before_rows(report):
    args = argparse.Namespace(warmup=5, rounds=3, seconds=6, wrk_threads=2, connections=16)
    assert "before" not in report.main_figures(bench_of(report))
    assert "git worktree" not in report.render(args, bench_of(report), [], 600)


@pytest.mark.parametrize("name", ["RESULTS.md", "RESULTS-memory.md"])
def test_the_published_results_read_as_the_report_writes_them(name):
    text = (ROOT / "bench" / name).read_text()
    assert not INTERNAL.findall(text)
    assert "## The main figures\n" in text
    assert re.search(r"figures from commit [0-9a-f]{7,}", text)


def test_no_published_result_speaks_of_issues_or_verdicts():
    for path in (ROOT / "bench").glob("*.md"):
        assert not INTERNAL.findall(path.read_text()), path.name


def test_bots_and_the_plan_are_given_as_ratios_to_both_off_in_the_same_rounds(report):
    bench = bench_of(report)
    wrkload = importlib.import_module("wrkload")
    scenarios = importlib.import_module("scenarios")
    off = scenarios.BOTS_OFF_LABEL
    plan = "10-type tracking plan (flag), bots off"
    bench.results[("deployed", f"single, {off}")] = measurement(wrkload, 1400, 25.0)
    bench.results[("deployed", f"single, {plan}")] = measurement(wrkload, 1330, 26.0)
    bench.results[("deployed", f"batch, {off}")] = measurement(wrkload, 500, 80.0, 100)
    bench.results[("deployed", f"batch, {plan}")] = measurement(wrkload, 480, 82.0, 100)
    text = report.main_figures(bench)
    assert f"| single events, req/s, {plan} | deployed | 1,330 | {off}: 1,400 | 0.95x |" in text
    assert f"| 100-event batches, events/s, {plan} | deployed | 48,000 | {off}: 50,000 | 0.96x |" in text
    assert not [line for line in text.splitlines() if plan in line and "| default |" in line], "none measured there"
