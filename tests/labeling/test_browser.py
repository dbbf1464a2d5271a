"""End to end in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

The server runs in a thread on a free loopback port; the test paints with the mouse like a
user and checks the PNG written to the labels folder. Screenshots go to test-artifacts/
(or the folder named by the environment variable PIXELSEG_TEST_ARTIFACTS).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pixelseg.data import ClassSet, PixelLabelDatastore

from .conftest import save_brightness_net

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("PIXELSEG_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
H, W = 120, 160

pytestmark = pytest.mark.browser


def _skip_reason() -> str | None:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} is missing (Debian: apt-get install chromium); the browser test needs it"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright); the browser test needs it"
    return None


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module (skips with the reason when unavailable)."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def app_server(request, tmp_path, browser):
    """Serve two 160 x 120 two-colour images on a free loopback port.

    Yields (url, labels_dir, classes_path); the url carries ?token= when the test is
    parametrized indirectly with a token (a string) or with a dict of ``token``,
    ``classes`` (class names), ``images`` (name -> H x W x 3 uint8 image, replacing the
    two default ones) and ``model`` (a function tmp_path -> checkpoint path).
    """
    import uvicorn

    from pixelseg.labeling.server import LOOPBACK_HOSTS, create_app

    param = getattr(request, "param", None)
    options = param if isinstance(param, dict) else {"token": param}
    token = options.get("token")
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    image = np.full((H, W, 3), 30, np.uint8)
    image[:, W // 2 :] = (200, 200, 190)
    for name, pixels in options.get("images", {"scene.png": image, "second.png": image}).items():
        Image.fromarray(pixels).save(images / name)
    ClassSet(options.get("classes", ["sky", "road", "car"]), void_ids=[255]).save(tmp_path / "classes.json")
    model = options["model"](tmp_path) if "model" in options else None
    app = create_app(images, labels, tmp_path / "classes.json", model=model, token=token, allowed_hosts=LOOPBACK_HOSTS)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the labeling server did not start")
        time.sleep(0.05)
    query = f"?token={token}" if token else ""
    first = options.get("open", "scene.png")
    yield f"http://127.0.0.1:{port}/{query}#{first}", labels, tmp_path / "classes.json"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def viewport():
    """The browser window size of a test (override by parametrizing ``viewport``)."""
    return {"width": 1000, "height": 640}


@pytest.fixture
def page(app_server, browser, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(app_server[0])
    page.wait_for_selector("body[data-ready=true]", timeout=20000)
    page.click("#zoom-1")  # one image pixel per screen pixel, image at the canvas origin
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def canvas_origin(page):
    box = page.locator("#view").bounding_box()
    return box["x"], box["y"]


def set_range(page, selector, value):
    page.fill(selector, str(value))
    page.dispatch_event(selector, "input")


def api(app_server, path, method="GET", body=None):
    """(status, headers, body bytes) of a request to the app's API from outside the page."""
    base = app_server[0].split("#")[0].split("?")[0].rstrip("/")
    data = json.dumps(body).encode() if body is not None else None
    headers = {"X-Requested-With": "pixelseg", "Content-Type": "application/json"}
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=20) as response:
        return response.status, response.headers, response.read()


def saved_label(app_server, name="scene.png"):
    """The label of ``name`` as the server reads it back (H x W uint8, void 255)."""
    _, headers, content = api(app_server, f"/api/images/{name}/label?format=raw")
    return np.frombuffer(content, np.uint8).reshape(int(headers["X-Height"]), int(headers["X-Width"]))


def stroke(page, x0, y0, points):
    """Drag the mouse through ``points`` (image pixels at 1:1 zoom)."""
    page.mouse.move(x0 + points[0][0], y0 + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x, y0 + y, steps=8)
    page.mouse.up()


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_paint_brush_and_polygon_then_save(app_server, page):
    _, labels, classes = app_server
    x0, y0 = canvas_origin(page)
    page.keyboard.press("2")  # class "road" (index 1)
    page.keyboard.press("b")
    set_range(page, "#brush-size", 9)
    page.mouse.move(x0 + 20.5, y0 + 30.5)
    page.mouse.down()
    page.mouse.move(x0 + 60.5, y0 + 30.5, steps=8)
    page.mouse.up()
    page.click("#classes li[data-index='2']")  # class "car" (index 2)
    page.keyboard.press("l")
    for x, y in [(100, 60), (140, 60), (140, 100), (100, 100)]:
        page.mouse.click(x0 + x, y0 + y)
    page.keyboard.press("Enter")
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    screenshot(page, "labeling_brush_polygon.png")

    png = Image.open(labels / "scene.png")
    assert png.mode == "P"
    label = np.asarray(png)
    assert label.shape == (H, W)
    # brush: a 9 px wide stroke along row 30 from x = 20.5 to 60.5
    assert (label[30, 17:64] == 1).all()
    assert (label[27:34, 20:61] == 1).all()
    stroke = np.zeros((H, W), bool)
    stroke[25:36, 15:66] = True
    # polygon: pixel centres inside [100, 140) x [60, 100)
    assert (label[60:100, 100:140] == 2).all()
    polygon = np.zeros((H, W), bool)
    polygon[60:100, 100:140] = True
    assert set(np.unique(label[stroke]).tolist()) <= {1, 255}
    assert set(np.unique(label[~stroke & ~polygon]).tolist()) == {255}
    assert (label == 2).sum() == 40 * 40
    np.testing.assert_array_equal(PixelLabelDatastore(labels, ClassSet.load(classes)).read(0), label)
    assert page.locator("#images li.labeled").count() == 1
    assert page.locator("#progress-text").text_content() == "0 / 2 done \u00b7 1 labeled"
    assert page.locator("#images li[data-name='scene.png']").get_attribute("data-status") == "in_progress"


def test_fill_superpixels_undo_redo_and_conflict(app_server, page):
    _, labels, _ = app_server
    page.uncheck("#autosave")
    x0, y0 = canvas_origin(page)
    data = "() => Array.from(new Set(window.pixelseg.state.current.map.data))"

    # flood fill the bright right half with class 0
    page.keyboard.press("1")
    page.keyboard.press("g")
    page.mouse.click(x0 + 120, y0 + 60)
    assert sorted(page.evaluate(data)) == [0, 255]
    page.keyboard.press("Control+z")
    assert page.evaluate(data) == [255]
    page.keyboard.press("Control+y")
    assert sorted(page.evaluate(data)) == [0, 255]

    # superpixels: click one in the dark left half, class 1
    page.keyboard.press("2")
    page.keyboard.press("s")
    page.wait_for_function("() => window.pixelseg.state.current.superpixels !== null", timeout=20000)
    page.mouse.click(x0 + 20, y0 + 20)
    assert sorted(page.evaluate(data)) == [0, 1, 255]
    # eraser: back to void (unlabelled)
    page.keyboard.press("e")
    set_range(page, "#brush-size", 3)
    page.mouse.click(x0 + 150.5, y0 + 10.5)
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    label = np.asarray(Image.open(labels / "scene.png"))
    assert ((label[:, W // 2 :] == 0) | (label[:, W // 2 :] == 255)).all() and (label[:, : W // 2] != 0).all()
    assert (label[:, W // 2 :] == 0).sum() == H * W // 2 - 9  # all but the 3 x 3 erased pixels
    assert label[20, 20] == 1 and (label == 1).sum() < H * W // 4
    assert label[10, 150] == 255 and label[10, 146] == 0

    # someone else changes the file; the next save is refused and the conflict shown
    Image.fromarray(np.full((H, W), 2, np.uint8)).save(labels / "scene.png")
    page.keyboard.press("b")
    page.mouse.click(x0 + 10, y0 + 110)
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=conflict]", timeout=10000)
    assert "changed on disk" in page.locator("#banner-text").text_content()
    screenshot(page, "labeling_conflict.png")
    assert (np.asarray(Image.open(labels / "scene.png")) == 2).all()  # not overwritten
    page.click("text=Overwrite it with my edits")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    assert np.asarray(Image.open(labels / "scene.png"))[110, 10] == 1

    # again, and this time take the version on disk (the own edits stay undoable)
    Image.fromarray(np.full((H, W), 2, np.uint8)).save(labels / "scene.png")
    page.mouse.click(x0 + 30, y0 + 110)
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=conflict]", timeout=10000)
    page.click("text=Load the version on disk")
    page.wait_for_selector("#save-status[data-state=clean]", timeout=10000)
    assert page.evaluate(data) == [2]
    assert (np.asarray(Image.open(labels / "scene.png")) == 2).all()


@pytest.mark.parametrize("app_server", ["tok-0123456789abcdef"], indirect=True)
def test_app_works_through_the_access_token(app_server, page, browser):
    _, labels, _ = app_server
    assert page.locator("#banner").is_hidden()
    assert page.locator("#images li").count() == 2
    x0, y0 = canvas_origin(page)
    page.keyboard.press("3")
    page.mouse.click(x0 + 50, y0 + 50)
    page.wait_for_selector("#save-status[data-state=saved]", timeout=15000)  # autosave, no click
    assert np.asarray(Image.open(labels / "scene.png"))[50, 50] == 2
    stranger = browser.new_context()  # no token, no cookie: nothing is served
    response = stranger.new_page().goto(app_server[0].split("?")[0])
    assert response.status == 403
    stranger.close()


def test_class_editor_and_switching_images_saves_first(app_server, page):
    _, labels, classes = app_server
    page.click("#edit-classes")
    rows = page.locator("#class-editor-rows li")
    rows.nth(0).locator("input[type=text]").fill("heaven")
    page.click("#class-add")
    rows.nth(3).locator("input[type=text]").fill("person")
    rows.nth(3).locator("input[type=color]").fill("#ff00ff")
    page.click("#class-save")
    page.wait_for_selector("#class-editor", state="hidden")
    saved = ClassSet.load(classes)
    assert saved.names == ["heaven", "road", "car", "person"]
    assert saved.colors[3].tolist() == [255, 0, 255]
    assert page.locator("#classes li").count() == 4

    x0, y0 = canvas_origin(page)
    page.keyboard.press("4")
    page.mouse.click(x0 + 40, y0 + 40)
    page.keyboard.press("ArrowRight")  # saves scene.png before opening second.png
    page.wait_for_function("() => window.pixelseg.state.current.name === 'second.png'", timeout=10000)
    label = np.asarray(Image.open(labels / "scene.png"))
    assert label[40, 40] == 3
    assert Image.open(labels / "scene.png").getpalette()[9:12] == [255, 0, 255]
    np.testing.assert_array_equal(PixelLabelDatastore(labels, saved).read(0), label)


def test_preserve_labels_paints_only_unlabelled_pixels(app_server, page):
    x0, y0 = canvas_origin(page)
    page.uncheck("#autosave")
    page.keyboard.press("1")  # sky (0): a 9 px stroke along row 30
    set_range(page, "#brush-size", 9)
    stroke(page, x0, y0, [(20.5, 30.5), (60.5, 30.5)])
    page.keyboard.press("p")  # preserve labels on
    assert page.is_checked("#preserve")
    page.keyboard.press("2")  # road (1): a 21 px stroke over the first one
    set_range(page, "#brush-size", 21)
    stroke(page, x0, y0, [(10.5, 30.5), (70.5, 30.5)])
    page.keyboard.press("3")  # car (2): flood fill of the dark left half, around both strokes
    page.keyboard.press("g")
    page.mouse.click(x0 + 5, y0 + 100)
    screenshot(page, "labeling_preserve.png")
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    label = saved_label(app_server)
    assert (label[27:34, 20:61] == 0).all()  # the first stroke is unchanged
    assert (label[22, 15:66] == 1).all() and (label[38, 15:66] == 1).all()  # the wider one around it
    assert (label[100:, : W // 2] == 2).all() and (label[:, 85:] == 255).all()
    assert {0, 1, 2} == set(np.unique(label[:, : W // 2]).tolist())

    # preserve off: the brush paints over
    page.keyboard.press("p")
    assert not page.is_checked("#preserve")
    page.keyboard.press("b")
    page.keyboard.press("2")
    set_range(page, "#brush-size", 3)
    page.mouse.click(x0 + 40.5, y0 + 30.5)
    page.click("#save")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    assert saved_label(app_server)[30, 40] == 1

    # H hides the label layer and shows it again
    page.keyboard.press("h")
    assert page.evaluate("() => window.pixelseg.view.showLabels") is False
    assert not page.is_checked("#show-labels")
    screenshot(page, "labeling_labels_hidden.png")
    page.keyboard.press("h")
    assert page.evaluate("() => window.pixelseg.view.showLabels") is True


ELEVEN = ["sky", "road", "car", "person", "tree", "sign", "pole", "fence", "bicycle", "wall", "lane", "rider"]


@pytest.mark.parametrize("app_server", [{"classes": ELEVEN}], indirect=True)
@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 700}])
def test_keys_for_classes_past_nine_and_layout_at_1024x700(app_server, page):
    selected = "() => window.pixelseg.state.classIndex"
    page.keyboard.press("Shift+1")
    assert page.evaluate(selected) == 10  # class 11 "lane"
    assert page.locator("#classes li[aria-selected=true]").text_content().startswith("lane")
    page.keyboard.press("0")
    assert page.evaluate(selected) == 9  # class 10 "wall"
    page.keyboard.press("Shift+2")
    assert page.evaluate(selected) == 11
    page.keyboard.press("Shift+3")  # no class 13: the selection stays
    assert page.evaluate(selected) == 11
    assert page.locator("#classes li .key").nth(10).text_content() == "\u21e71"
    # every class row is inside the window (the panel scrolls at worst, nothing is cut off
    # by the window edge), and the whole image is visible
    last = page.locator("#classes li").nth(11)
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 700 and box["x"] >= 0
    x0, y0 = canvas_origin(page)
    page.mouse.click(x0 + 40, y0 + 40)
    page.click("#fit")
    screenshot(page, "labeling_1024x700_classes.png")


def test_status_marking_progress_and_filter(app_server, page):
    page.select_option("#image-status", "done")
    page.wait_for_selector("#images li[data-name='scene.png'][data-status=done]", timeout=10000)
    _, _, body = api(app_server, "/api/images")
    listing = json.loads(body)
    assert {i["name"]: i["status"] for i in listing["images"]} == {"scene.png": "done", "second.png": "unlabelled"}
    assert page.locator("#progress-text").text_content().startswith("1 / 2 done")
    assert page.evaluate("() => document.getElementById('progress-bar').style.width") == "50%"
    screenshot(page, "labeling_status_done.png")

    page.keyboard.press("ArrowRight")  # keys work again after the status menu
    page.wait_for_function("() => window.pixelseg.state.current.name === 'second.png'", timeout=10000)
    page.select_option("#status-filter", "done")
    assert page.locator("#images li").all_text_contents() == ["scene.png", "second.png"]  # the open one stays
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.pixelseg.state.current.name === 'scene.png'", timeout=10000)
    assert page.locator("#images li").all_text_contents() == ["scene.png"]
    page.select_option("#image-status", "reviewed")
    page.wait_for_selector("#images li[data-name='scene.png'][data-status=reviewed]", timeout=10000)
    page.select_option("#status-filter", "unfinished")
    assert page.locator("#images li").all_text_contents() == ["scene.png", "second.png"]
    page.select_option("#status-filter", "")
    screenshot(page, "labeling_status_reviewed.png")
    _, _, body = api(app_server, "/api/images")
    assert json.loads(body)["counts"] == {"unlabelled": 1, "in_progress": 0, "done": 0, "reviewed": 1}


def _grey(value):
    return np.full((H, W, 3), value, np.uint8)


RANKED = {
    "images": {"dark.png": _grey(0), "grey.png": _grey(128), "mid.png": _grey(110)},
    "model": lambda folder: save_brightness_net(folder / "net.pt"),
    "open": "dark.png",
}


@pytest.mark.usefixtures("_register_brightness_net")
@pytest.mark.parametrize("app_server", [RANKED], indirect=True)
@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 700}])
def test_label_next_opens_the_most_uncertain_image(app_server, page):
    assert page.evaluate("() => window.pixelseg.state.current.name") == "dark.png"
    page.click("#label-next")
    page.wait_for_function("() => window.pixelseg.state.current.name === 'grey.png'", timeout=60000)
    page.select_option("#sort", "uncertainty")
    page.wait_for_function("() => document.getElementById('rank-status').textContent.startsWith('3 ranked')")
    names = page.locator("#images li").evaluate_all("items => items.map((li) => li.dataset.name)")
    assert names == ["grey.png", "mid.png", "dark.png"]
    assert page.locator("#images li .score").first.text_content() == "1.00"
    screenshot(page, "labeling_label_next_grey.png")
    page.select_option("#image-status", "done")
    page.wait_for_selector("#images li[data-name='grey.png'][data-status=done]", timeout=10000)
    page.click("#label-next")
    page.wait_for_function("() => window.pixelseg.state.current.name === 'mid.png'", timeout=60000)
    screenshot(page, "labeling_label_next_mid.png")


@pytest.mark.usefixtures("_register_brightness_net")
@pytest.mark.parametrize("app_server", [{**RANKED, "open": "mid.png"}], indirect=True)
@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 700}])
def test_prelabel_fill_unlabelled_threshold_and_cancel(app_server, page):
    values = "() => Array.from(new Set(window.pixelseg.state.current.map.data)).sort((a, b) => a - b)"
    page.uncheck("#autosave")
    x0, y0 = canvas_origin(page)
    page.keyboard.press("3")  # car (2): a stroke the pre-label must keep
    set_range(page, "#brush-size", 9)
    stroke(page, x0, y0, [(20.5, 30.5), (60.5, 30.5)])
    page.click("#prelabel-section summary")
    page.select_option("#prelabel-mode", "fill")
    page.click("#prelabel")
    page.wait_for_function("() => document.getElementById('prelabel-status').textContent.startsWith('pre-labelled')",
                           timeout=30000)
    assert page.evaluate(values) == [0, 2]  # mid grey is class 0 for the network; the stroke stays
    assert page.evaluate("() => window.pixelseg.state.current.map.data[30 * 160 + 40]") == 2
    screenshot(page, "labeling_prelabel_fill.png")

    # replace, with a minimum score above the network's 0.94: everything unsure, all void
    page.select_option("#prelabel-mode", "replace")
    page.fill("#prelabel-threshold", "0.99")
    page.click("#prelabel")
    page.wait_for_function("() => document.getElementById('prelabel-status').textContent.startsWith('pre-labelled')",
                           timeout=30000)
    assert page.evaluate(values) == [255]
    page.keyboard.press("Control+z")
    assert page.evaluate(values) == [0, 2]

    # cancel: the request is held back, the spinner shows, Cancel stops waiting, nothing changes
    held = []
    page.route("**/prelabel**", lambda route: held.append(route))
    page.fill("#prelabel-threshold", "0")
    page.click("#prelabel")
    page.wait_for_selector("#prelabel-status.busy")
    assert page.locator("#prelabel-status").text_content() == "pre-labelling\u2026"
    screenshot(page, "labeling_prelabel_busy.png")
    page.click("#prelabel-cancel")
    page.wait_for_function("() => document.getElementById('prelabel-status').textContent === 'cancelled'")
    assert page.is_hidden("#prelabel-cancel") and page.is_enabled("#prelabel")
    assert page.evaluate(values) == [0, 2]
    assert held
    page.unroute("**/prelabel**")


def _dark_left_grey_right():
    image = _grey(0)
    image[:, W // 2 :] = 128  # the brightness network: sure (score 1) left, unsure (1/3 each) right
    return image


HALF_UNSURE = {
    "images": {"scene.png": _dark_left_grey_right(), "second.png": _dark_left_grey_right()},
    "model": lambda folder: save_brightness_net(folder / "net.pt"),
}


def view_pixels(page, x, y, w, h):
    """RGBA h x w x 4 of the visible canvas at image pixel (x, y) (1:1 zoom, image at the origin), drawn now."""
    values = page.evaluate(
        "([x, y, w, h]) => { const v = window.pixelseg.view; v.draw();"
        " return Array.from(v.ctx.getImageData(x, y, w, h).data); }", [x, y, w, h])
    return np.array(values, np.uint8).reshape(h, w, 4)


@pytest.mark.usefixtures("_register_brightness_net")
@pytest.mark.parametrize("app_server", [HALF_UNSURE], indirect=True)
def test_prelabel_hatches_the_unsure_pixels_until_labelled(app_server, page):
    hatch = "([x, y]) => window.pixelseg.state.current.hatch.alphaAt(x, y)"
    page.uncheck("#autosave")
    x0, y0 = canvas_origin(page)
    page.click("#prelabel-section summary")
    assert page.is_checked("#prelabel-hatch")
    page.fill("#prelabel-threshold", "0.5")
    page.click("#prelabel")
    page.wait_for_function("() => document.getElementById('prelabel-status').textContent.startsWith('pre-labelled')",
                           timeout=30000)
    assert page.locator("#prelabel-status").text_content().endswith(f"; {H * W // 2} unsure pixels hatched")
    assert page.evaluate("() => window.pixelseg.state.current.map.data[60 * 160 + 20]") == 0  # sure: class 0
    assert page.evaluate(hatch, [20, 60]) == 0 and page.evaluate(hatch, [120, 60]) == 255
    assert page.evaluate("() => window.pixelseg.state.current.hatch.count()") == H * W // 2

    # the hatch is drawn on the unsure half only, and the panel's checkbox hides it
    sure, unsure = view_pixels(page, 10, 40, 40, 40), view_pixels(page, 100, 40, 40, 40)
    page.uncheck("#prelabel-hatch")
    assert (view_pixels(page, 10, 40, 40, 40) == sure).all()
    plain = view_pixels(page, 100, 40, 40, 40)
    assert (plain == plain[0, 0]).all() and (unsure != plain).any(axis=-1).mean() > 0.2
    page.check("#prelabel-hatch")

    # painting a class over unsure pixels clears their hatch; undo brings it back
    page.keyboard.press("3")  # car (2)
    set_range(page, "#brush-size", 9)
    stroke(page, x0, y0, [(110.5, 60.5), (130.5, 60.5)])
    assert page.evaluate("() => window.pixelseg.state.current.map.data[60 * 160 + 120]") == 2
    assert page.evaluate(hatch, [120, 60]) == 0 and page.evaluate(hatch, [150, 60]) == 255
    page.click("#fit")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#stage").screenshot(path=str(ARTIFACTS / "labeling_prelabel_hatch_stage.png"))
    screenshot(page, "labeling_prelabel_hatch.png")
    page.keyboard.press("Control+z")
    assert page.evaluate(hatch, [120, 60]) == 255
    page.keyboard.press("Control+z")  # undoing the pre-label hides the hatch, redoing shows it
    assert page.evaluate(hatch, [150, 60]) == 0
    page.keyboard.press("Control+y")
    assert page.evaluate(hatch, [150, 60]) == 255

    # another image: no hatch
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => window.pixelseg.state.current.name === 'second.png'", timeout=10000)
    assert page.evaluate("() => window.pixelseg.state.current.hatch") is None
