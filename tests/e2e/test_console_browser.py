"""The web console in a real browser (issue 18): headless Chromium signs in with a master key,
creates a bin whose name and record are hostile HTML, edits it (a syntax error shown before
saving, then a versioned save), finds it in the list, and signs out; nothing the API returned
runs as script, the key is never anywhere but the tab's sessionStorage, and the page logs no
error."""

from __future__ import annotations

import time

import pytest

from tests.support import HttpApi

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

HOSTILE_NAME = '<img src=x onerror="window.__xss = 1">'
HOSTILE_RECORD = '{"html": "</script><script>window.__xss = 2</script>", "n": 1}'


def visible(browser, element_id: str, timeout: float = 15) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, timeout).until(
        lambda d: d.find_element(By.ID, element_id).is_displayed()
    )


def press(browser, button: str, shows: str) -> None:
    """Press the button with this ID and wait for the section it shows."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, button).click()
    visible(browser, shows)


def text_of(browser, element_id: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id).text


def test_sign_in_create_edit_list_and_sign_out(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    account = HttpApi(server).account()
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")
    browser.find_element(By.ID, "key").send_keys(account.key)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    visible(browser, "bins")
    assert browser.execute_script("return sessionStorage.getItem('openbin.key')") == account.key
    assert browser.execute_script("return localStorage.length") == 0
    assert account.key not in browser.page_source and account.key not in browser.current_url

    # a bin whose name and record are HTML and script
    press(browser, "nav-new", shows="new-bin")
    browser.find_element(By.ID, "new-name").send_keys(HOSTILE_NAME)
    record = browser.find_element(By.ID, "new-record")
    record.clear()
    record.send_keys(HOSTILE_RECORD)
    browser.find_element(By.CSS_SELECTOR, "#new-bin-form button").click()
    visible(browser, "bin")
    assert text_of(browser, "bin-name") == HOSTILE_NAME
    assert "</script><script>" in browser.find_element(By.ID, "record").get_attribute("value")
    bin_id = text_of(browser, "bin-id")

    # a syntax error is shown before saving, and nothing is sent
    editor = browser.find_element(By.ID, "record")
    editor.clear()
    editor.send_keys('{"n": ')
    assert text_of(browser, "record-error").startswith("Not valid JSON")
    assert browser.find_element(By.ID, "save").get_attribute("disabled") is not None
    editor.send_keys("2}")
    assert text_of(browser, "record-error") == ""
    browser.find_element(By.ID, "versioned").click()
    browser.find_element(By.ID, "save").click()
    WebDriverWait(browser, 15).until(lambda d: "version 1 kept" in text_of(d, "status"))
    stored = HttpApi(server).get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key})
    assert stored.json() == {"n": 2}

    # rename and make public, through the metadata routes
    rename = browser.find_element(By.ID, "rename-to")
    rename.clear()
    rename.send_keys("renamed <b>bin</b>")
    browser.find_element(By.ID, "rename").click()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "Renamed.")
    assert text_of(browser, "bin-name") == "renamed <b>bin</b>"
    browser.find_element(By.ID, "toggle-privacy").click()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "The bin is public.")
    public = HttpApi(server).get(f"/v3/b/{bin_id}")  # no key: public now
    assert public.status == 200 and public.json()["metadata"]["name"] == "renamed <b>bin</b>"

    # versions: listed newest first, compared, viewed, and one restored as a new version
    press(browser, "show-versions", shows="versions")
    WebDriverWait(browser, 15).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#version-rows tr")) == 2
    )
    numbers = [
        r.text.split()[0] for r in browser.find_elements(By.CSS_SELECTOR, "#version-rows tr")
    ]
    assert numbers == ["1", "0"]
    browser.find_element(By.ID, "diff").click()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "diff-view") != "")
    removed = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#diff-view .removed")]
    added = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#diff-view .added")]
    assert any("</script><script>" in line for line in removed)
    assert added and all(line.startswith("+ ") for line in added)
    browser.find_element(By.CSS_SELECTOR, "[aria-label='View version 0']").click()
    WebDriverWait(browser, 15).until(lambda d: "window.__xss = 2" in text_of(d, "version-view"))
    browser.find_element(By.CSS_SELECTOR, "[aria-label='Restore version 0']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 15).until(
        lambda d: text_of(d, "status") == "Version 0 restored as version 2."
    )
    assert "</script><script>" in browser.find_element(By.ID, "record").get_attribute("value")

    # the list shows the name as text
    press(browser, "nav-bins", shows="bins")
    WebDriverWait(browser, 15).until(
        lambda d: any(
            "renamed <b>bin</b>" in item.text
            for item in d.find_elements(By.CSS_SELECTOR, "#bin-list li")
        )
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#bin-list img") == []
    assert browser.execute_script("return window.__xss") is None  # nothing ran

    press(browser, "sign-out", shows="sign-in")
    assert browser.execute_script("return sessionStorage.getItem('openbin.key')") is None
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_a_refused_key_goes_back_to_sign_in_with_the_reason(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")
    browser.find_element(By.ID, "key").send_keys("$2a$10$" + "W" * 53)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    WebDriverWait(browser, 15).until(
        lambda d: text_of(d, "sign-in-error") == "Invalid X-Master-Key provided"
    )
    assert browser.execute_script("return sessionStorage.getItem('openbin.key')") is None


def sign_in(browser, server, key: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    visible(browser, "bins")


def test_a_schema_refuses_a_save_and_says_why(browser, server):
    """A collection, a schema doc made in the console and attached to it, and a bin created in
    that collection whose record the schema refuses: the API's message is shown by the form."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    account = HttpApi(server).account()
    sign_in(browser, server, account.key)
    press(browser, "nav-collections", shows="collections")
    browser.find_element(By.ID, "collection-name").send_keys("people")
    browser.find_element(By.CSS_SELECTOR, "#new-collection-form button").click()
    WebDriverWait(browser, 15).until(lambda d: "people" in text_of(d, "collection-list"))
    browser.find_element(By.ID, "schema-name").send_keys("person")
    schema = browser.find_element(By.ID, "schema-body")
    schema.clear()
    schema.send_keys('{"type": "object", "required": ["name"]}')
    browser.find_element(By.CSS_SELECTOR, "#schema-form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: "created" in text_of(d, "status"))
    browser.find_element(By.ID, "attach").click()
    WebDriverWait(browser, 15).until(lambda d: "schema doc" in text_of(d, "collection-list"))

    press(browser, "nav-bins", shows="bins")
    WebDriverWait(browser, 15).until(
        lambda d: len(Select(d.find_element(By.ID, "collection")).options) == 2
    )
    Select(browser.find_element(By.ID, "collection")).select_by_visible_text("people")
    press(browser, "nav-new", shows="new-bin")
    record = browser.find_element(By.ID, "new-record")
    record.clear()
    record.send_keys('{"age": 3}')
    browser.find_element(By.CSS_SELECTOR, "#new-bin-form button").click()
    WebDriverWait(browser, 15).until(
        lambda d: text_of(d, "new-record-error").startswith("Schema Doc Validation Mismatch")
    )
    assert "'name' is a required property" in text_of(browser, "new-record-error")


def test_access_keys_are_made_shown_once_and_deleted(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    account = HttpApi(server).account()
    sign_in(browser, server, account.key)
    press(browser, "nav-keys", shows="keys")
    browser.find_element(By.ID, "key-name").send_keys("reader")
    browser.find_element(By.CSS_SELECTOR, "#new-key-form button").click()
    visible(browser, "new-key")
    secret = browser.find_element(By.ID, "new-key-secret").get_attribute("value")
    assert secret.startswith("$2a$10$") and len(secret) == 60
    assert "reader" in text_of(browser, "key-list") and "(read)" in text_of(browser, "key-list")
    assert secret not in text_of(browser, "key-list")  # listed without its secret
    listed = HttpApi(server).get("/v3/a", {"X-Master-Key": account.key}).json()
    assert [k["metadata"]["name"] for k in listed] == ["reader"]
    browser.find_element(By.CSS_SELECTOR, "[aria-label='Delete access key reader']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "Access key deleted.")
    assert HttpApi(server).get("/v3/a", {"X-Master-Key": account.key}).json() == []
    reader = HttpApi(server).get("/v3/usage", {"X-Access-Key": secret})
    assert reader.status == 401  # deleted: it works no more


def test_an_access_key_gets_the_pages_its_permissions_allow(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    api = HttpApi(server)
    account = api.account()
    bin_id = api.create_bin(account, {"shared": 1})
    editor_key = api.access_key(account, "read", "update")
    browser.get(f"{server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")
    browser.find_element(By.ID, "key").send_keys(editor_key)
    Select(browser.find_element(By.ID, "key-kind")).select_by_value("X-Access-Key")
    browser.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
    visible(browser, "bins")
    for master_only in ("nav-collections", "nav-keys", "nav-usage", "listing"):
        assert not browser.find_element(By.ID, master_only).is_displayed(), master_only
    browser.find_element(By.ID, "open-id").send_keys(bin_id)
    browser.find_element(By.CSS_SELECTOR, "#open-bin-form button").click()
    visible(browser, "bin")
    assert not browser.find_element(By.ID, "show-versions").is_displayed()
    editor = browser.find_element(By.ID, "record")
    editor.clear()
    editor.send_keys('{"shared": 2}')
    browser.find_element(By.ID, "save").click()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "Saved.")
    assert api.get(f"/v3/b/{bin_id}?meta=false", {"X-Master-Key": account.key}).json() == {
        "shared": 2
    }
    # a permission it lacks: back to sign-in with the reason
    browser.find_element(By.ID, "delete").click()
    browser.switch_to.alert.accept()
    visible(browser, "sign-in")
    assert "does not have permission" in text_of(browser, "sign-in-error")


def test_usage_and_its_log_days(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    account = HttpApi(server).account()
    sign_in(browser, server, account.key)  # lists bins: requests that are logged
    press(browser, "nav-usage", shows="usage")
    WebDriverWait(browser, 15).until(lambda d: "requestsRemaining" in text_of(d, "usage-list"))

    def days_or_note(driver):
        return driver.find_elements(By.CSS_SELECTOR, "#log-days button") or text_of(
            driver, "logs-note"
        )

    for _ in range(40):  # the lines are filed a moment after their answers
        browser.find_element(By.ID, "nav-usage").click()
        WebDriverWait(browser, 15).until(days_or_note)
        if browser.find_elements(By.CSS_SELECTOR, "#log-days button"):
            break
        time.sleep(0.5)
    browser.find_element(By.CSS_SELECTOR, "#log-days button").click()
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "status").startswith("Downloaded "))
    assert browser.execute_script("return window.__xss") is None


def test_the_keyboard_alone_signs_in_and_creates_a_bin(browser, server):
    """Tab and Enter only: the key field is the first stop, Enter signs in, the navigation is
    reachable by Tab, and a new bin is made from the keyboard."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    account = HttpApi(server).account()
    browser.get(f"{server.url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{server.url}/")
    visible(browser, "sign-in")

    def focused() -> str:
        return browser.switch_to.active_element.get_attribute("id")

    def tab_to(element_id: str, limit: int = 30) -> None:
        for _ in range(limit):
            if focused() == element_id:
                return
            browser.switch_to.active_element.send_keys(Keys.TAB)
        raise AssertionError(f"Tab never reached #{element_id} (at #{focused()})")

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert focused() == "key"  # the first stop
    browser.switch_to.active_element.send_keys(account.key, Keys.ENTER)
    visible(browser, "bins")
    tab_to("nav-new")
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    visible(browser, "new-bin")
    assert focused() == "new-name"
    browser.switch_to.active_element.send_keys("typed")
    tab_to("new-record")
    editor = browser.switch_to.active_element
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys('{"typed": true}')
    browser.switch_to.active_element.send_keys(Keys.TAB)  # the record's error line is no stop
    assert browser.switch_to.active_element.text == "Create"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    visible(browser, "bin")
    WebDriverWait(browser, 15).until(lambda d: text_of(d, "bin-name") == "typed")


def test_without_javascript_or_the_policy_the_key_never_reaches_a_url(browser, server):
    """Issue 24, finding 11: the sign-in form had name="key" and no method, so with JavaScript
    off Enter would have put the key in the URL (/?key=...); only the page's form-action 'none'
    stopped it. Here the script and the policy are both off, and the key still goes nowhere."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    account = HttpApi(server).account()
    browser.execute_cdp_cmd("Page.enable", {})
    browser.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(f"{server.url}/")
        browser.find_element(By.ID, "key").send_keys(account.key + Keys.ENTER)
        time.sleep(1)  # a submission, if there were one, navigates
        assert account.key not in browser.current_url
        assert "key=" not in browser.current_url
        assert account.key not in browser.page_source
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        browser.execute_cdp_cmd("Page.setBypassCSP", {"enabled": False})


def test_webhooks_set_paused_sent_again_and_reset(browser, server):
    """The Webhooks page: a receiver's URL saved (the signing secret shown once, and it verifies
    the delivery), a bin's creation listed as delivered and sent again, paused, then reset."""
    import json as jsonlib

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from standardwebhooks.webhooks import Webhook

    from tests.handler.test_webhook_sending import Receiver

    receiver = Receiver()
    try:
        account = HttpApi(server).account()
        sign_in(browser, server, account.key)
        press(browser, "nav-webhooks", shows="webhooks")
        assert text_of(browser, "webhook-state") == "No webhook is set."
        browser.find_element(By.ID, "webhook-url").send_keys(receiver.url)
        browser.find_element(By.ID, "hook-delete").click()  # creates and updates only
        browser.find_element(By.CSS_SELECTOR, "#webhook-form button[type=submit]").click()
        visible(browser, "webhook-new-secret")
        secret = browser.find_element(By.ID, "webhook-secret-value").get_attribute("value")
        assert secret.startswith("whsec_")
        shown = HttpApi(server).get("/v3/w", {"X-Master-Key": account.key}).json()
        assert shown["events"] == ["create", "update"] and "secret" not in shown
        bin_id = HttpApi(server).create_bin(account, {"from": "the console test"})
        deadline = time.monotonic() + 15
        while not receiver.got and time.monotonic() < deadline:
            time.sleep(0.1)
        _, headers, body = receiver.got[0]
        Webhook(secret).verify(body, headers, json_parse=False)
        assert jsonlib.loads(body)["id"] == bin_id
        press(browser, "nav-webhooks", shows="webhooks")
        WebDriverWait(browser, 15).until(lambda d: "delivered" in text_of(d, "delivery-rows"))
        assert bin_id in text_of(browser, "delivery-rows")
        assert browser.find_element(By.ID, "webhook-new-secret").is_displayed() is False
        browser.find_element(By.CSS_SELECTOR, "#delivery-rows button").click()
        WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "Sent again.")
        deadline = time.monotonic() + 15
        while len(receiver.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert receiver.got[1][1]["webhook-id"] == headers["webhook-id"]
        browser.find_element(By.ID, "webhook-pause").click()
        WebDriverWait(browser, 15).until(
            lambda d: text_of(d, "webhook-state") == "Paused: nothing is sent."
        )
        assert HttpApi(server).get("/v3/w", {"X-Master-Key": account.key}).json()["paused"]
        browser.find_element(By.ID, "webhook-reset").click()
        browser.switch_to.alert.accept()
        WebDriverWait(browser, 15).until(lambda d: text_of(d, "status") == "Webhook reset.")
        assert HttpApi(server).get("/v3/w", {"X-Master-Key": account.key}).status == 404
        assert not browser.get_log("browser") or all(
            entry["level"] != "SEVERE" for entry in browser.get_log("browser")
        )
    finally:
        receiver.close()
