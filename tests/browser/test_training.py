"""Training in headless Chromium: a department person (the demo's 刘芳) takes the practice
exam, every answer is saved as she goes (a reload loses nothing), she hands in and sees her
score, then opens the wrong-answer book; and a video watched to the end is recorded by the
player's ``ended`` event. Screenshots go to artifacts/screenshots/training-*.png."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

# See tests/browser/test_roles.py: Playwright's loop makes Django refuse ORM calls here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from playwright.sync_api import Browser, Page, expect

from sizhen.training.models import Attempt, Material, MaterialProgress, WrongAnswer
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def logins(transactional_db: Any) -> dict[str, str]:
    out = io.StringIO()
    call_command("demo", "--if-empty", "--logins-json", stdout=out)
    return {entry["username"]: entry["password"] for entry in json.loads(out.getvalue())}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    yield new_page
    context.close()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"training-{name}.png"), full_page=True)


def test_a_department_person_takes_an_exam_and_reviews_the_wrong_answer_book(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    base = live_server.url
    log_in(page, base, "resp_dept", logins["resp_dept"])
    page.goto(f"{base}/training/exams/")
    page.get_by_test_id("open-exams").get_by_role("link", name="营商环境政策练习测验").click()
    page.get_by_test_id("start").click()
    attempt = Attempt.objects.get(user__username="resp_dept", exam__title="营商环境政策练习测验")
    expect(page).to_have_url(f"{base}/training/exams/attempts/{attempt.pk}/")
    expect(page.get_by_test_id("countdown")).to_contain_text("分")

    answers = list(attempt.answers.order_by("position"))
    assert len(answers) == 10
    for answer in answers:
        section = page.get_by_test_id(f"question-{answer.position}")
        if answer.snapshot["kind"] == "fill":
            field = section.locator("input[type=text]")
            field.fill("一网通办")
            field.press("Tab")  # the change event
        else:
            section.locator("input").first.check()
        expect(section.locator(f'[data-saved="{answer.position}"]')).to_contain_text("已保存")
    shot(page, "exam-answered")
    # Every answer is on the server already: a reload (a dropped connection) loses nothing.
    saved = {a.position: a.response for a in attempt.answers.all()}
    assert all(saved.values()) and len(saved) == 10
    page.reload()
    for answer in answers:
        if answer.snapshot["kind"] != "fill":
            expect(
                page.get_by_test_id(f"question-{answer.position}").locator("input").first
            ).to_be_checked()

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("status")).to_have_text("已交卷")
    attempt.refresh_from_db()
    assert attempt.status == "submitted" and attempt.percent is not None
    expect(page.get_by_test_id("score")).to_contain_text(f"百分制 {attempt.percent}")
    expect(page.locator(".messages")).to_contain_text("已交卷：得分")
    shot(page, "exam-result")

    page.get_by_test_id("to-wrong-book").click()
    expect(page).to_have_url(f"{base}/training/wrong/")
    wrong = WrongAnswer.objects.filter(user__username="resp_dept", mastered_at__isnull=True)
    assert wrong.exists()
    entry = wrong.select_related("question").order_by("-last_wrong_at", "-pk").first()
    assert entry is not None
    card = page.get_by_test_id(f"wrong-{entry.question.pk}")
    expect(card).to_contain_text(entry.question.stem)
    expect(card.get_by_test_id("right-answer")).not_to_be_empty()
    shot(page, "wrong-book")


def test_a_video_watched_to_the_end_is_recorded(
    page: Page, live_server: Any, logins: dict[str, str]
) -> None:
    base = live_server.url
    video = Material.objects.get(kind="video")
    log_in(page, base, "resp_city", logins["resp_city"])
    page.goto(f"{base}/training/materials/{video.pk}/")
    player = page.get_by_test_id("player")
    expect(player).to_be_visible()
    # Play it quickly and silently; the page's script posts "watched" on the ended event.
    player.evaluate("v => { v.muted = true; v.playbackRate = 4; return v.play(); }")
    expect(page.get_by_test_id("progress-status")).to_have_text("已学完", timeout=30_000)
    progress = MaterialProgress.objects.get(material=video, user__username="resp_city")
    assert progress.watched_at is not None and progress.finished_at is not None
