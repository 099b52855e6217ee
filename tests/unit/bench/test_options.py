"""bench/options.py: bench/run.py's command line and the defaults that follow from --quick."""

from __future__ import annotations

import importlib

import pytest

from tests.processes import ROOT


@pytest.fixture
def options(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    return importlib.import_module("options")


def test_a_full_run_measures_five_rounds_and_writes_the_published_results(options):
    args = options.parse_args([])
    assert (args.warmup, args.rounds, args.seconds, args.profile) == (5, 5, 6, True)
    assert args.results == ROOT / "bench" / "RESULTS.md"
    assert args.shapes == ["deployed", "default"] and args.rss_events == 1_000_000


def test_a_quick_run_is_short_and_replaces_no_published_results(options):
    args = options.parse_args(["--quick", "--shapes", " deployed ,"])
    assert (args.warmup, args.rounds, args.seconds, args.profile) == (1, 1, 3, False)
    assert (args.results, args.rss_events, args.shapes) == (None, 0, ["deployed"])


def test_explicit_figures_win_over_the_quick_defaults(options, tmp_path):
    argv = ["--quick", "--rounds", "2", "--seconds", "1", "--rss-events", "10", "--results", str(tmp_path / "r.md")]
    args = options.parse_args(argv)
    assert (args.rounds, args.seconds, args.rss_events, args.results) == (2, 1, 10, tmp_path / "r.md")


def test_a_segment_only_run_replaces_no_published_results(options):
    assert options.parse_args(["--segment-only"]).results is None


def test_the_run_and_its_scenarios_import_without_starting_anything(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    run = importlib.import_module("run")
    scenarios = importlib.import_module("scenarios")
    assert callable(run.main) and callable(scenarios.run_shape)
    assert set(scenarios.FSYNC_MODES) == {"always", "interval", "never"}


def test_before_names_the_commit_to_measure_beside_this_tree(options):
    assert options.parse_args(["--quick", "--before", "d24da50"]).before == "d24da50"
    assert options.parse_args([]).before is None


@pytest.mark.parametrize(
    "argv", [["--before", "d24da50", "--segment-only"], ["--before", "main", "--rss-only"], ["--before", " "]]
)
def test_before_is_refused_where_it_would_measure_nothing(options, argv, capsys):
    with pytest.raises(SystemExit) as caught:
        options.parse_args(argv)
    assert caught.value.code == 2
    assert "--before" in capsys.readouterr().err
