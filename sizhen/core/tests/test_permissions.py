"""The capability registry: valid roles, the answer for each persona, the denial it audits, the
template filter, and no role rule defined again outside core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.template import Context, Template

from sizhen.core.models import AuditEvent
from sizhen.core.permissions import (
    CAPABILITIES,
    REGISTRY,
    ensure_capability,
    has_capability,
    require_capability,
)
from sizhen.core.roles import Role

pytestmark = pytest.mark.django_db


def test_every_capability_is_named_once_labelled_and_held_by_valid_roles():
    names = [c.name for c in CAPABILITIES]
    assert len(names) == len(set(names)) == len(REGISTRY)
    for capability in CAPABILITIES:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", capability.name), capability.name
        assert capability.label.strip(), capability.name
        assert capability.roles, capability.name
        assert set(capability.roles) <= set(Role.values), capability.name


@pytest.mark.parametrize(
    ("capability", "holders"),
    [
        ("task.review", {"coordinator", "sysadmin"}),
        ("request.manage", {"coordinator", "sysadmin"}),
        ("request.urge", {"coordinator", "sysadmin", "leader"}),
        ("request.submit", {"enterprise", "enterprise_b"}),
        ("request.intake", {"coordinator", "sysadmin", "district_a", "district_b"}),
        ("dispatch_catalogue.edit", {"coordinator"}),
        ("cockpit.view", {"leader", "coordinator", "sysadmin", "district_a", "district_b"}),
        ("data.upload", {"coordinator", "sysadmin", "lead_department", "responsible_department"}),
        ("filling.review", {"coordinator", "lead_department"}),
        ("user.admin", {"sysadmin"}),
        (
            "staff.pages",
            {
                "leader",
                "coordinator",
                "lead_department",
                "responsible_department",
                "district_a",
                "district_b",
                "sysadmin",
            },
        ),
    ],
)
def test_has_capability_for_each_persona(personas, capability, holders):
    held = {name for name, user in personas.items() if has_capability(user, capability)}
    assert held == holders


def test_no_capability_for_anonymous_inactive_or_unknown_name(personas):
    from django.contrib.auth.models import AnonymousUser

    assert has_capability(AnonymousUser(), "staff.pages") is False
    assert has_capability(None, "staff.pages") is False
    coordinator = personas["coordinator"]
    coordinator.is_active = False
    assert has_capability(coordinator, "request.manage") is False
    with pytest.raises(KeyError):
        has_capability(personas["sysadmin"], "task.reviw")


def test_require_capability_denies_with_404_and_the_audited_event(personas):
    require_capability(personas["coordinator"], "task.review", target="审核")
    assert AuditEvent.objects.filter(action="access.denied").count() == 0
    with pytest.raises(Http404):
        require_capability(personas["leader"], "task.review", target="审核")
    event = AuditEvent.objects.get(action="access.denied")
    assert event.object_type == "审核"
    assert event.message == "角色无权访问：审核"
    assert event.after == {"action": "access", "roles": ["coordinator", "sysadmin"]}


def test_ensure_capability_raises_the_services_own_error(personas):
    ensure_capability(personas["sysadmin"], "task.issue", ValueError("只有营商办可以下发任务"))
    with pytest.raises(ValueError, match="只有营商办可以下发任务"):
        ensure_capability(personas["leader"], "task.issue", ValueError("只有营商办可以下发任务"))


def test_template_filter_asks_the_registry(personas):
    template = Template('{% load permissions %}{% if user|can:"task.review" %}可审核{% endif %}')
    assert template.render(Context({"user": personas["coordinator"]})) == "可审核"
    assert template.render(Context({"user": personas["leader"]})) == ""
    assert template.render(Context({"user": AnonymousUser()})) == ""
    assert template.render(Context({"user": None})) == ""


#: A role rule defined again outside the registry: the scatter this registry replaced — a
#: ``MANAGERS``/``DATA_ADMINS``/``UPLOADER_ROLES``-style list, or a ``_require_manager`` helper.
SCATTERED_RULE = re.compile(
    r"^\s*((?:[A-Z][A-Z0-9_]*_)?(?:ROLES|MANAGERS|EDITORS|ADMINS|OPENERS|IMPORTERS|REVIEWERS"
    r"|UPLOADERS|FILLERS)\s*[:=]|def _require_manager\b)",
    re.MULTILINE,
)
#: Role lists that are object scope, not a capability: the departments a letter is addressed to.
SCOPE_ROLE_LISTS = {"reports/models.py": "ADDRESSEE_ROLES"}


#: Tests name the personas they expect (``ENTERPRISE_EDITORS = {"sysadmin", ...}``); there only
#: a managers rule counts.
TEST_SCATTERED_RULE = re.compile(r"^\s*(MANAGERS\s*[:=]|def _require_manager\b)", re.MULTILINE)


def _scattered_rules(text: str, relative: str) -> list[str]:
    pattern = TEST_SCATTERED_RULE if "tests" in relative.split("/") else SCATTERED_RULE
    allowed = SCOPE_ROLE_LISTS.get(relative)
    return [
        m.group(1).strip()
        for m in pattern.finditer(text)
        if allowed is None or not m.group(1).strip().startswith(allowed)
    ]


def test_the_scattered_rule_pattern_catches_role_lists_and_helpers():
    text = (
        "MANAGERS = frozenset()\nDATA_ADMINS: frozenset[str] = x\nUPLOADER_ROLES = y\n"
        "    ROUND_OPENERS = z\ndef _require_manager(actor):\nSTATUS_LABELS = {}\nROLE = 1\n"
    )
    assert _scattered_rules(text, "x.py") == [
        "MANAGERS =",
        "DATA_ADMINS:",
        "UPLOADER_ROLES =",
        "ROUND_OPENERS =",
        "def _require_manager",
    ]
    assert _scattered_rules("ADDRESSEE_ROLES = x\n", "reports/models.py") == []
    assert _scattered_rules("EDITORS = {}\nMANAGERS = {}\n", "a/tests/test_x.py") == ["MANAGERS ="]


def test_no_module_outside_core_defines_its_own_managers_rule():
    root = Path(settings.BASE_DIR, "sizhen")
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.parts[len(root.parts)] != "core"
        and _scattered_rules(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
    ]
    assert offenders == [], "ask sizhen.core.permissions instead: " + ", ".join(offenders)
