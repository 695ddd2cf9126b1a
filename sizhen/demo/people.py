"""Who did what in the demo's histories: the demo account that fits (the coordinator for the
office's steps, a department's own account for its steps), else the department's 经办人 by
name. Never an anonymous "演示数据": a history written by nobody reads as a toy, and point 1 of
issue 17 wants every step's actor shown as entered."""

from __future__ import annotations

from typing import Any

from sizhen.accounts.models import User

#: The label of the office's steps when the demo has no coordinator account.
OFFICE = "市营商环境建设办公室"


def office(ctx: Any) -> tuple[User | None, str]:
    """The coordinator (营商办) who registers, dispatches, reviews and revisits."""
    user = ctx.users.get("coordinator")
    return (user, user.audit_label) if user is not None else (None, OFFICE)


def department_staff(ctx: Any, department: Any) -> tuple[User | None, str]:
    """The department's demo account if it has one, else its 经办人 (no account: the label
    names the unit, as a paper ledger would)."""
    if department is None:
        return None, "经办人"
    for user in ctx.users.values():
        if user.department_id == department.pk:
            return user, user.audit_label
    return None, f"{department.name}经办人"
