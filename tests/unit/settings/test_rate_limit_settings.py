"""The rate-limit settings: parsed, defaulted and checked together at start-up."""

from __future__ import annotations

import pytest

from collector.settings import SettingsError, load_settings


def test_moving_window_with_memcached_stops_start_up_naming_what_works():
    with pytest.raises(SettingsError) as raised:
        load_settings(
            {"COLLECTOR_RATE_LIMIT_STRATEGY": "moving-window", "COLLECTOR_RATE_LIMIT_STORAGE": "memcached://m:11211"}
        )
    assert str(raised.value) == (
        "COLLECTOR_RATE_LIMIT_STRATEGY='moving-window' is not supported by memcached:// storage: "
        "expected one of fixed-window, sliding-window-counter"
    )


@pytest.mark.parametrize(
    ("strategy", "storage"),
    [
        ("fixed-window", "memcached://a:1,b:2"),
        ("sliding-window-counter", "memcached://a:1"),
        ("moving-window", "memory://"),
        ("sliding-window-counter", "memory://"),
    ],
)
def test_supported_strategy_and_storage_pairs_start(strategy, storage):
    settings = load_settings(
        {"COLLECTOR_RATE_LIMIT_STRATEGY": strategy, "COLLECTOR_RATE_LIMIT_STORAGE": storage}
    )
    assert settings.rate_limit_strategy == strategy


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("COLLECTOR_RATE_LIMIT_STRATEGY", "token-bucket"),
        ("COLLECTOR_RATE_LIMIT_COST", "byte"),
        ("COLLECTOR_RATE_LIMIT_IPV6_PREFIX", "129"),
        ("COLLECTOR_RATE_LIMIT_IPV6_PREFIX", "0"),
        ("COLLECTOR_RATE_LIMIT_TIMEOUT", "0"),
        ("COLLECTOR_RATE_LIMIT_ON_ERROR", "ignore"),
    ],
)
def test_bad_rate_limit_values_stop_start_up_naming_the_variable(variable, value):
    with pytest.raises(SettingsError, match=f"^{variable}="):
        load_settings({variable: value})


def test_rate_limit_defaults():
    settings = load_settings({})
    assert (
        settings.rate_limit_strategy,
        settings.rate_limit_cost,
        settings.rate_limit_ipv6_prefix,
        settings.rate_limit_timeout,
        settings.rate_limit_on_error,
    ) == ("fixed-window", "request", 64, 0.2, "open")
