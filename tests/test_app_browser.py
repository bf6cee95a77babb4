"""The what-if page in a real browser: headless Chromium, driven by selenium, against `covsim app`.

The test starts `covsim app` on a free localhost port, changes the team on the
page, runs a comparison of two policies with 3 replications on the small
scenario, and checks that every number shown is the number `covsim compare`
prints for the same settings and seeds (the scenario file the page downloads,
the same policies, replications and seed). Bad input is shown beside its
field, in the command line's words, and runs nothing.

Chromium and its driver are Debian's packages (``chromium``,
``chromium-driver``): when ``chromedriver`` is missing and the test runs as
root, it installs them (``.ci/install-chromium``); otherwise it is skipped with
the command to run. With ``COVSIM_SCREENSHOTS=DIR`` the page's main states are
saved there as PNG files (the README's are in docs/figures/).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SMALL, ctrl_c_as_at_a_terminal

pytest.importorskip("dash", reason="the what-if page needs the app extra (pip install '.[app]')")
webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium (the dev extra)")

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait as _WebDriverWait  # noqa: E402


def WebDriverWait(driver: object, timeout: float, **options: object) -> _WebDriverWait:
    """Selenium's wait, which also waits through an element the page redraws between its finding and its
    reading (a StaleElementReferenceException had failed a CI run while a result's summary was redrawn)."""
    return _WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,), **options)


INSTALL = ROOT / ".ci" / "install-chromium"
POLICIES = ("unstructured", "segment_tiers")
MINE = "examples.nearest_rep:NearestRep"  # a user's policy, as docs/app.md adds it
SCREENSHOTS = os.environ.get("COVSIM_SCREENSHOTS")


def chromedriver() -> str:
    """The path of chromedriver, installing Debian's chromium and chromium-driver first when it is missing."""
    found = shutil.which("chromedriver")
    if found is None and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run([str(INSTALL)], check=True, timeout=1200)
        found = shutil.which("chromedriver")
    if found is None:
        pytest.skip(
            f"no chromedriver: run {INSTALL.relative_to(ROOT)} as root (apt-get install chromium chromium-driver)"
        )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def page() -> Iterator[str]:
    """`covsim app scenarios/small.toml` on a free localhost port, with 2 warm workers: the page's address."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "app", "scenarios/small.toml", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        preexec_fn=ctrl_c_as_at_a_terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    address = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(address, timeout=2) as r:
                assert r.status == 200
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"covsim app did not start: {server.communicate()[0]}")
            time.sleep(0.2)
    yield address
    server.send_signal(signal.SIGINT)  # Ctrl-C: the server stops and its workers with it
    try:
        output, _ = server.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        output, _ = server.communicate()
    assert server.returncode == 0, output
    assert output.splitlines()[-1] == "covsim what-if page: stopped"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service(chromedriver()), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def find(driver: webdriver.Chrome, id_: str) -> WebElement:
    """The element of id ``id_``; a pattern-matching id (JSON, with quotes a CSS selector cannot hold) by XPath."""
    return (
        driver.find_element(By.XPATH, f"//*[@id='{id_}']") if id_.startswith("{") else driver.find_element(By.ID, id_)
    )


#: Whether Dash's renderer has loaded and has no callback in flight (as dash.testing's own wait reads its store).
SETTLED = """
const store = window.store;
if (!store) { return false; }
const callbacks = Object.assign({}, store.getState().callbacks);
delete callbacks.stored;
delete callbacks.completed;
return [].concat(...Object.values(callbacks)).length === 0;
"""


def settled(driver: webdriver.Chrome, seconds: float = 30) -> None:
    """Wait until a page just loaded is live: a click on an element drawn before Dash had wired its callbacks
    was lost (under load, the reloaded page's Cancel stopped nothing)."""
    WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: d.execute_script(SETTLED))


def by_id(driver: webdriver.Chrome, id_: str, seconds: float = 20) -> WebElement:
    return WebDriverWait(driver, seconds).until(lambda d: find(d, id_))


def pattern_id(**parts: object) -> str:
    """The DOM id Dash gives a pattern-matching id: its JSON with sorted keys and no spaces."""
    inner = ",".join(f'"{k}":{v}' if isinstance(v, int) else f'"{k}":"{v}"' for k, v in sorted(parts.items()))
    return "{" + inner + "}"


def type_into(field: WebElement, text: str) -> None:
    """Replace what a field holds, as a person does (select all, type)."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)


def field_error(driver: webdriver.Chrome, key: str) -> str:
    return find(driver, pattern_id(field=key, type="error")).text


def shot(driver: webdriver.Chrome, name: str) -> None:
    """Save what the page shows as ``app-<name>.png`` in the folder ``COVSIM_SCREENSHOTS`` names, if any."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(SCREENSHOTS) / f"app-{name}.png"))


def wait_for_file(folder: Path, suffix: str, seconds: float = 20) -> Path:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} file was downloaded into {folder}")


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_the_page_compares_two_policies_with_the_numbers_of_covsim_compare(page, browser, downloads, tmp_path):
    browser.get(page)
    assert by_id(browser, "scenario-summary").text.startswith("scenarios/small.toml: small, 5,000 accounts")
    shot(browser, "start")
    # a parameter: one more full-cycle seat (reps.0.count 2 -> 3), and 3 replications
    type_into(by_id(browser, pattern_id(index=0, type="count")), "3")
    type_into(by_id(browser, "replications"), "3")
    assert [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "#policies input:checked")] == [
        *POLICIES
    ]
    by_id(browser, "run").click()
    # the page answers while it runs: the progress line moves, then says done
    WebDriverWait(browser, 60, poll_frequency=0.05).until(lambda d: d.find_element(By.ID, "progress-text").text)
    shot(browser, "running")
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done: 6 runs"))
    answer = by_id(browser, "answer").text
    # what was run, under the answer: the team the page set, the horizon and the shocks
    summary = by_id(browser, "run-summary").text
    assert summary.startswith("2 policies x 3 replications on small-") and "(5,000 accounts, 6 seats, " in summary
    assert "shocks: none), root seed 7, in " in summary
    # each row's first cell: the metric and, under it, its unit
    named = [
        (row.find_elements(By.TAG_NAME, "td")[0].text.split("\n"), [c.text for c in row.find_elements(By.CSS_SELECTOR, "td.value")])
        for row in browser.find_elements(By.CSS_SELECTOR, "#headline tbody tr")
    ]  # fmt: skip
    headline = {name: cells for (name, _), cells in named}
    units = {name: unit for (name, unit), _ in named}
    assert units["profit"] == "currency units" and units["miss_rate"] == "share"
    # one line between neighbouring cells, not two: a cell draws its right and bottom lines, the first column
    # its left, the table its top
    cells = browser.find_elements(By.CSS_SELECTOR, "#headline tr > *")
    widths = {(c.value_of_css_property(f"border-{side}-width"), side) for c in cells for side in ("right", "bottom")}
    assert widths == {("1px", "right"), ("1px", "bottom")}
    assert {c.value_of_css_property("border-top-width") for c in cells} == {"0px"}
    first = browser.find_elements(By.CSS_SELECTOR, "#headline tr > :first-child")
    assert {c.value_of_css_property("border-left-width") for c in first} == {"1px"}
    assert {c.value_of_css_property("border-left-width") for c in cells if c not in first} == {"0px"}
    assert by_id(browser, "headline").value_of_css_property("border-top-width") == "1px"
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-lorenz .main-svg"))
    shot(browser, "results")
    if SCREENSHOTS:
        browser.execute_script("arguments[0].scrollIntoView()", find(browser, "chart-misses"))
        time.sleep(0.5)
        shot(browser, "charts")

    # the configured scenario, downloaded from the page: small with 3 full-cycle seats
    by_id(browser, "download-scenario-button").click()
    configured = wait_for_file(downloads, ".toml")
    assert "count = 3" in configured.read_text(encoding="utf-8")
    # the same comparison from the command line, on that file: the same answer and the same table
    out = tmp_path / "compare"
    args = ["compare", str(configured), *[a for p in POLICIES for a in ("--policy", p)], "--replications", "3"]
    r = cli(*args, "--executor", "serial", "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # the page's answer: its first line, then each finding an item of a list, as the terminal prints them
    first, *findings = answer.split("\n")
    assert first.startswith("Answer: on profit (higher is better), ") and findings
    assert "\n".join([first, *(f"  - {f}" for f in findings)]) in r.stdout
    assert [li.text for li in by_id(browser, "answer").find_elements(By.TAG_NAME, "li")] == findings
    assert len(headline) == 12
    for metric, cells in headline.items():
        assert f"{metric:<26}" + "".join(f"{c:>30}" for c in cells[:2]) in lines, metric
        assert f"{metric:<26}" + f"{cells[2]:>40}" in lines, metric
    # and the tidy results CSV, byte for byte as compare's results.csv
    by_id(browser, "download-results-button").click()
    results = wait_for_file(downloads, ".csv")
    assert results.read_text(encoding="utf-8") == (out / "results.csv").read_text(encoding="utf-8")


def test_bad_input_is_shown_beside_its_field_in_the_command_lines_words_and_runs_nothing(page, browser, tmp_path):
    browser.get(page)
    by_id(browser, pattern_id(index=0, type="count"))
    type_into(by_id(browser, pattern_id(index=0, type="count")), "-1")
    type_into(by_id(browser, "replications"), "0")
    by_id(browser, "run").click()
    WebDriverWait(browser, 20).until(lambda d: field_error(d, "team-0"))
    # the line `covsim validate` prints for a file with count = -1, without its "error: "
    bad = tmp_path / "scenarios" / "small.toml"
    bad.parent.mkdir()
    bad.write_text(SMALL.read_text(encoding="utf-8").replace("count = 2", "count = -1", 1), encoding="utf-8")
    expected = cli("validate", "scenarios/small.toml", cwd=tmp_path).stderr.splitlines()
    assert expected == [
        "error: scenarios/small.toml: reps.0.count: Input should be greater than or equal to 0, not -1 (in the block "
        'of "full_cycle" seats)'
    ]
    # beside the field, the field's word in place of the file's key
    assert field_error(browser, "team-0") == "seats: Input should be greater than or equal to 0, not -1"
    assert field_error(browser, "replications") == "replications: 0 is not a whole number from 1 to 100"
    assert by_id(browser, "run-problems").text.startswith("nothing ran: 2 problems are shown in red")
    browser.execute_script("arguments[0].scrollIntoView()", find(browser, "team"))
    shot(browser, "bad-input")
    time.sleep(0.5)
    assert by_id(browser, "progress-text").text == ""  # nothing ran
    # a field mended loses its line at once, not at the next Run; the line under the buttons counts those left
    type_into(by_id(browser, pattern_id(index=0, type="count")), "2")
    WebDriverWait(browser, 20).until(lambda d: field_error(d, "team-0") == "")
    assert by_id(browser, "run-problems").text.startswith("nothing ran: a problem is shown in red beside its field")

    # an uploaded file that is not a valid scenario: its problems beside the upload, and the scenario loaded before
    # stays loaded, said so (an analyst's bad upload had emptied the page of the good one)
    upload = tmp_path / "bad.toml"
    text = SMALL.read_text(encoding="utf-8").replace("customers = 5000", 'customers = "5000"')
    upload.write_text(text + "\n[metrics]\nlow_value = 0.3\n", encoding="utf-8")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(upload))
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "scenario-error").text)
    expected = cli("validate", "bad.toml", cwd=tmp_path).stderr.splitlines()
    shown = by_id(browser, "scenario-error").text.splitlines()
    assert [f"error: {line}" for line in shown[:-1]] == expected and len(expected) == 2
    assert shown[-1] == "The upload was not loaded: scenarios/small.toml still is."
    assert by_id(browser, "scenario-summary").text.startswith("scenarios/small.toml: small, 5,000 accounts")
    assert field_error(browser, "replications") == "replications: 0 is not a whole number from 1 to 100"
    # a CRM export picked in its place is named for what it is, not dropped without a word
    export = tmp_path / "accounts.csv"
    export.write_text("account,revenue\nAcme,1200\n", encoding="utf-8")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(export))
    WebDriverWait(browser, 20).until(lambda d: "accounts.csv" in d.find_element(By.ID, "scenario-error").text)
    assert by_id(browser, "scenario-error").text.startswith("accounts.csv: not a scenario file (.toml)")
    # a valid file (one `covsim calibrate` wrote would do as well) replaces it, and the errors go
    mine = tmp_path / "mine.toml"
    mine.write_text(SMALL.read_text(encoding="utf-8").replace("customers = 5000", "customers = 3000"), encoding="utf-8")
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(mine))
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "scenario-summary").text.startswith("mine.toml"))
    assert by_id(browser, "scenario-summary").text.startswith("mine.toml: small, 3,000 accounts, 5 seats in the file")
    assert by_id(browser, "scenario-error").text == ""
    # the replications, still 0, keep their line, and the line under the buttons that counts it
    still = "nothing ran: a problem is shown in red beside its field on the left"
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "run-problems").text == still)
    assert field_error(browser, "replications") == "replications: 0 is not a whole number from 1 to 100"
    # the same content again, after another scenario, loads again (Dash had seen no change and done nothing)
    browser.find_element(By.CSS_SELECTOR, "#scenario-choice input[value='scenarios/small.toml']").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "scenario-summary").text.startswith("scenarios/"))
    again = tmp_path / "mine-again.toml"
    again.write_bytes(mine.read_bytes())
    browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(again))
    WebDriverWait(browser, 20).until(
        lambda d: d.find_element(By.ID, "scenario-summary").text.startswith("mine-again.toml: small, 3,000 accounts")
    )

    # a policy of the user's, added by its import path: a bad path is refused beside the field in the line
    # `policy_class` raises, and adds nothing; a good one is offered, ticked, with its parameters, and runs
    type_into(by_id(browser, "policy-path"), "nowhere:Mine")
    by_id(browser, "add-policy").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "add-policy-error").text)
    assert by_id(browser, "add-policy-error").text == (
        "policy.name: cannot import 'nowhere': No module named 'nowhere' (covsim looks on the Python path, then in the "
        "folder it runs in)"
    )
    assert len(browser.find_elements(By.CSS_SELECTOR, "#policies input")) == 9  # the built-ins only
    type_into(by_id(browser, "policy-path"), MINE)
    by_id(browser, "add-policy").click()
    block = by_id(browser, pattern_id(policy=MINE, type="params"))  # its parameters, folded as a built-in's are
    WebDriverWait(browser, 20).until(lambda d: block.is_displayed())
    block.click()
    assert find(browser, pattern_id(name="cadence", policy=MINE, type="param")).get_attribute("value") == "1"
    assert by_id(browser, "add-policy-error").text == ""
    ticked = [e.get_attribute("value") for e in browser.find_elements(By.CSS_SELECTOR, "#policies input:checked")]
    assert ticked == [*POLICIES, MINE]
    type_into(by_id(browser, "replications"), "1")
    by_id(browser, "run").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done: 3 runs"))
    head = WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#headline thead th"))
    assert [th.text for th in head][1:4] == ["unstructured", "segment_tiers", "nearest_rep"]


def test_a_page_reloaded_while_its_comparison_runs_can_follow_and_cancel_it(page, browser):
    # Before, the reloaded page only said "already running" and its Cancel stopped nothing: the page was
    # locked until the abandoned comparison ended.
    from sim.app.layout import FOLLOWED_NOTE

    def start(replications: str) -> None:
        type_into(by_id(browser, "replications"), replications)
        by_id(browser, "run").click()
        WebDriverWait(browser, 30, poll_frequency=0.05).until(
            lambda d: d.find_element(By.ID, "progress-text").text.startswith("running:")
        )

    browser.get(page)
    settled(browser)
    start("100")
    browser.refresh()
    settled(browser)
    by_id(browser, "cancel").click()  # the reloaded page's Cancel stops the comparison it no longer knows
    start("3")  # so a new one starts at once (not "already running")
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done"))
    start("100")
    browser.refresh()
    settled(browser)
    by_id(browser, "run").click()  # the reloaded page follows the running one, and says it is not the form's
    WebDriverWait(browser, 20).until(lambda d: "following it" in d.find_element(By.ID, "run-problems").text)
    WebDriverWait(browser, 120).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done"))
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "stale").text == FOLLOWED_NOTE)
    assert by_id(browser, "run-problems").text == ""
    assert "100 replications" in by_id(browser, "run-summary").text
    # Run pressed twice, then Cancel: "already running: following it" goes with the comparison (it had stayed
    # under the buttons beside "cancelled").
    type_into(by_id(browser, "seed"), "424242")  # runs no earlier comparison stored, so it is still running
    start("100")
    by_id(browser, "run").click()
    WebDriverWait(browser, 20).until(lambda d: "already running" in d.find_element(By.ID, "run-problems").text)
    by_id(browser, "cancel").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("cancelled"))
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "run-problems").text == "")


def test_results_from_other_settings_than_the_form_s_are_marked(page, browser):
    from sim.app.layout import STALE_NOTE

    browser.get(page)
    type_into(by_id(browser, "replications"), "3")
    by_id(browser, "run").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done: 6 runs"))
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "answer"))
    assert by_id(browser, "stale").text == ""
    # a table wider than its panel scrolls on its own, its metric column held in place
    headline = by_id(browser, "headline")
    assert headline.find_element(By.XPATH, "..").value_of_css_property("overflow-x") == "auto"
    assert headline.find_element(By.CSS_SELECTOR, "tbody td").value_of_css_property("position") == "sticky"
    type_into(by_id(browser, "replications"), "4")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "stale").text == STALE_NOTE)
    assert by_id(browser, "results").value_of_css_property("opacity") == "0.45"
    type_into(by_id(browser, "replications"), "3")  # put back: the results are the form's again, not dimmed
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "stale").text == "")
    assert by_id(browser, "results").value_of_css_property("opacity") == "1"
    type_into(by_id(browser, "replications"), "4")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "stale").text == STALE_NOTE)
    by_id(browser, "run").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done: 8 runs"))
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "stale").text == "")
    assert by_id(browser, "results").value_of_css_property("opacity") == "1"
    # a setting changed while the comparison runs: its results come marked as not the form's
    type_into(by_id(browser, "replications"), "60")
    by_id(browser, "run").click()
    WebDriverWait(browser, 30, poll_frequency=0.05).until(
        lambda d: d.find_element(By.ID, "progress-text").text.startswith("running:")
    )
    type_into(by_id(browser, "replications"), "7")
    WebDriverWait(browser, 120).until(lambda d: d.find_element(By.ID, "progress-text").text.startswith("done: 120"))
    WebDriverWait(browser, 20).until(lambda d: "60 replications" in d.find_element(By.ID, "run-summary").text)
    assert by_id(browser, "stale").text == STALE_NOTE


def test_a_scenario_s_own_policy_fields_hold_its_file_s_params_and_the_others_their_defaults(page, browser):
    from sim.policies import policy_class

    default = policy_class("hunter_farmer").parameters()["hunter_share"].default
    share = pattern_id(name="hunter_share", policy="hunter_farmer", type="param")
    browser.get(page)
    assert float(by_id(browser, share).get_attribute("value")) == pytest.approx(default)
    browser.find_element(By.CSS_SELECTOR, "#policies input[value='hunter_farmer']").click()
    find(browser, pattern_id(policy="hunter_farmer", type="params")).find_element(By.TAG_NAME, "summary").click()
    type_into(by_id(browser, pattern_id(name="hunter_accounts", policy="hunter_farmer", type="param")), "7")
    # hunter_vs_farmer.toml's policy is hunter_farmer with hunter_share = 0.3333: the page starts it there, as
    # `covsim compare` does, and every field the file does not set goes back to its default
    browser.find_element(By.CSS_SELECTOR, "#scenario-choice input[value='scenarios/hunter_vs_farmer.toml']").click()
    WebDriverWait(browser, 20).until(lambda d: find(d, share).get_attribute("value") == "0.3333")
    accounts = find(browser, pattern_id(name="hunter_accounts", policy="hunter_farmer", type="param"))
    assert accounts.get_attribute("value") == str(policy_class("hunter_farmer").parameters()["hunter_accounts"].default)
    # small.toml's policy is another: the field is the policy's default again
    browser.find_element(By.CSS_SELECTOR, "#scenario-choice input[value='scenarios/small.toml']").click()
    WebDriverWait(browser, 20).until(lambda d: float(find(d, share).get_attribute("value")) == pytest.approx(default))
