"""The one generic list page: scoped, filtered, searched, sorted, paged, exported to XLSX.

Every list page of every module is a ``ScopedListView`` subclass, so scoping, masking of
personal data, export auditing and the page shape are the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.views import View

from sizhen.core.access import EXPORT, VIEW, require_role
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.xlsx import build_workbook, xlsx_response

MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class ListColumn:
    key: str
    label: str
    #: the ORM field to order by when this column is clicked; None = not sortable
    sort: str | None = None
    #: turns the raw value into what is shown and exported (masking goes here)
    render: Callable[[Any], Any] | None = None
    #: a link for the cell: obj -> url
    link: Callable[[Any], str] | None = None

    def value(self, obj: Any) -> Any:
        if self.render is not None:
            return self.render(obj)
        value: Any = obj
        for part in self.key.split("."):
            if value is None:
                return ""
            display = getattr(value, f"get_{part}_display", None)
            value = display() if callable(display) else getattr(value, part)
        if isinstance(value, bool):
            return "是" if value else "否"
        return "" if value is None else value


@dataclass(frozen=True)
class PageAction:
    label: str
    url: str
    style: str = "secondary"


class ScopedListView(LoginRequiredMixin, View):
    request: AuthenticatedRequest
    model: ClassVar[Any]
    title: ClassVar[str] = ""
    columns: ClassVar[Sequence[ListColumn]] = ()
    filterset_class: ClassVar[Any] = None
    search_fields: ClassVar[Sequence[str]] = ()
    search_placeholder: ClassVar[str] = "搜索"
    default_sort: ClassVar[str] = ""
    paginate_by: ClassVar[int] = 25
    export_name: ClassVar[str] = ""
    #: roles that may open the page at all; None = every logged-in role (scope still applies)
    roles: ClassVar[frozenset[str] | None] = None
    template_name: ClassVar[str] = "core/list.html"

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user, action)

    def page_actions(self) -> list[PageAction]:
        return []

    def get(self, request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.roles is not None:
            require_role(request.user, *self.roles, target=self.title)
        exporting = request.GET.get("export") == "xlsx" and bool(self.export_name)
        qs = self.base_queryset(EXPORT if exporting else VIEW)
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET, queryset=qs, request=request)
            qs = filterset.qs if filterset.is_valid() else qs.none()
        search = request.GET.get("q", "").strip()[:100]
        if search and self.search_fields:
            qs = self.search(qs, search)
        sort_keys = {c.sort: c for c in self.columns if c.sort}
        sort = request.GET.get("sort", "")
        bare = sort.lstrip("-")
        if bare in sort_keys:
            qs = qs.order_by(sort, "pk")
        elif self.default_sort:
            qs = qs.order_by(self.default_sort, "pk")
            sort = ""
        if exporting:
            return self.export(qs)
        paginator = Paginator(qs, self.paginate_by)
        page = paginator.get_page(request.GET.get("page"))
        rows = [
            [
                (column.value(obj), column.link(obj) if column.link else "")
                for column in self.columns
            ]
            for obj in page.object_list
        ]
        query = request.GET.copy()
        query.pop("page", None)
        export_query = query.copy()
        export_query["export"] = "xlsx"
        sort_query = query.copy()
        sort_query.pop("sort", None)
        return render(
            request,
            self.template_name,
            {
                "title": self.title,
                "columns": self.columns,
                "rows": rows,
                "page": page,
                "filterset": filterset,
                "search": search,
                "search_enabled": bool(self.search_fields),
                "search_placeholder": self.search_placeholder,
                "sort": sort,
                "query": query.urlencode(),
                "sort_query": sort_query.urlencode(),
                "export_url": f"?{export_query.urlencode()}" if self.export_name else "",
                "actions": self.page_actions(),
                **self.extra_context(),
            },
        )

    def search(self, qs: QuerySet[Any], text: str) -> QuerySet[Any]:
        """The rows the search box keeps: any search field containing the text. A list with a
        full-text index of its own (the policy library) answers from it instead."""
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": text})
        return qs.filter(condition)

    def extra_context(self) -> dict[str, Any]:
        return {}

    def export(self, qs: QuerySet[Any]) -> HttpResponse:
        total = qs.count()
        rows = (
            [column.value(obj) for column in self.columns]
            for obj in qs[:MAX_EXPORT_ROWS].iterator(chunk_size=2000)
        )
        content = build_workbook([(self.title, [c.label for c in self.columns], rows)])
        record_event(
            "export.xlsx",
            actor=self.request.user,
            object_type=self.model._meta.label_lower,
            message=f"导出“{self.title}” {min(total, MAX_EXPORT_ROWS)} 行",
            after={"query": self.request.GET.urlencode(), "rows": min(total, MAX_EXPORT_ROWS)},
        )
        return xlsx_response(content, self.export_name)
