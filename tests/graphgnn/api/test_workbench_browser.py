"""The workbench in a real headless Chromium (Debian's package) driven by Playwright.

Opens the queue, logs in with the server's token, opens a ring whose members share a card,
checks the card node is drawn, sets a verdict through the confirmation dialog and reads it back
from the store. Saves a screenshot of the ring view (``FRAUDRING_SCREENSHOT`` names the file;
``experiments/results/workbench_ring.png`` is made this way).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import chromium_path
from test_workbench import TOKEN, live  # noqa: F401 - the shared live-server fixture

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True,
                                    args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1500, "height": 1000})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.js_errors = errors
        yield page
        browser.close()


def test_queue_ring_card_verdict(page, live, tmp_path):  # noqa: F811 - fixture
    page.goto(live.url + "/")
    page.wait_for_selector("#login-form", state="visible")
    page.fill("#login-name", "ann")
    page.fill("#login-token", TOKEN)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#queue li[data-ring]")
    assert page.locator("#queue li[data-ring]").count() >= 3

    page.click(f"#queue li[data-ring='{live.card_ring}']")
    page.wait_for_function("window.wbGraph && window.wbGraph.nodes().length > 0")
    cards = page.evaluate("window.wbGraph.nodes('[kind = \"card\"]').map(n => n.id())")
    assert cards, "the ring's shared card is drawn"
    # drawn on screen: inside the canvas' box and visible
    box = page.evaluate("(() => { const n = window.wbGraph.nodes('[kind = \"card\"]')[0];"
                        " const p = n.renderedPosition(); return [p.x, p.y, n.visible()]; })()")
    size = page.locator("#graph").bounding_box()
    assert 0 <= box[0] <= size["width"] and 0 <= box[1] <= size["height"] and box[2]
    assert page.locator("#legend").inner_text().count("card") >= 1
    assert page.locator("#entities .kind.card").count() >= 1

    shot = Path(os.environ.get("FRAUDRING_SCREENSHOT") or tmp_path / "workbench_ring.png")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 20_000

    user = page.locator("#members tr.member").first.get_attribute("data-user")
    page.locator(f"#members tr[data-user='{user}'] button[data-verdict='fraud']").click()
    page.wait_for_selector("#confirm[open]")
    page.fill("#confirm-note", "shares the card with the ring")
    page.click("#confirm-ok")
    page.wait_for_selector(f"#members tr[data-user='{user}'] button.active[data-verdict='fraud']")
    [row] = live.store.read("MATCH (u:User {user_id: $id}) RETURN u.verdict AS v, "
                            "u.verdict_by AS by, u.verdict_note AS note", {"id": user})
    assert row == {"v": "fraud", "by": "ann", "note": "shares the card with the ring"}

    # cancelling the dialog writes nothing
    page.locator(f"#members tr[data-user='{user}'] button[data-verdict='legit']").click()
    page.wait_for_selector("#confirm[open]")
    page.click("#confirm button[value=cancel]")
    assert live.store.read("MATCH (u:User {user_id: $id}) RETURN u.verdict AS v",
                           {"id": user}) == [{"v": "fraud"}]
    assert page.js_errors == []
