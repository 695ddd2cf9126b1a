"""The work queue (待办) on each role's home page: what waits for the user, from every app, with
counts, the nearest deadline and a link to the list filtered to exactly those items; and the
role's key figures (关键指标).

Core imports no domain app, so each app declares its own in its ``AppConfig``::

    work_queues = "sizhen.work_tasks.selectors.WORK_QUEUES"  # a sequence of Queue
    key_figures = "sizhen.work_tasks.selectors.key_figures"  # (actor, today) -> [KeyFigure]
    home_panels = "sizhen.thinktank.selectors.home_panels"  # (actor, today) -> [HomePanel]

(either may be a tuple of such paths).
A ``Queue`` selects its items through the app's own scoped selector; the app's list page offers
the same selection as its "我的待办" filter (``QueueFilter``, ``?queue=<key>``), so the count on
the home page and the rows behind its link come from one query and cannot disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters
from django.apps import apps
from django.db.models import Count, Min, Q, QuerySet
from django.urls import reverse
from django.utils.module_loading import import_string

from sizhen.core.access import Actor, role_of


@dataclass(frozen=True)
class Queue:
    """One kind of waiting work, e.g. the tasks my unit has to sign for (待签收)."""

    key: str
    label: str
    #: The module it belongs to, as the menu names it ("工作任务").
    module: str
    #: The roles whose home page lists it (who acts on it; a stand-in role does not).
    roles: frozenset[str]
    #: actor -> the waiting items, already within the actor's scope.
    select: Callable[[Any], QuerySet[Any]]
    #: The list page; the home page links to it with ``?queue=<key>``.
    url_name: str
    #: The date field that holds each item's deadline; "" when the items have none.
    deadline: str = "deadline"
    #: The list's own filters that select the same items, instead of ``queue=<key>``.
    query: str = ""

    @property
    def ident(self) -> str:
        """Unique across apps (keys repeat: several apps have a "review"), e.g.
        "work_tasks-review"."""
        return f"{self.url_name.split(':')[0]}-{self.key}"

    def url(self) -> str:
        return f"{reverse(self.url_name)}?{self.query or f'queue={self.key}'}"


@dataclass(frozen=True)
class QueueItem:
    """A queue as the home page shows it: its count, nearest deadline and overdue count."""

    ident: str
    label: str
    module: str
    count: int
    url: str
    nearest_deadline: dt.date | None = None
    overdue: int = 0


@dataclass(frozen=True)
class KeyFigure:
    """One of the role's key figures (关键指标): a value already formatted as pages show it."""

    key: str
    label: str
    value: str
    unit: str = ""
    note: str = ""
    url: str = ""
    #: "good", "bad" or "" (colours the figure).
    tone: str = ""


@dataclass(frozen=True)
class HomePanel:
    """A block of the home page that an app fills for the viewer (an enterprise's policies):
    rows of (text, link, note), with a link to the whole list."""

    key: str
    title: str
    rows: Sequence[tuple[str, str, str]]
    more_url: str = ""
    more_label: str = "全部"
    empty: str = ""


def count_queue(queue: Queue, actor: Actor, today: dt.date) -> QueueItem:
    """One aggregate query: how many items, the nearest deadline, how many past it."""
    aggregates: dict[str, Any] = {"count": Count("pk")}
    if queue.deadline:
        aggregates["nearest"] = Min(queue.deadline)
        aggregates["overdue"] = Count("pk", filter=Q(**{f"{queue.deadline}__lt": today}))
    figures = queue.select(actor).order_by().aggregate(**aggregates)
    return QueueItem(
        ident=queue.ident,
        label=queue.label,
        module=queue.module,
        count=figures["count"],
        url=queue.url(),
        nearest_deadline=figures.get("nearest"),
        overdue=figures.get("overdue") or 0,
    )


def _declared(attribute: str) -> list[Any]:
    """What the installed apps declare under ``attribute`` (a dotted path, or several), in the
    order of ``INSTALLED_APPS``."""
    found = []
    for config in apps.get_app_configs():
        paths = getattr(config, attribute, ())
        for path in [paths] if isinstance(paths, str) else paths:
            found.append(import_string(path))
    return found


def queues_for(actor: Actor) -> list[Queue]:
    role = role_of(actor)
    return [q for queues in _declared("work_queues") for q in queues if role in q.roles]


def work_queue(actor: Actor, today: dt.date) -> list[QueueItem]:
    """The actor's waiting work: every queue of their role that holds something."""
    items = (count_queue(queue, actor, today) for queue in queues_for(actor))
    return [item for item in items if item.count]


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    return [figure for provider in _declared("key_figures") for figure in provider(actor, today)]


def home_panels(actor: Actor, today: dt.date) -> list[HomePanel]:
    """The blocks the installed apps show this actor (``home_panels`` in their ``AppConfig``)."""
    return [panel for provider in _declared("home_panels") for panel in provider(actor, today)]


class QueueFilter(django_filters.ChoiceFilter):
    """A list page's "我的待办" filter: ``?queue=<key>`` keeps the items of that queue, as the
    home page counted them (the queue's own selection, for the user viewing the list)."""

    def __init__(self, queues: Sequence[Queue], **kwargs: Any) -> None:
        self.queues = {q.key: q for q in queues}
        kwargs.setdefault("label", "我的待办")
        kwargs.setdefault("empty_label", "全部")
        super().__init__(choices=[(q.key, q.label) for q in queues], **kwargs)

    @property
    def field(self) -> Any:
        # Offer the queues of the viewer's role and those behind key figures (which name no
        # role); the one asked for is always valid, so a link shared with someone else works.
        if not hasattr(self, "_field"):
            parent = self.parent
            role = role_of(getattr(getattr(parent, "request", None), "user", None))
            asked = parent.data.get(self.field_name) if parent is not None else None
            self.extra["choices"] = [
                (q.key, q.label)
                for q in self.queues.values()
                if not q.roles or role in q.roles or q.key == asked
            ]
        return super().field

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        queue = self.queues.get(value)
        if queue is None:
            return qs
        actor = getattr(self.parent.request, "user", None)
        return qs.filter(pk__in=queue.select(actor).values("pk"))
