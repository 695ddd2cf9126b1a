"""Walk a running Sizhen as every demo role in headless Chromium, the way issue 17's
walk-through was done by hand: log in through the form, follow every link the role is shown
(breadth first from the home page, menus before the pages they lead to), and for each page
record its status, JavaScript errors, a screenshot, and what an office worker should never
read there. Nothing is submitted: forms are not posted, exports and downloads not followed.

    .venv/bin/python scripts/walkthrough.py --base-url http://127.0.0.1:8000 [--out DIR]
        [--pages-per-role 80] [--role coordinator --role leader ...]

The demo logins come from ``manage.py demo --logins-json`` (the same settings and data folder
as the server: run it with the server's environment). The report is DIR/report.md and
DIR/report.json; screenshots are DIR/<username>/NNN-<page>.png. Exit status 1 when a page
answered 5xx, a script failed, or a finding was made, so the walk can gate a release.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Links a walk never follows: they end the session, change data on GET-less pages, or answer
# with a file rather than a page.
SKIP = re.compile(
    r"/accounts/logout|/logout|/export|export=|/download|/xlsx|/docx|/pdf|/qr|/api/|/admin/|/media/"
    r"|/static/|format=(xlsx|csv|docx|pdf|json)|\.(xlsx|csv|docx|pdf|png|svg|zip)(\?|$)"
)

# What an office worker should never read on a page (visible text only).
FINDINGS: list[tuple[str, re.Pattern[str]]] = [
    (
        "英文调试页",
        re.compile(r"Traceback|Exception Value|DEBUG = True|Page not found|Server Error"),
    ),
    ("建设中占位", re.compile(r"建设中|敬请期待|尚未上线")),
    ("命令行提示", re.compile(r"python manage\.py|manage\.py ")),
    (
        "空值字样",
        re.compile(r"(?<![A-Za-z])(None|nan|NaN|undefined|null)(?![A-Za-z])|\[object Object\]"),
    ),
    (
        "英文状态码",
        re.compile(
            r"(?<![A-Za-z_./-])(open|closed|converted|pending|submitted|approved|rejected|draft"
            r"|queued|running|succeeded|failed|acknowledged|resolved|in_progress)(?![A-Za-z_])"
        ),
    ),
    ("内部动作码", re.compile(r"(?<![\w.@/])[a-z_]{3,}\.[a-z_]{3,}(?![\w.@/])")),
    ("超过100%", re.compile(r"(?<![\d.])(\d{3,}(\.\d+)?)\s*%")),
]
#: Modules whose issues are still open: their placeholder page says so honestly; the walk
#: lists them apart instead of counting them as findings.
PLACEHOLDERS = ("/m/knowledge/", "/m/assets/", "/m/training/")
#: Query parameters that only order or page a list.
ORDERING = frozenset({"sort", "page", "order", "dir", "per_page"})
#: Full-screen pages without the site's frame (no menu, no breadcrumbs) by design.
FRAMELESS = ("/dashboards/bigscreen/",)
# Dotted words that are not internal codes: file names and addresses.
ALLOWED_DOTTED = re.compile(
    r"\.(xlsx|xls|csv|docx|pdf|png|jpg|json|txt|html|md|zip|cn|com|org|gov)$"
)


@dataclass
class Visit:
    url: str
    status: int | None
    title: str
    seconds: float
    screenshot: str
    breadcrumbs: bool
    errors: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


@dataclass
class RoleWalk:
    username: str
    role: str
    scope: str
    visits: list[Visit] = field(default_factory=list)
    skipped: int = 0


def page_key(url: str) -> str:
    """Pages that differ only in ids or query values are one page for the walk: one request of
    each of the 800 rows is not a walk, one of each kind of page is."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
    path = re.sub(r"/[0-9a-f-]{32,36}(?=/|$)", "/{uuid}", path)
    path = re.sub(r"/[A-Z]{2}\d{2}(\.\d{2})*(?=/|$)", "/{code}", path)
    # Sorting and paging show the same page again: one visit of a list is enough.
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)} - ORDERING)
    return path + ("?" + "&".join(names) if names else "")


def demo_logins() -> list[dict[str, str]]:
    output = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "demo", "--logins-json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output)


def findings_in(text: str) -> list[str]:
    found = []
    for label, pattern in FINDINGS:
        for match in pattern.finditer(text):
            word = match.group(0)
            if label == "内部动作码" and ALLOWED_DOTTED.search(word):
                continue
            if label == "超过100%" and float(word.rstrip("% ")) <= 100:
                continue
            start = max(0, match.start() - 20)
            context = text[start : match.end() + 20].replace("\n", " ")
            found.append(f"{label}：…{context}…")
            break
    return found


def walk_role(browser, base_url: str, login: dict[str, str], out: Path, limit: int) -> RoleWalk:
    walk = RoleWalk(
        login["username"],
        login.get("role") or "",
        login.get("department_code") or login.get("region_code") or "",
    )
    folder = out / login["username"]
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"脚本错误：{exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"控制台：{msg.text}") if msg.type == "error" else None,
    )
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", login["username"])
    page.fill("#id_password", login["password"])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    origin = urlsplit(base_url).netloc
    queue: deque[str] = deque([f"{base_url}/"])
    seen: set[str] = set()
    while queue and len(walk.visits) < limit:
        url = queue.popleft()
        key = page_key(url)
        if key in seen:
            continue
        seen.add(key)
        errors.clear()
        start = time.perf_counter()
        try:
            response = page.goto(url, wait_until="networkidle")
        except Exception as exc:  # a page that never settles is a finding, not a crash
            if "Download is starting" in str(exc):
                walk.skipped += 1  # a file behind a plain link (an import template)
                continue
            walk.visits.append(Visit(url, None, "", 0.0, "", False, [f"打开失败：{exc}"]))
            continue
        seconds = time.perf_counter() - start
        if urlsplit(page.url).path.startswith("/accounts/login"):
            walk.visits.append(Visit(url, None, "", seconds, "", False, ["会话丢失：被带回登录页"]))
            break
        status = response.status if response else None
        name = f"{len(walk.visits):03d}-{re.sub(r'[^A-Za-z0-9]+', '-', key).strip('-')[:60] or 'home'}.png"
        page.screenshot(path=str(folder / name), full_page=True)
        # The page's own content: the side menu marks modules still being built (建设中) on
        # every page, and the header carries the user's name.
        # Text in <code> is an identifier shown on purpose (a dataset's code for the API, a
        # question's XLSForm name on the designer's page), not a code leaking into prose.
        text = page.evaluate(
            """() => {
                const root = (document.querySelector("main.content") || document.body)
                    .cloneNode(true);
                root.querySelectorAll("code").forEach((el) => el.remove());
                document.body.appendChild(root);
                root.style.position = "absolute";
                const text = root.innerText;
                root.remove();
                return text;
            }"""
        )
        crumbs = page.locator("[data-testid=breadcrumbs]").count() > 0
        visit = Visit(
            url=url,
            status=status,
            title=page.title(),
            seconds=round(seconds, 2),
            screenshot=f"{login['username']}/{name}",
            breadcrumbs=crumbs,
            errors=list(errors),
            findings=findings_in(text),
        )
        if status and status >= 400 and status != 404:
            visit.errors.append(f"HTTP {status}")
        path = urlsplit(url).path
        if path not in ("/", "", *FRAMELESS) and not crumbs and status == 200:
            visit.findings.append("缺少面包屑")
        if path in PLACEHOLDERS or path == "/":
            # The home page's module cards say 尚未上线 for the same modules.
            visit.findings = [f for f in visit.findings if not f.startswith("建设中占位")]
        walk.visits.append(visit)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = urljoin(url, href).split("#")[0]
            parts = urlsplit(target)
            if parts.netloc != origin or SKIP.search(target):
                walk.skipped += 1
                continue
            if page_key(target) not in seen:
                queue.append(target)
    context.close()
    return walk


def report(walks: list[RoleWalk], out: Path) -> int:
    problems = 0
    lines = ["# 逐角色走查报告", ""]
    lines.append("| 账号 | 角色 | 范围 | 页面 | 5xx | 脚本错误 | 发现 | 最慢（秒） |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for walk in walks:
        server = sum(1 for v in walk.visits if v.status and v.status >= 500)
        scripts = sum(1 for v in walk.visits if v.errors)
        found = sum(len(v.findings) for v in walk.visits)
        slowest = max((v.seconds for v in walk.visits), default=0.0)
        problems += server + scripts + found
        lines.append(
            f"| {walk.username} | {walk.role} | {walk.scope} | {len(walk.visits)} | {server} "
            f"| {scripts} | {found} | {slowest:.2f} |"
        )
    for walk in walks:
        bad = [v for v in walk.visits if v.errors or v.findings]
        if not bad:
            continue
        lines += ["", f"## {walk.username}（{walk.role}）", ""]
        for visit in bad:
            path = urlsplit(visit.url).path + (
                "?" + urlsplit(visit.url).query if urlsplit(visit.url).query else ""
            )
            for item in [*visit.errors, *visit.findings]:
                lines.append(f"- `{path}` {item}（截图 {visit.screenshot}）")
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (out / "report.json").write_text(
        json.dumps([asdict(w) for w in walks], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "walkthrough"))
    parser.add_argument("--pages-per-role", type=int, default=80)
    parser.add_argument("--role", action="append", help="only these usernames")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from playwright.sync_api import sync_playwright

    logins = demo_logins()
    if args.role:
        logins = [lo for lo in logins if lo["username"] in args.role]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base_url = args.base_url.rstrip("/")
    walks = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for login in logins:
            walk = walk_role(browser, base_url, login, out, args.pages_per_role)
            print(
                f"{walk.username:<16} {len(walk.visits):>4} 页",
                f"问题 {sum(len(v.errors) + len(v.findings) for v in walk.visits)}",
                flush=True,
            )
            walks.append(walk)
            report(walks, out)  # after each role, so a long walk can be read as it goes
        browser.close()
    problems = report(walks, out)
    print(f"报告：{out / 'report.md'}；问题 {problems}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
