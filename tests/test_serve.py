"""i2i serve: the endpoint (limits, errors, parallel requests) and the page in a real browser."""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from i2i.serve import serve


@pytest.fixture
def server(tiny_checkpoint):
    running = serve(tiny_checkpoint, port=0, max_upload=200_000, max_pixels=300 * 300)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{running.server_address[1]}"
    running.shutdown()
    running.server_close()


def _png(width: int, height: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _post(url: str, body: bytes, query: str = "mode=eval") -> tuple[int, bytes]:
    request = urllib.request.Request(f"{url}/translate?{query}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_an_upload_comes_back_translated_at_its_size(server):
    status, body = _post(server, _png(70, 40))
    assert status == 200 and Image.open(io.BytesIO(body)).size == (70, 40)
    info = json.loads(urllib.request.urlopen(f"{server}/info").read())
    assert info["directions"] == ["AtoB"] and info["model"] == "tiny.safetensors"
    page = urllib.request.urlopen(server).read().decode()
    assert '<input type="file"' in page and "http" not in page.split("<body>")[1]  # no CDN


@pytest.mark.fault
def test_a_multipart_form_upload_is_taken_like_a_raw_body(server):
    from urllib3 import encode_multipart_formdata

    image = _png(70, 40, seed=5)
    form, content_type = encode_multipart_formdata(
        {"note": "hello", "file": ("photo.png", image, "image/png")}
    )
    request = urllib.request.Request(
        f"{server}/translate?mode=eval", data=form, headers={"Content-Type": content_type}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        from_form = response.read()
    assert from_form == _post(server, image)[1]  # the same translation as the raw body
    empty, content_type = encode_multipart_formdata({"note": "no file here"})
    request = urllib.request.Request(
        f"{server}/translate", data=empty, headers={"Content-Type": content_type}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 400
    assert "the form holds no file" in json.loads(refused.value.read())["error"]


def test_the_page_is_titled_by_the_run_and_shows_no_empty_images(tmp_path, tiny_checkpoint):
    from i2i.inference.model import Model
    from i2i.serve import Translator, page

    run = tmp_path / "maps-run" / "checkpoints"
    run.mkdir(parents=True)
    shutil.copy(tiny_checkpoint, run / "best.safetensors")
    if tiny_checkpoint.with_suffix(".json").is_file():
        shutil.copy(tiny_checkpoint.with_suffix(".json"), run / "best.json")
    html = page(Translator(Model(run.parent), 1000, 1000).info())
    assert "<title>i2i: maps-run: best.safetensors</title>" in html
    assert '<img id="input" alt="input" hidden>' in html
    assert '<img id="output" alt="output" hidden>' in html


def test_limits_and_bad_uploads_are_one_clear_message(server):
    too_big = _post(server, b"x" * 300_000)
    assert too_big[0] == 413 and "over the limit of 200000" in json.loads(too_big[1])["error"]
    flat = io.BytesIO()
    Image.new("RGB", (400, 300)).save(flat, format="PNG")  # small as a file, large in pixels
    too_many = _post(server, flat.getvalue())
    assert too_many[0] == 413 and "400x300 pixels" in json.loads(too_many[1])["error"]
    garbage = _post(server, b"not an image")
    assert garbage[0] == 415 and "not an image" in json.loads(garbage[1])["error"]
    wrong = _post(server, _png(8, 8), "direction=sideways")
    assert wrong[0] == 400 and "unknown direction" in json.loads(wrong[1])["error"]


def test_parallel_requests_get_their_own_answers(server):
    uploads = [_png(32 + 8 * i, 32, seed=i) for i in range(6)]
    alone = [_post(server, body)[1] for body in uploads]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda body: _post(server, body)[1], uploads))
    assert together == alone  # eval mode: deterministic, and no request saw another's image


CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def _draw_and_translate(browser, by, wait) -> None:
    """Open the canvas, draw a stroke, translate it: the output becomes the drawing's size."""
    from selenium.webdriver.common.action_chains import ActionChains

    browser.find_element(by.ID, "draw-toggle").click()
    canvas = browser.find_element(by.ID, "canvas")
    ActionChains(browser).move_to_element_with_offset(
        canvas, -60, -60
    ).click_and_hold().move_by_offset(80, 40).move_by_offset(40, 60).release().perform()
    browser.find_element(by.ID, "draw-go").click()
    try:
        wait(browser, 60).until(
            lambda b: (
                b.execute_script("return document.getElementById('output').naturalWidth") == 256
            )
        )
    except Exception:
        state = browser.execute_script(
            "return [document.getElementById('error').textContent,"
            " document.getElementById('drawing').hidden,"
            " document.getElementById('output').naturalWidth]"
        )
        raise AssertionError(f"the drawing was not translated: {state}") from None


@pytest.mark.slow
@pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")
def test_the_page_translates_an_upload_in_a_real_browser(server, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (test extra)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1100,700",
    ):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    photo = tmp_path / "photo.png"
    photo.write_bytes(_png(96, 64))
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        browser.get(server)
        browser.find_element(By.ID, "file").send_keys(str(photo))
        WebDriverWait(browser, 60).until(
            lambda b: b.execute_script(
                "const o = document.getElementById('output'); return o.complete && o.naturalWidth"
            )
        )
        size = browser.execute_script(
            "const o = document.getElementById('output'); return [o.naturalWidth, o.naturalHeight]"
        )
        assert size == [96, 64]
        browser.save_screenshot(str(tmp_path / "page.png"))
        assert Image.open(tmp_path / "page.png").size[0] > 0
        browser.find_element(By.ID, "download").click()
        _draw_and_translate(browser, By, WebDriverWait)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(downloads.glob("*.png")):
            time.sleep(0.2)
        (downloaded,) = downloads.glob("*.png")
        assert downloaded.name == "photo_translated.png"
        assert Image.open(downloaded).size == (96, 64)
    finally:
        browser.quit()
