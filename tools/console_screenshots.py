"""Screenshots of the web console for the README: ``.venv/bin/python tools/console_screenshots.py``.

Starts ``openbin serve`` on a scratch data dir, makes an account with a collection, a schema doc,
a few bins (one with versions) and an access key, drives Debian's headless Chromium through the
main pages, and writes ``docs/console/*.png`` (desktop width, and the bin page at phone width).
Run by hand after a change to the console; the browser tests (tests/e2e/test_console_browser.py)
are what checks it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "layers" / "common")]

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.e2e.conftest import CHROMEDRIVER, CHROMIUM  # noqa: E402
from tests.support import HttpApi, ServerProcess  # noqa: E402

OUT = ROOT / "docs" / "console"


def seed(api: HttpApi):
    account = api.account()
    key = {"X-Master-Key": account.key}
    people = api.collection(account, "people", {"type": "object", "required": ["name"]})
    for name, record in (
        ("ada", {"name": "Ada Lovelace", "born": 1815, "tags": ["analyst", "poet"]}),
        ("alan", {"name": "Alan Turing", "born": 1912, "tags": ["logician"]}),
    ):
        api.create_bin(account, record, X_Bin_Name=name, X_Collection_Id=people["collectionId"])
    settings = api.create_bin(account, {"theme": "dark", "beta": False}, X_Bin_Name="settings")
    for change in ({"theme": "light", "beta": False}, {"theme": "light", "beta": True}):
        versioned = {**key, "Content-Type": "application/json", "X-Bin-Versioning": "true"}
        api.request("PUT", f"/v3/b/{settings}", versioned, change)
    api.access_key(account, "read")
    return account, settings


def wait_for(driver, element_id: str) -> None:
    WebDriverWait(driver, 15).until(lambda d: d.find_element(By.ID, element_id).is_displayed())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        server = ServerProcess(Path(data)).start()
        try:
            account, settings = seed(HttpApi(server))
            options = webdriver.ChromeOptions()
            options.binary_location = CHROMIUM
            for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
                options.add_argument(flag)
            driver = webdriver.Chrome(
                service=Service(executable_path=CHROMEDRIVER), options=options
            )
            try:
                driver.set_window_size(1100, 900)
                driver.get(f"{server.url}/")
                wait_for(driver, "sign-in")
                driver.save_screenshot(str(OUT / "sign-in.png"))
                driver.find_element(By.ID, "key").send_keys(account.key)
                driver.find_element(By.CSS_SELECTOR, "#sign-in-form button").click()
                wait_for(driver, "bins")
                Select(driver.find_element(By.ID, "collection")).select_by_visible_text("people")
                time.sleep(1)
                driver.save_screenshot(str(OUT / "bins.png"))
                driver.find_element(By.ID, "open-id").send_keys(settings)
                driver.find_element(By.CSS_SELECTOR, "#open-bin-form button").click()
                wait_for(driver, "bin")
                driver.find_element(By.ID, "show-versions").click()
                wait_for(driver, "versions")
                time.sleep(0.5)
                driver.find_element(By.ID, "diff").click()
                time.sleep(1)
                driver.save_screenshot(str(OUT / "bin-versions.png"))
                driver.find_element(By.ID, "nav-keys").click()
                wait_for(driver, "keys")
                time.sleep(0.5)
                driver.save_screenshot(str(OUT / "access-keys.png"))
                driver.set_window_size(390, 844)
                driver.find_element(By.ID, "nav-bins").click()
                wait_for(driver, "bins")
                time.sleep(1)
                driver.save_screenshot(str(OUT / "bins-phone.png"))
            finally:
                driver.quit()
        finally:
            server.stop()
    print("\n".join(str(path.relative_to(ROOT)) for path in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
