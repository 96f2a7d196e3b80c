"""Workshop mode in Chromium: two learners name themselves and save a Playground run each; the
instructor, with the token, sees both names as active and on the leaderboard, and a broadcast
reaches a learner's open page without a reload."""

import pytest

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token-4821"


@pytest.fixture
def workshop_env(monkeypatch):
    """Set before fresh_app_url starts the server: it inherits the environment."""
    monkeypatch.setenv("NNPLAY_WORKSHOP", "1")
    monkeypatch.setenv("NNPLAY_INSTRUCTOR_TOKEN", TOKEN)
    monkeypatch.setenv("NNPLAY_GREEN", "0")


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def learner_saves_a_run(page, url: str, name: str, idle) -> None:
    page.goto(f"{url}/playground")
    idle(page, timeout_s=120)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_label("Your name for this workshop", exact=True).fill(name)
    sidebar.get_by_role("button", name="Use this name").click()
    sidebar.get_by_text(f"Workshop: you are {name}").wait_for()
    idle(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_role("button", name="Step one epoch").click()
    idle(page)
    main.get_by_role("button", name="Save to workspace").click()
    page.get_by_text("to Your models").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_the_instructor_sees_two_learners_and_reaches_them(workshop_env, fresh_app_url, browser,
                                                           idle):
    contexts = []
    try:
        learners = []
        for name in ("Ada", "Grace"):
            context, page = new_page(browser)
            contexts.append(context)
            learner_saves_a_run(page, fresh_app_url, name, idle)
            learners.append(page)
        context, teacher = new_page(browser)
        contexts.append(context)
        teacher.goto(f"{fresh_app_url}/instructor")
        idle(teacher, timeout_s=120)
        main = teacher.locator('[data-testid="stMain"]')
        main.get_by_label("Instructor token", exact=True).fill("not the token")
        main.get_by_role("button", name="Open the class").click()
        main.get_by_text("That is not the instructor token").wait_for()
        main.get_by_label("Instructor token", exact=True).fill(TOKEN)
        main.get_by_role("button", name="Open the class").click()
        main.get_by_text("Active learners: 2").wait_for()
        tables = main.locator('[data-testid="stTable"]')
        tables.nth(1).wait_for()
        for name in ("Ada", "Grace"):
            assert tables.nth(0).get_by_text(name, exact=True).count() == 1     # active
            assert tables.nth(1).get_by_text(name, exact=True).count() == 1     # leaderboard
        main.get_by_label("Message", exact=True).fill("Beat a test loss of 0.3 on the circle")
        main.get_by_label("Exercise link", exact=True).fill("playground?dataset=circle&noise=10")
        main.get_by_role("button", name="Send to the class").click()
        main.get_by_text("Sent: learners see it").wait_for()
        assert teacher.locator('[data-testid="stException"]').count() == 0
        ada = learners[0]     # her page is open since before the broadcast: no reload
        banner = ada.get_by_text("Beat a test loss of 0.3 on the circle").first
        banner.wait_for(timeout=30_000)
        link = ada.get_by_role("link", name="Open the exercise")
        assert link.get_attribute("href").endswith("/playground?dataset=circle&noise=10")
    finally:
        for context in contexts:
            context.close()
