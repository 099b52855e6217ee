"""Hive partition directories of the Parquet export: `dt=YYYY-MM-DD`, `eventType=T` with T made safe for a path."""

from __future__ import annotations

from collector.loaders import partitions


def test_a_plain_type_is_its_own_directory_name():
    assert partitions.type_directory("page_view") == "eventType=page_view"
    assert partitions.type_directory("Checkout.Started-2") == "eventType=Checkout.Started-2"


def test_what_a_path_or_a_reader_would_misread_is_percent_encoded_and_other_letters_kept():
    assert partitions.type_directory("a/b") == "eventType=a%2Fb"
    assert partitions.type_directory("50% off=yes?") == "eventType=50%25%20off%3Dyes%3F"
    assert partitions.type_directory("ünï 中") == "eventType=ünï%20中"
    assert partitions.type_directory("..") == "eventType=.."


def test_no_type_and_a_type_named_like_hive_s_null_are_told_apart():
    assert partitions.type_directory(None) == "eventType=__HIVE_DEFAULT_PARTITION__"
    assert partitions.type_directory("__HIVE_DEFAULT_PARTITION__") == "eventType=%5F_HIVE_DEFAULT_PARTITION__"


def test_a_type_too_long_for_a_directory_name_is_cut_with_a_hash_of_the_whole():
    long = "中" * 128  # the longest eventType: 384 bytes of UTF-8
    name = partitions.type_directory(long)
    assert len(name.encode()) <= 255
    assert name.startswith("eventType=中中") and name != partitions.type_directory(long[:-1])
    assert partitions.type_directory("a" * 128) == "eventType=" + "a" * 128  # long, but fits


def test_the_day_directory_is_the_utc_date():
    assert partitions.day_directory("2026-12-01") == "dt=2026-12-01"
