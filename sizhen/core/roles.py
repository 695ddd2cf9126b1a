"""Roles of the platform and what scope each implies."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    LEADER = "leader", "市领导"
    COORDINATOR = "coordinator", "营商办"
    LEAD_DEPARTMENT = "lead_department", "指标牵头部门"
    RESPONSIBLE_DEPARTMENT = "responsible_department", "责任部门"
    DISTRICT_OFFICER = "district_officer", "县市区/园区"
    ENTERPRISE = "enterprise", "企业"
    SYSADMIN = "sysadmin", "系统管理员"
    # Not assignable to people: the role of an API token's machine client.
    MACHINE = "machine", "接口客户端"


#: Roles that see the whole city.
CITY_WIDE_ROLES = frozenset({Role.LEADER, Role.COORDINATOR, Role.SYSADMIN})
#: Roles whose scope is their department (and the department's region subtree).
DEPARTMENT_ROLES = frozenset({Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT, Role.MACHINE})
#: Roles that may administer organisations, users and the calendar.
ADMIN_ROLES = frozenset({Role.SYSADMIN})
STAFF_ROLES = frozenset(
    {
        Role.LEADER,
        Role.COORDINATOR,
        Role.LEAD_DEPARTMENT,
        Role.RESPONSIBLE_DEPARTMENT,
        Role.DISTRICT_OFFICER,
        Role.SYSADMIN,
    }
)
USER_ROLES = [choice for choice in Role if choice != Role.MACHINE]
#: People who act for a department (部门账号): its lead and responsible officers.
DEPARTMENT_STAFF_ROLES = frozenset({Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT})
#: People who act for a unit (承办单位) that tasks and problems are addressed to: a department,
#: or a district's (park's) office.
UNIT_ROLES = DEPARTMENT_STAFF_ROLES | {Role.DISTRICT_OFFICER}
