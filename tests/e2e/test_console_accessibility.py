"""The web console checked by axe-core (Deque's accessibility engine, from npm:
tools/axe/package-lock.json, installed by ``make test``) in headless Chromium: every view a user
reaches, signed out and in, with data in it, and its error and one-time states. Every rule axe
runs by default (WCAG 2.0-2.2 A and AA, and best practices) must pass: no violation of any
impact."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.test_console_browser import press, sign_in, text_of, visible
from tests.support import ROOT, HttpApi

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

AXE = ROOT / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then(r => done(r.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + n.failureSummary)}))))
  .catch(e => done([{rule: "axe did not run", impact: String(e)}]));
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if os.environ.get("OPENBIN_REQUIRE_BROWSER"):
            pytest.fail(f"axe-core is not installed ({AXE}): make test installs it")
        pytest.skip("axe-core is not installed: cd tools/axe && npm ci")
    return AXE.read_text()


def violations(browser, axe_source: str) -> list[dict]:
    """axe's violations in the view on screen (injected by the driver, which the page's
    Content-Security-Policy does not govern; injected again after a page load)."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(axe_source)
    return browser.execute_async_script(RUN_AXE)


class Audit:
    """axe's violations in each view visited, by the view's name."""

    def __init__(self, browser, axe_source: str) -> None:
        self.browser, self.axe_source = browser, axe_source
        self.found: dict[str, list] = {}

    def check(self, view: str) -> None:
        self.found[view] = violations(self.browser, self.axe_source)


def test_every_view_of_the_console_passes_axe(browser, server, axe_source):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    api = HttpApi(server)
    account = api.account()
    key = {"X-Master-Key": account.key}
    made = api.request("POST", "/v3/c", {**key, "X-Collection-Name": "team"})
    collection = made.json()["record"]
    bin_id = api.create_bin(account, {"n": 1}, X_Bin_Name="first", X_Collection_Id=collection)
    api.create_bin(account, {"other": True}, X_Bin_Name="second")
    for n in (2, 3):
        kept = api.request("PUT", f"/v3/b/{bin_id}", {**key, "X-Bin-Versioning": "true"}, {"n": n})
        assert kept.status == 200, kept.body
    audit = Audit(browser, axe_source)
    wait = WebDriverWait(browser, 15)

    browser.get(f"{server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")
    audit.check("sign-in")
    browser.find_element(By.ID, "key").send_keys("$2a$10$" + "x" * 53)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    wait.until(lambda d: text_of(d, "sign-in-error"))
    audit.check("sign-in refused")

    sign_in(browser, server, account.key)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#bin-list button, #bin-list a"))
    audit.check("bins")
    press(browser, "nav-new", shows="new-bin")
    audit.check("new bin")

    press(browser, "nav-bins", shows="bins")
    browser.find_element(By.ID, "open-id").send_keys(bin_id)
    browser.find_element(By.CSS_SELECTOR, "#open-bin-form button").click()
    visible(browser, "bin")
    audit.check("bin")
    editor = browser.find_element(By.ID, "record")
    editor.clear()
    editor.send_keys('{"n": ')
    wait.until(lambda d: text_of(d, "record-error"))
    audit.check("bin with a syntax error")

    press(browser, "show-versions", shows="versions")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#version-rows tr")) >= 2)
    audit.check("versions")
    press(browser, "diff", shows="diff-view")
    audit.check("versions with a diff")

    press(browser, "nav-collections", shows="collections")
    wait.until(lambda d: "team" in text_of(d, "collection-list"))
    audit.check("collections and schema docs")

    press(browser, "nav-keys", shows="keys")
    browser.find_element(By.ID, "key-name").send_keys("reader")
    browser.find_element(By.ID, "perm-read").click()
    browser.find_element(By.CSS_SELECTOR, "#new-key-form button").click()
    visible(browser, "new-key")
    audit.check("access keys, a new key shown once")

    press(browser, "nav-usage", shows="usage")
    wait.until(lambda d: "requestsRemaining" in text_of(d, "usage-list"))
    audit.check("usage")

    press(browser, "nav-webhooks", shows="webhooks")
    wait.until(lambda d: text_of(d, "webhook-state"))
    audit.check("webhooks, none set")
    browser.find_element(By.ID, "webhook-url").send_keys("https://hooks.example.com/in")
    browser.find_element(By.CSS_SELECTOR, "#webhook-form button[type=submit]").click()
    visible(browser, "webhook-new-secret")
    audit.check("webhooks, the secret shown once")

    failing = {view: found for view, found in audit.found.items() if found}
    assert not failing, json.dumps(failing, indent=1)
    assert len(audit.found) == 13
