"""Template hygiene that Django does not check: a ``{# … #}`` comment must close on its own
line (a multi-line one is rendered as text on the page)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

UNCLOSED_COMMENT = re.compile(r"\{#(?![^\n]*#\})")


def test_no_template_has_a_multi_line_hash_comment():
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [p / "templates" for p in Path(settings.BASE_DIR, "sizhen").iterdir() if p.is_dir()]
    offenders = []
    for root in roots:
        for path in root.rglob("*.html"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if UNCLOSED_COMMENT.search(line):
                    offenders.append(f"{path}:{number}")
    assert offenders == [], "use {% comment %} for comments over several lines: " + ", ".join(
        offenders
    )


def test_no_page_gives_command_line_advice():
    """Pages are read by office staff: what needs a command goes to the system administrator
    through the operations manual, never as `python manage.py …` on a page."""
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    offenders = [
        str(path)
        for root in roots
        for path in root.rglob("*.html")
        if "manage.py" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
