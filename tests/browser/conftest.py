"""Headless Chromium (Debian's, never one Playwright downloads) against the web server of the
configuration pytest runs with (``ckan.site_url``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ckan.plugins import toolkit as tk
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.web import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Browser contexts (separate cookie jars, one per person), closed after the test."""
    opened: list[BrowserContext] = []
    yield opened
    for context in opened:
        context.close()


def log_in(browser: Browser, contexts: list[BrowserContext], site_url: str, name: str) -> Page:
    """A new browser context in which the user logged in through the login form (PASSWORD)."""
    context = browser.new_context()
    context.set_default_timeout(20_000)
    contexts.append(context)
    page = context.new_page()
    page.goto(site_url + "/user/login")
    page.fill("#field-login", name)
    page.fill("#field-password", PASSWORD)
    page.get_by_role("button", name="Login").click()
    expect(page).not_to_have_url(site_url + "/user/login")
    return page


@pytest.fixture
def site_url() -> str:
    return tk.config["ckan.site_url"].rstrip("/")
