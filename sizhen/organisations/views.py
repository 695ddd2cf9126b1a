from __future__ import annotations

from sizhen.core.listing import ListColumn, ScopedListView
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.validators import mask_phone


class RegionListView(ScopedListView):
    model = Region
    title = "行政区划"
    default_sort = "path"
    export_name = "行政区划"
    search_fields = ("name", "code")
    columns = (
        ListColumn("code", "区划代码", sort="code"),
        ListColumn("name", "名称", sort="name"),
        ListColumn("level", "层级", sort="level"),
        ListColumn("parent.name", "上级"),
        ListColumn("is_active", "启用"),
    )


class DepartmentListView(ScopedListView):
    model = Department
    title = "部门"
    default_sort = "code"
    export_name = "部门"
    search_fields = ("name", "code")
    columns = (
        ListColumn("code", "部门编码", sort="code"),
        ListColumn("name", "名称", sort="name"),
        ListColumn("type", "类型", sort="type"),
        ListColumn("region.name", "所属区划", sort="region__path"),
        ListColumn("is_active", "启用"),
    )


class EnterpriseListView(ScopedListView):
    model = Enterprise
    title = "企业"
    default_sort = "name"
    export_name = "企业"
    search_fields = ("name", "uscc")
    columns = (
        ListColumn("uscc", "统一社会信用代码", sort="uscc"),
        ListColumn("name", "企业名称", sort="name"),
        ListColumn("industry_code", "行业代码", sort="industry_code"),
        ListColumn("region.name", "所属区划", sort="region__path"),
        ListColumn("size", "规模", sort="size"),
        ListColumn("contact_name", "联系人"),
        ListColumn("contact_phone", "联系电话", render=lambda e: mask_phone(e.contact_phone)),
    )
