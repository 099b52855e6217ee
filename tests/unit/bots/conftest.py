"""One classifier for the module's tests: compiling the list takes a few hundred milliseconds."""

from __future__ import annotations

import pytest

from collector.bots import BotClassifier


@pytest.fixture(scope="module")
def classifier() -> BotClassifier:
    return BotClassifier()
