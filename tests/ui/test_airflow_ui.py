"""What a user sees in the Airflow UI after a run promoted a model: the Models view, the extra links, the run
note and a readable graph. A real api-server, a real browser; screenshots are saved to docs/screenshots/."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.ui.conftest import PromotedRun, screenshot, why_skipped

REASON = why_skipped()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.airflow,
    pytest.mark.integration,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=30_000)  # two shared cores: the UI can take a while to draw
    return playwright_expect


def test_ui_models_view_in_the_nav_answers_which_model_serves_and_why(page: Any, promoted_run: PromotedRun) -> None:
    page.goto("/plugin/models")
    frame = page.frame_locator("iframe")
    row = frame.locator("tr", has_text=promoted_run.data["name"])
    expect()(row).to_contain_text(promoted_run.version)
    expect()(row).to_contain_text("every rule passed")
    screenshot(page, "models-nav.png")
    frame.get_by_role("link", name=promoted_run.data["name"], exact=True).click()
    champion = frame.locator("#champion")
    expect()(champion).to_contain_text(f"Serving {promoted_run.version}")
    expect()(champion).to_contain_text("because: every rule passed")
    expect()(frame.get_by_role("heading", name=re.compile("Promotion and rollback history"))).to_be_visible()
    screenshot(page, "models-pipeline.png")


def test_ui_version_page_shows_verdict_plots_and_model_card(page: Any, promoted_run: PromotedRun) -> None:
    page.goto(f"/models/pipelines/{promoted_run.data['name']}/versions/{promoted_run.version}")
    expect()(page.locator("#verdict")).to_contain_text("promote")
    images = page.locator(".plots img")
    expect()(images).to_have_count(4)
    loaded = page.evaluate("() => [...document.querySelectorAll('.plots img')].every(i => i.naturalWidth > 100)")
    assert loaded, "a plot did not load"
    expect()(page.get_by_role("heading", name="Model card")).to_be_visible()
    screenshot(page, "models-version.png")


def test_ui_extra_link_from_the_publish_task_opens_the_version(page: Any, promoted_run: PromotedRun) -> None:
    run = quote(promoted_run.run_id, safe="")
    page.goto(f"/dags/{promoted_run.dag_id}/runs/{run}/tasks/publish/details")
    link = page.get_by_role("link", name="Published version")
    expect()(link).to_be_visible()
    screenshot(page, "extra-link.png")
    link.click()
    page.wait_for_url(re.compile(rf"/models/pipelines/{promoted_run.data['name']}/versions/{promoted_run.version}$"))
    expect()(page.locator("main > h1")).to_contain_text(promoted_run.version)


def test_ui_run_note_tells_the_verdict(page: Any, promoted_run: PromotedRun) -> None:
    run = quote(promoted_run.run_id, safe="")
    page.goto(f"/dags/{promoted_run.dag_id}/runs/{run}")
    expect()(page.get_by_text(re.compile(rf"PROMOTED {promoted_run.version}: candidate AP"))).to_be_visible()
    screenshot(page, "run-note.png")


def test_ui_graph_is_the_pipeline_order_without_alert_fan_in(page: Any, promoted_run: PromotedRun) -> None:
    run = quote(promoted_run.run_id, safe="")
    page.goto(f"/dags/{promoted_run.dag_id}/runs/{run}")
    page.get_by_role("button", name=re.compile(r"Show Graph")).click()
    expect()(page.locator(".react-flow__node", has_text="report")).to_be_visible()
    nodes, edges = page.locator(".react-flow__node").count(), page.locator(".react-flow__edge").count()
    screenshot(page, "graph.png")
    assert page.locator(".react-flow__node", has_text="alert_on_failure").count() == 0
    assert edges <= nodes + 2, f"{edges} edges between {nodes} tasks: the graph should read as the pipeline"


def test_ui_models_view_refuses_a_browser_without_login(browser: Any, promoted_run: PromotedRun) -> None:
    context = browser.new_context(base_url=promoted_run.base_url)
    try:
        response = context.new_page().goto(f"/models/pipelines/{promoted_run.data['name']}")
        assert response is not None
        assert response.status == 401
        assert promoted_run.version not in response.text()
    finally:
        context.close()
