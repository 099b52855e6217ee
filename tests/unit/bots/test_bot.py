"""A Bot: a name and one of the five documented categories, stored as `client.bot`."""

from __future__ import annotations

import dataclasses

import pytest

from collector.bots import CATEGORIES, Bot


def test_the_categories_are_the_documented_five():
    assert CATEGORIES == ("crawler", "headless", "monitor", "preview", "custom")


def test_a_bot_is_stored_as_its_name_and_category():
    assert Bot("Googlebot", "crawler").as_json() == {"name": "Googlebot", "category": "crawler"}


def test_a_bot_is_frozen_and_hashable_for_the_cache():
    bot = Bot("Googlebot", "crawler")
    with pytest.raises(dataclasses.FrozenInstanceError):
        bot.name = "other"  # type: ignore[misc]
    assert {bot: 1}[Bot("Googlebot", "crawler")] == 1


def test_an_unknown_category_is_refused():
    with pytest.raises(ValueError, match="unknown bot category 'robot'"):
        Bot("X", "robot")
