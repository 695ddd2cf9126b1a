"""Regions (行政区划), departments (部门) and enterprises (企业, by USCC)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from sizhen.core.access import (
    CHANGE,
    DELETE,
    NOTHING,
    Actor,
    ScopedManager,
    has_role,
    is_city_wide,
    region_scope_q,
    role_of,
)
from sizhen.core.roles import DEPARTMENT_ROLES, Role
from sizhen.organisations.choices import DepartmentType, EnterpriseSize, RegionLevel
from sizhen.organisations.validators import (
    validate_department_code,
    validate_industry_code,
    validate_phone,
    validate_uscc,
)


class Region(models.Model):
    """A node of the region hierarchy; ``path`` is the materialised path of codes
    (``/441000/441002/``) so that a subtree is one indexed prefix query."""

    code = models.CharField("区划代码", max_length=16, unique=True)
    name = models.CharField("名称", max_length=60)
    level = models.CharField("层级", max_length=12, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "行政区划"
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="org_region_path_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_statutory(self) -> bool:
        return self.level != RegionLevel.PARK

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent is not None else "/"
        return f"{prefix}{self.code}/"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return Q() if has_role(actor, Role.SYSADMIN) else None
        if is_city_wide(actor):
            return Q()
        path = getattr(actor, "scope_path", None)
        if not path:
            return NOTHING
        # The actor's subtree, plus its ancestors (to show where it sits).
        ancestors = [p for p in _ancestor_paths(path)]
        return Q(path__startswith=path) | Q(path__in=ancestors)

    def subtree(self) -> models.QuerySet[Region]:
        return Region.objects.filter(path__startswith=self.path)

    def ancestors(self) -> list[Region]:
        return list(Region.objects.filter(path__in=_ancestor_paths(self.path)).order_by("depth"))


def _ancestor_paths(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


class Department(models.Model):
    """A department (市级部门, county department) or a utility (供电公司) in a region."""

    code = models.CharField(
        "部门编码", max_length=32, unique=True, validators=[validate_department_code]
    )
    name = models.CharField("名称", max_length=100)
    short_name = models.CharField("简称", max_length=40, blank=True)
    type = models.CharField("类型", max_length=24, choices=DepartmentType.choices)
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="departments"
    )
    responsibilities = models.TextField("主要职责", blank=True)
    #: The city department that leads this district department's line of work (条线), e.g.
    #: 东湖区市场监督管理局 → 市市场监督管理局: a city department's indicator figures cover
    #: its whole line across the city (docs/indicators.md, "Departments as a dimension").
    superior = models.ForeignKey(
        "self",
        verbose_name="上级业务主管部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="branches",
    )
    is_active = models.BooleanField("启用", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)

    objects = ScopedManager()

    class Meta:
        verbose_name = "部门"
        ordering = ["region__path", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="org_department_name_per_region"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        superior = self.superior
        if superior is None:
            return
        if superior.pk == self.pk or superior.superior_id is not None:
            raise ValidationError({"superior": "上级业务主管部门应为市级部门，且不能是本部门"})
        region = self.region if self.region_id else None
        if region is not None and not (
            region.path.startswith(superior.region.path) and region.pk != superior.region_id
        ):
            raise ValidationError({"superior": "上级业务主管部门应在本部门所属区划的上级区划"})

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return Q() if has_role(actor, Role.SYSADMIN) else None
        if role_of(actor) == Role.ENTERPRISE:
            # Enterprises see the city's departments (to know whom a request goes to).
            return Q(is_active=True)
        return region_scope_q(actor, "region__path")


class Enterprise(models.Model):
    """An enterprise (市场主体) identified by its 统一社会信用代码."""

    uscc = models.CharField(
        "统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField("企业名称", max_length=200)
    industry_code = models.CharField(
        "行业代码", max_length=5, blank=True, validators=[validate_industry_code]
    )
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="enterprises"
    )
    size = models.CharField("规模", max_length=8, choices=EnterpriseSize.choices, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    contact_name = models.CharField("联系人", max_length=40, blank=True)
    contact_phone = models.CharField(
        "联系电话", max_length=20, blank=True, validators=[validate_phone]
    )
    established_on = models.DateField("成立日期", null=True, blank=True)
    is_active = models.BooleanField("存续", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "企业"
        ordering = ["region__path", "name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None:
            return None
        if role == Role.ENTERPRISE:
            if action in (CHANGE, DELETE):
                return None
            enterprise_id = getattr(actor, "enterprise_id", None)
            return Q(pk=enterprise_id) if enterprise_id else NOTHING
        if action in (CHANGE, DELETE):
            if role == Role.SYSADMIN or role == Role.COORDINATOR:
                return Q()
            if role == Role.DISTRICT_OFFICER:
                return region_scope_q(actor, "region__path")
            return None
        if role in DEPARTMENT_ROLES and role != Role.MACHINE:
            return region_scope_q(actor, "region__path")
        return region_scope_q(actor, "region__path")
