"""Make docs/figures/serve.png: the i2i serve page translating one aerial photo of maps.

    python docs/figures/make_serve_screenshot.py CHECKPOINT ALIGNED_IMAGE

needs Debian's chromium and chromium-driver, and selenium (the test extra).
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from i2i.serve import serve


def main(checkpoint: str, aligned: str) -> None:
    """Upload the A half of ``aligned`` to a served ``checkpoint``; screenshot the page."""
    folder = Path(tempfile.mkdtemp())
    pair = Image.open(aligned)
    photo = folder / "aerial.png"
    pair.crop((0, 0, pair.width // 2, pair.height)).resize((128, 128)).save(
        photo
    )  # the scale the study models were trained at
    server = serve(checkpoint, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=900,700",
        "--disable-background-networking",
        f"--user-data-dir={folder / 'profile'}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(
        options=options, service=webdriver.ChromeService("/usr/bin/chromedriver")
    )
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}")
        browser.find_element(By.ID, "file").send_keys(str(photo))
        WebDriverWait(browser, 120).until(
            lambda b: b.execute_script("return document.getElementById('output').naturalWidth")
        )
        target = Path(__file__).parent / "serve.png"
        browser.save_screenshot(str(target))
        print(f"wrote {target}")
    finally:
        browser.quit()
        server.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:3])
