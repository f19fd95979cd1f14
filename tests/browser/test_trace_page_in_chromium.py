"""The trace page in a real browser: Debian's chromium, driven by selenium through chromium-driver, headless.

It renders without console errors, draws one timeline column per recorded pass, and hovering a mark shows
its text. tox runs this folder in the py311 env only: the page does not depend on the Python that wrote it
(the data it draws is tested in every env by tests/unit/test_trace_model.py), and a browser per env would
cost six chromium starts on CI's two cores.
"""
from __future__ import annotations

import importlib.util
import shutil
import socket
from pathlib import Path

import pytest

import modern.loop
from workbench.trace_model import TraceRecorder
from workbench.trace_page import render_page

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = ROOT / "tests" / "unit" / "data" / "trace" / "timers_and_sockets.py"
CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
INSTALL_HINT = ("install Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver, as "
                ".ci/apt-packages does) and selenium (pip install -e '.[test]')")
#: Seconds to wait for the browser to show something; a bound, never a sleep.
WAIT = 15
#: Chromium as root, with no network of its own: no sandbox, no GPU, none of its background fetches.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def trace():
    spec = importlib.util.spec_from_file_location("timers_and_sockets", PROGRAM)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    loop = modern.loop.new_event_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    recorder = TraceRecorder(loop, title="timers and sockets", source_path=str(PROGRAM))
    try:
        loop.set_trace(recorder)
        loop.run_until_complete(program.main(loop, a, b))
        loop.set_trace(None)
    finally:
        loop.close()
        a.close()
        b.close()
    return recorder.trace()


@pytest.fixture(scope="module")
def browser(require, tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    require(webdriver is not None and CHROMIUM is not None and CHROMEDRIVER is not None,
            "chromium, chromium-driver and selenium", INSTALL_HINT)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def page(browser, trace, tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "trace.html"
    path.write_text(render_page(trace), encoding="utf-8")
    browser.get(path.as_uri())
    return browser


def test_the_page_renders_without_console_errors(page):
    from selenium.webdriver.common.by import By

    errors = [entry for entry in page.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    assert page.find_element(By.ID, "detail").text.startswith("pass "), "the script ran and chose a pass"


def test_one_timeline_column_per_recorded_pass(page, trace):
    from selenium.webdriver.common.by import By

    columns = page.find_elements(By.CSS_SELECTOR, "svg rect.col")
    assert len(trace.passes) >= 6
    assert [int(column.get_attribute("data-pass")) for column in columns] == list(range(1, len(trace.passes) + 1))
    assert all(column.size["width"] >= 10 and column.size["height"] > 50 for column in columns)


def test_hovering_a_mark_shows_its_text(page, trace):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    tip = page.find_element(By.ID, "tip")
    assert not tip.is_displayed()
    timer = page.find_element(By.CSS_SELECTOR, "svg rect.mark.due")
    ActionChains(page).move_to_element(timer).perform()
    WebDriverWait(page, WAIT).until(expected_conditions.visibility_of(tip))
    assert tip.text == timer.get_attribute("data-tip")
    assert tip.text.startswith("timer due: _set_result_unless_cancelled(") and "in main" in tip.text
    step = page.find_elements(By.CSS_SELECTOR, "svg rect.mark.step")[-1]
    ActionChains(page).move_to_element(step).perform()
    WebDriverWait(page, WAIT).until(lambda driver: tip.text == step.get_attribute("data-tip"))
    assert "step" in tip.text and "ran" in tip.text


def test_clicking_a_column_shows_that_pass_and_its_lines(page, trace):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    view = next(view for view in trace.passes if view.timers)
    # A column is mostly covered by its marks; clicking any of them chooses the pass too.
    page.find_element(By.CSS_SELECTOR, f'svg rect.mark.due[data-pass="{view.number}"]').click()
    detail = page.find_element(By.ID, "detail")
    WebDriverWait(page, WAIT).until(lambda driver: detail.text.startswith(f"pass {view.number}:"))
    highlighted = [int(line.get_attribute("id")[1:]) for line in page.find_elements(By.CSS_SELECTOR, "#source .hit")]
    assert highlighted == list(view.lines) and highlighted
