"""Builds the deterministic demo city 示范市 (demo city) that scripts/run.sh loads.

The load is a list of steps (``STEPS``). Each step builds one kind of data from a random
generator seeded with the load's seed and the step's name, so adding a step never changes what
the earlier ones produce. Later modules (indicator records, enterprise requests, tasks,
surveys) append their own ``DemoStep`` with a ``build`` and a ``wipe``; ``--reset`` runs the
wipes in reverse order, so a step's data is removed before the rows it refers to.

Rows are written with ``bulk_create`` for speed; the whole load is one transaction and one audit
event ("demo.load") instead of thousands of per-row events.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.db import connection, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from sizhen.accounts.models import ApiToken, User
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.demo import data
from sizhen.demo.assets_step import build_assets, wipe_assets
from sizhen.demo.dispatch_step import build_dispatch_catalogue, wipe_dispatch_catalogue
from sizhen.demo.indicators_step import build_catalogue, wipe_indicators
from sizhen.demo.policies_step import build_policies, wipe_policies
from sizhen.demo.rectification_step import build_rectification, wipe_rectification
from sizhen.demo.requests_step import build_requests, publish_rates, wipe_rates, wipe_requests
from sizhen.demo.surveys_step import build_surveys, wipe_surveys
from sizhen.demo.tasks_step import build_tasks, wipe_tasks
from sizhen.demo.training_step import build_training, wipe_training
from sizhen.organisations.choices import DepartmentType, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.validators import (
    USCC_ALPHABET,
    build_uscc,
    validate_industry_code,
    validate_phone,
    validate_uscc,
)

DEFAULT_SEED = 449900


class DemoError(Exception):
    """The demo city cannot be loaded or removed; the message is shown to the operator."""


@dataclass
class DemoContext:
    """What the steps share while building: the seed, and the rows built so far by code."""

    seed: int
    actor: Actor | None = None
    regions: dict[str, Region] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    enterprises: list[Enterprise] = field(default_factory=list)
    showcase: dict[str, Enterprise] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    @property
    def root(self) -> Region:
        return self.regions[data.CITY_CODE]

    def rng(self, step: str) -> random.Random:
        # A string seed is hashed with SHA-512 by random.Random, so it is stable across runs
        # and Python processes (unlike hash(), which is salted per process).
        return random.Random(f"{self.seed}:{step}")  # noqa: S311 - fictional data, not secrets


@dataclass(frozen=True)
class DemoStep:
    name: str
    label: str  # what the count is of, in Chinese, e.g. "家企业"
    build: Callable[[DemoContext], int]
    wipe: Callable[[str], None]  # receives the city's region path


@dataclass(frozen=True)
class DemoResult:
    counts: dict[str, int]
    seconds: float

    def summary(self) -> str:
        parts = [f"{count} {label}" for label, count in self.counts.items()]
        return f"已装入演示城市 {data.CITY_NAME}（{data.CITY_CODE}）：" + "，".join(parts)


# --- steps -----------------------------------------------------------------------------------


def build_regions(ctx: DemoContext) -> int:
    root = Region(code=data.CITY_CODE, name=data.CITY_NAME, level=RegionLevel.CITY, sort_order=0)
    root.path = root.compute_path()
    root.depth = 0
    root.save()
    ctx.regions[root.code] = root
    # Parents come before their children in data.REGIONS; insert one depth at a time so that
    # every parent has its primary key when its children are built.
    pending = list(enumerate(data.REGIONS, start=1))
    while pending:
        ready = [(i, spec) for i, spec in pending if spec.parent in ctx.regions]
        if not ready:
            raise DemoError("演示区划数据有误：存在找不到上级的区划")
        batch = []
        for order, spec in ready:
            parent = ctx.regions[spec.parent]
            region = Region(
                code=spec.code, name=spec.name, level=spec.level, parent=parent, sort_order=order
            )
            region.path = f"{parent.path}{spec.code}/"
            region.depth = region.path.count("/") - 2
            batch.append(region)
        for region in Region.objects.bulk_create(batch):
            ctx.regions[region.code] = region
        pending = [(i, spec) for i, spec in pending if spec.code not in ctx.regions]
    return len(ctx.regions) - 1


def build_departments(ctx: DemoContext) -> int:
    rows: list[Department] = []
    for order, spec in enumerate(data.CITY_DEPARTMENTS, start=1):
        rows.append(
            Department(
                code=spec.code,
                name=spec.name,
                short_name=spec.short_name,
                type=spec.type,
                region=ctx.root,
                responsibilities=spec.responsibilities,
                sort_order=order,
            )
        )
    city_codes = {spec.code for spec in data.CITY_DEPARTMENTS}
    superior_of: dict[str, str] = {}
    for region_spec in data.REGIONS:
        region = ctx.regions[region_spec.code]
        table = (
            data.PARK_DEPARTMENTS
            if region_spec.level == RegionLevel.PARK
            else data.DISTRICT_DEPARTMENTS
        )
        for order, (suffix, name, duties) in enumerate(table, start=1):
            superior = f"SZ-{data.SUPERIOR_SUFFIX.get(suffix, suffix)}"
            if superior in city_codes:
                superior_of[f"{region_spec.prefix}-{suffix}"] = superior
            rows.append(
                Department(
                    code=f"{region_spec.prefix}-{suffix}",
                    name=f"{region.name}{name}",
                    short_name=name[:40],
                    type=DepartmentType.DISTRICT_DEPARTMENT,
                    region=region,
                    responsibilities=duties,
                    sort_order=order,
                )
            )
    for department in Department.objects.bulk_create(rows):
        ctx.departments[department.code] = department
    branches = []
    for code, superior in superior_of.items():
        department = ctx.departments[code]
        department.superior = ctx.departments[superior]
        branches.append(department)
    Department.objects.bulk_update(branches, ["superior"])
    return len(rows)


def _statutory_code(region: Region, regions: dict[str, Region]) -> str:
    """The 6-digit code of the nearest statutory region: a park's enterprises are registered by
    the market regulator of the district (or city) the park belongs to."""
    current: Region | None = region
    while current is not None and not current.is_statutory:
        current = current.parent
    return (current or regions[data.CITY_CODE]).code[:6]


def build_enterprises(ctx: DemoContext) -> int:
    rng = ctx.rng("enterprises")
    rows: list[Enterprise] = []
    seen_uscc: set[str] = set()
    seen_names: set[str] = set()
    for show in data.SHOWCASE_ENTERPRISES:
        uscc = build_uscc(show.region, show.organisation_code)
        enterprise = Enterprise(
            uscc=uscc,
            name=show.name,
            industry_code=show.industry_code,
            region=ctx.regions[show.region],
            size=show.size,
            address=f"{ctx.regions[show.region].name}科技路8号",
            contact_name=show.contact_name,
            contact_phone=show.contact_phone,
            established_on=dt.date(2018, 5, 18),
        )
        rows.append(enterprise)
        seen_uscc.add(uscc)
        seen_names.add(show.name)
    showcase_by_region: dict[str, int] = {}
    for show in data.SHOWCASE_ENTERPRISES:
        showcase_by_region[show.region] = showcase_by_region.get(show.region, 0) + 1

    sizes = [size for size, _ in data.SIZES]
    size_weights = [weight for _, weight in data.SIZES]
    first_day = dt.date(1995, 1, 1)
    span_days = (dt.date(2025, 6, 30) - first_day).days
    for spec in data.REGIONS:
        region = ctx.regions[spec.code]
        registry_code = _statutory_code(region, ctx.regions)
        prefix = region.name[:2] if spec.level != RegionLevel.PARK else data.CITY_NAME[:2]
        for _ in range(spec.enterprises - showcase_by_region.get(spec.code, 0)):
            industry_code, word = rng.choice(data.INDUSTRIES)
            size = rng.choices(sizes, weights=size_weights)[0]
            form = "股份有限公司" if size == "large" else "有限公司"
            name = f"{prefix}{rng.choice(data.BRANDS)}{word}{form}"
            while name in seen_names:
                name = f"{prefix}{rng.choice(data.BRANDS)}{rng.choice(data.BRANDS)}{word}{form}"
            seen_names.add(name)
            uscc = ""
            while not uscc or uscc in seen_uscc:
                organisation = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(7))
                uscc = build_uscc(registry_code, organisation)
            seen_uscc.add(uscc)
            phone = rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            rows.append(
                Enterprise(
                    uscc=uscc,
                    name=name,
                    industry_code=industry_code,
                    region=region,
                    size=size,
                    address=f"{region.name}{rng.choice(data.ROADS)}{rng.randint(1, 999)}号",
                    contact_name=rng.choice(data.SURNAMES) + rng.choice(data.GIVEN_NAMES),
                    contact_phone=phone,
                    established_on=first_day + dt.timedelta(days=rng.randrange(span_days)),
                )
            )
    for enterprise in rows:
        # Field validators only (no per-row queries): the same rules the forms enforce.
        validate_uscc(enterprise.uscc)
        validate_industry_code(enterprise.industry_code)
        validate_phone(enterprise.contact_phone)
    ctx.enterprises = Enterprise.objects.bulk_create(rows, batch_size=500)
    by_uscc = {e.uscc: e for e in ctx.enterprises}
    for show in data.SHOWCASE_ENTERPRISES:
        ctx.showcase[show.key] = by_uscc[build_uscc(show.region, show.organisation_code)]
    return len(ctx.enterprises)


def build_users(ctx: DemoContext) -> int:
    now = timezone.now()
    rows = []
    for account in data.DEMO_ACCOUNTS:
        user = User(
            username=account.username,
            full_name=account.full_name,
            role=account.role,
            department=ctx.departments[account.department] if account.department else None,
            region=ctx.regions[account.region] if account.region else None,
            enterprise=ctx.showcase[account.enterprise] if account.enterprise else None,
            phone=account.phone,
            unit_leader=account.unit_leader,
            must_change_password=False,
            password_changed_at=now,
        )
        # The demo password must pass the same policy a real user's would.
        validate_password(data.DEMO_PASSWORD, user)
        user.set_password(data.DEMO_PASSWORD)
        rows.append(user)
    for user in User.objects.bulk_create(rows):
        ctx.users[user.username] = user
    return len(rows)


def wipe_users(city_path: str) -> None:
    in_city = (
        Q(department__region__path__startswith=city_path)
        | Q(region__path__startswith=city_path)
        | Q(enterprise__region__path__startswith=city_path)
    )
    ApiToken.objects.filter(department__region__path__startswith=city_path).delete()
    User.objects.filter(in_city | Q(username__in=[a.username for a in data.DEMO_ACCOUNTS])).delete()


def wipe_enterprises(city_path: str) -> None:
    Enterprise.objects.filter(region__path__startswith=city_path).delete()


def wipe_departments(city_path: str) -> None:
    Department.objects.filter(region__path__startswith=city_path).delete()


def wipe_regions(city_path: str) -> None:
    # Region.parent is PROTECT, so children go first.
    subtree = Region.objects.filter(path__startswith=city_path)
    for depth in sorted(set(subtree.values_list("depth", flat=True)), reverse=True):
        Region.objects.filter(path__startswith=city_path, depth=depth).delete()


STEPS: list[DemoStep] = [
    DemoStep("regions", "个县市区和园区", build_regions, wipe_regions),
    DemoStep("departments", "个部门", build_departments, wipe_departments),
    DemoStep("enterprises", "家企业", build_enterprises, wipe_enterprises),
    DemoStep("users", "个演示账号", build_users, wipe_users),
    DemoStep("indicators", "个指标", build_catalogue, wipe_indicators),
    DemoStep("dispatch", "个派单目录条目", build_dispatch_catalogue, wipe_dispatch_catalogue),
    DemoStep("tasks", "项工作任务", build_tasks, wipe_tasks),
    DemoStep("requests", "件企业诉求", build_requests, wipe_requests),
    # After the requests it counts, and before the records step (``load_records``, after the
    # transaction) computes and scores every period, so the rates are scored with the rest.
    DemoStep("rates", "个诉求“三率”指标值", publish_rates, wipe_rates),
    # After the rates: the effect verification of closed items freezes the linked indicators'
    # values (the records step freezes them again once it has computed its own).
    DemoStep("rectification", "项整改事项", build_rectification, wipe_rectification),
    DemoStep("surveys", "份问卷答卷", build_surveys, wipe_surveys),
    DemoStep("policies", "项政策", build_policies, wipe_policies),
    DemoStep("training", "道培训试题", build_training, wipe_training),
    DemoStep("assets", "条历年参评数据", build_assets, wipe_assets),
    # Later modules append here.
]


# --- entry points ------------------------------------------------------------------------------


def get_city() -> Region | None:
    return Region.objects.filter(code=data.CITY_CODE).first()


def _check_no_other_city() -> None:
    other = Region.objects.filter(parent__isnull=True).exclude(code=data.CITY_CODE).first()
    if other is not None:
        raise DemoError(
            f"数据库中已有顶级区划“{other.name}”（{other.code}），演示城市只能装入没有其他城市的数据库"
        )


@transaction.atomic
def load_demo_city(*, actor: Actor | None = None, seed: int = DEFAULT_SEED) -> DemoResult:
    """Build the whole demo city in one transaction; refuses when it (or another city) exists."""
    started = time.monotonic()
    if get_city() is not None:
        raise DemoError(f"演示城市{data.CITY_NAME}已存在；如需重新装入请使用 --reset")
    _check_no_other_city()
    ctx = DemoContext(seed=seed, actor=actor)
    counts: dict[str, int] = {}
    for step in STEPS:
        counts[step.label] = step.build(ctx)
    record_event(
        "demo.load",
        actor=actor,
        obj=ctx.root,
        after={"seed": seed, "counts": {step.name: counts[step.label] for step in STEPS}},
        message=f"装入演示数据（种子 {seed}）",
    )
    return DemoResult(counts=counts, seconds=time.monotonic() - started)


def _refresh_statistics() -> None:
    """PostgreSQL plans the wipe's joined deletes from its table statistics. A demo loaded a
    moment ago (in the same transaction, or before autovacuum came by) has none, and a delete
    planned for empty tables ran for more than half an hour over the demo's values. ANALYZE
    (allowed in a transaction, and counting the transaction's own rows) takes about a second."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


@transaction.atomic
def wipe_demo_city(*, actor: Actor | None = None) -> bool:
    """Remove the demo city and everything the steps built in it; False if there was none."""
    city = get_city()
    if city is None:
        return False
    _refresh_statistics()
    try:
        for step in reversed(STEPS):
            step.wipe(city.path)
    except ProtectedError as exc:
        blocking = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise DemoError("演示城市的数据仍被其他记录引用，无法清除：" + "、".join(blocking)) from exc
    record_event(
        "demo.reset",
        actor=actor,
        object_type="organisations.region",
        object_id=str(city.pk),
        object_repr=city.name,
        message="清除演示数据",
    )
    return True


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    role_label: str
    scope_label: str
    region_code: str | None
    department_code: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": self.password,
            "role": self.role,
            "region_code": self.region_code,
            "department_code": self.department_code,
        }


def list_demo_logins() -> list[DemoLogin]:
    """The demo accounts present in the database, in the order of data.DEMO_ACCOUNTS."""
    wanted = [a.username for a in data.DEMO_ACCOUNTS]
    users = {
        u.username: u
        for u in User.objects.filter(username__in=wanted).select_related(
            "department__region", "region", "enterprise__region"
        )
    }
    logins = []
    for username in wanted:
        user = users.get(username)
        if user is None:
            continue
        if user.role in CITY_WIDE_ROLES:
            region_code: str | None = data.CITY_CODE
        elif user.role == Role.DISTRICT_OFFICER:
            region_code = user.region.code if user.region else None
        elif user.role in DEPARTMENT_ROLES:
            region_code = user.department.region.code if user.department else None
        else:
            region_code = user.enterprise.region.code if user.enterprise else None
        logins.append(
            DemoLogin(
                username=user.username,
                password=data.DEMO_PASSWORD,
                role=user.role,
                role_label=user.role_label,
                scope_label=user.scope_label,
                region_code=region_code,
                department_code=user.department.code if user.department else None,
            )
        )
    return logins
