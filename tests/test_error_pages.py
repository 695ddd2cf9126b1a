"""Error pages people meet with DEBUG off (the test settings, and what scripts/run.sh serves):
Chinese, in the site's layout, with a way back; the API keeps its JSON shape. And run.sh's
settings keep DEBUG off and still serve the static files (WhiteNoise)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings

from sizhen.core.errorpages import server_error

ROOT = Path(settings.BASE_DIR)
ERROR_URLS = "tests.error_urls"


def assert_error_page(response: Any, status: int, heading: str, *, nav: bool) -> str:
    assert response.status_code == status
    body = response.content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert f"<title>{heading} · 四诊 · 营商环境监测平台</title>" in body
    # The site's layout, and both ways back.
    assert 'class="topbar"' in body
    assert '<a class="btn btn-secondary" href="/" data-testid="error-home">返回首页</a>' in body
    assert 'data-history-back data-testid="error-back">返回上一页</a>' in body
    assert ('id="sidenav"' in body) is nav
    for english in ("Not Found", "Server Error", "Forbidden", "Traceback", "DEBUG"):
        assert english not in body
    return body


@pytest.mark.django_db
def test_404_is_chinese_with_the_navigation_of_a_logged_in_user(client_for: Any) -> None:
    assert settings.DEBUG is False
    body = assert_error_page(
        client_for("coordinator").get("/no-such-page/"), 404, "未找到", nav=True
    )
    assert "您访问的页面或记录不存在" in body
    assert_error_page(Client().get("/no-such-page/"), 404, "未找到", nav=False)


@pytest.mark.django_db
def test_the_way_back_is_the_previous_page_of_this_site_only(client_for: Any) -> None:
    client = client_for("coordinator")
    came_from = client.get("/tasks/99999999/", HTTP_REFERER="http://testserver/tasks/?page=2")
    assert 'href="/tasks/?page=2" data-history-back' in came_from.content.decode()
    elsewhere = client.get("/tasks/99999999/", HTTP_REFERER="https://evil.example/x")
    assert 'href="/" data-history-back' in elsewhere.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_403_is_chinese(client_for: Any) -> None:
    body = assert_error_page(
        client_for("district_a").get("/test-errors/refuse/"), 403, "无权访问", nav=True
    )
    assert "您没有访问该页面的权限" in body


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_500_is_chinese_and_the_api_keeps_its_shape(personas: dict[str, Any]) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(personas["coordinator"])
    body = assert_error_page(client.get("/test-errors/fail/"), 500, "系统错误", nav=False)
    assert "服务器处理请求时出错" in body
    api = client.get("/api/v1/test-errors/fail/")
    assert (api.status_code, api.json()) == (500, {"detail": "服务器内部错误，请稍后重试"})


def test_500_renders_without_a_database() -> None:
    # No django_db mark: any query here raises, and the handler would fall back to its plain
    # page, which has no layout.
    response = server_error(RequestFactory().get("/broken/"))
    assert_error_page(response, 500, "系统错误", nav=False)


@pytest.mark.django_db
def test_csrf_failure_is_chinese(personas: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas["coordinator"])
    before = client.get("/inbox/").status_code
    body = assert_error_page(client.post("/inbox/read/"), 403, "请求已过期", nav=True)
    assert before == 200
    assert "本次提交未被受理" in body


@pytest.mark.django_db
def test_an_unknown_api_path_answers_json(client_for: Any) -> None:
    response = client_for("coordinator").get("/api/v1/no-such-thing/")
    assert (response.status_code, response.json()) == (404, {"detail": "未找到"})


def run_sh_settings_module() -> str:
    match = re.search(
        r'DJANGO_SETTINGS_MODULE="\$\{DJANGO_SETTINGS_MODULE:-([\w.]+)\}"',
        (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8"),
    )
    assert match is not None, "run.sh no longer sets DJANGO_SETTINGS_MODULE"
    return match.group(1)


def clean_env(tmp_path: Path, module: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SIZHEN_", "DATABASE_URL", "WHITENOISE"))
    }
    env.update(DJANGO_SETTINGS_MODULE=module, SIZHEN_DATA_DIR=str(tmp_path))
    return env


def test_run_sh_settings_have_debug_off(tmp_path: Path) -> None:
    module = run_sh_settings_module()
    probe = (
        "import importlib, sys; s = importlib.import_module(sys.argv[1]); "
        "print(s.DEBUG, s.WHITENOISE_USE_FINDERS, "
        "'whitenoise.middleware.WhiteNoiseMiddleware' in s.MIDDLEWARE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, module],
        env=clean_env(tmp_path, module),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == ["False", "True", "True"]
    # A developer asks for DEBUG explicitly.
    env = {**clean_env(tmp_path, module), "DJANGO_DEBUG": "1"}
    debug = subprocess.run(
        [sys.executable, "-c", probe, module],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert debug.stdout.split() == ["True", "True", "True"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (http://127.0.0.1)
            return answer.status, answer.headers.get("Content-Type", ""), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def test_run_sh_server_serves_static_files_and_chinese_404_with_debug_off(
    tmp_path: Path,
) -> None:
    """The web server as run.sh starts it (its settings module, runserver, no collectstatic):
    the stylesheet and the favicon come through WhiteNoise, a missing page is the Chinese one."""
    module = run_sh_settings_module()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=clean_env(tmp_path, module),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if server.poll() is not None:
                pytest.fail(server.stderr.read().decode() if server.stderr else "server stopped")
            try:
                status, content_type, css = _get(f"{base}/static/css/sizhen.css")
                break
            except OSError:
                time.sleep(0.25)
        else:
            pytest.fail("the server did not answer")
        assert (status, content_type.split(";")[0]) == (200, "text/css")
        assert css == (ROOT / "static" / "css" / "sizhen.css").read_bytes()
        status, content_type, icon = _get(f"{base}/static/favicon.svg")
        assert (status, content_type.split(";")[0]) == (200, "image/svg+xml")
        assert icon == (ROOT / "static" / "favicon.svg").read_bytes()
        status, _, page = _get(f"{base}/no-such-page/")
        text = page.decode()
        assert status == 404
        assert "<h1>未找到</h1>" in text
        assert "Page not found" not in text and "DEBUG = True" not in text
    finally:
        server.terminate()
        server.wait(timeout=10)
