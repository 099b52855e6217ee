"""Fixtures of the system tests that drive a real browser."""

from __future__ import annotations

import pytest

from tests.servers import require_binary


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Debian's headless Chromium through its chromedriver; selenium-manager never downloads anything."""
    from selenium import webdriver

    chromium = require_binary("chromium", "/usr/bin")
    chromedriver = require_binary("chromedriver", "/usr/bin")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(argument)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))
    try:
        driver.set_script_timeout(20)
        driver.set_page_load_timeout(20)
        yield driver
    finally:
        driver.quit()
