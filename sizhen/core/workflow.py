"""The one workflow engine. Each stateful model declares a ``Workflow`` (its transition table)
in its app's ``workflow.py``; ``execute_transition`` is the only code that changes its state.

The engine locks the row (``select_for_update``; on SQLite the IMMEDIATE transaction mode takes
the write lock), re-reads the state, refuses to leave a terminal state, checks the role and the
guard, updates conditionally on the state the caller saw, and writes one history row and one
audit event. Two simultaneous transitions of one object: one wins, the other gets
``TransitionConflict``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models, transaction
from django.dispatch import Signal

from sizhen.core.access import Actor, role_of
from sizhen.core.audit import actor_fields, event_fields, jsonable, record_event
from sizhen.core.errors import ServiceError
from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.sql import update_rows

#: Sent inside the transaction after objects of one model changed state (``sender``: the model,
#: ``objects``: them, ``action``), by both ``execute_transition`` and ``execute_transitions``.
#: Transitions write with ``update()``, which sends no ``post_save``: this is the hook for what
#: depends on states (the versions of cached figures, ``indicators.catalogue.changes``).
transitioned = Signal()


class WorkflowError(ServiceError):
    """A transition that may not happen; the message is shown to the user (Chinese)."""


class TransitionNotAllowed(WorkflowError):
    pass


class TransitionConflict(WorkflowError):
    """Someone else changed the object first."""

    code = "conflict"
    status_code = 409


#: A guard returns None when the transition may proceed, else the reason (Chinese). It is given
#: the object, the actor (None: the system) and the caller's context.
Guard = Callable[[Any, Actor | None, dict[str, Any]], str | None]

_M = TypeVar("_M", bound=models.Model)


@dataclass(frozen=True)
class Transition:
    action: str
    source: tuple[str, ...]
    target: str
    label: str
    roles: frozenset[str] | None = None
    guard: Guard | None = None
    #: The actor must give a reason (e.g. for a return or a cancellation); it goes to history.
    note_required: bool = False


@dataclass
class Workflow:
    name: str
    states: dict[str, str]
    initial: str
    terminal: frozenset[str]
    transitions: list[Transition]
    state_field: str = "status"
    _by_action: dict[str, list[Transition]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        # A malformed table is a programming error: fail at import time, not on a user's click.
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")
        unknown_terminal = set(self.terminal) - set(self.states)
        if unknown_terminal:
            raise ValueError(f"{self.name}: unknown terminal states {sorted(unknown_terminal)}")
        for t in self.transitions:
            unknown = {*t.source, t.target} - set(self.states)
            if unknown:
                raise ValueError(f"{self.name}.{t.action}: unknown states {sorted(unknown)}")
            if not t.source:
                raise ValueError(f"{self.name}.{t.action}: no source state")
            if set(t.source) & self.terminal:
                raise ValueError(f"{self.name}.{t.action}: leaves a terminal state")
            for other in self._by_action.get(t.action, []):
                overlap = set(other.source) & set(t.source)
                if overlap:
                    raise ValueError(
                        f"{self.name}.{t.action}: ambiguous from states {sorted(overlap)}"
                    )
            self._by_action.setdefault(t.action, []).append(t)

    def state_label(self, state: str) -> str:
        return self.states.get(state, state)

    def find(self, action: str, state: str) -> Transition | None:
        for t in self._by_action.get(action, []):
            if state in t.source:
                return t
        return None

    def actions(self) -> Iterable[str]:
        return self._by_action.keys()

    def available(
        self, obj: Any, actor: Actor | None, context: dict[str, Any] | None = None
    ) -> list[Transition]:
        """Transitions the actor could take now (for buttons); the engine re-checks on execution."""
        state = getattr(obj, self.state_field)
        result = []
        for t in self.transitions:
            if state not in t.source:
                continue
            if t.roles is not None and role_of(actor) not in t.roles:
                continue
            if t.guard is not None and t.guard(obj, actor, context or {}) is not None:
                continue
            result.append(t)
        return result


def workflow_of(model: type[models.Model]) -> Workflow:
    """The transition table a stateful model declares (``workflow = ...`` on the class)."""
    wf = getattr(model, "workflow", None)
    if not isinstance(wf, Workflow):
        raise TypeError(f"{model.__name__} declares no workflow")
    return wf


def execute_transition(
    obj: _M,
    action: str,
    *,
    actor: Actor | None,
    note: str = "",
    changes: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    workflow: Workflow | None = None,
) -> _M:
    """Run ``action`` on ``obj``. ``obj`` carries the state the caller saw; if it moved in the
    meantime the call fails with ``TransitionConflict`` rather than acting on stale intent."""
    wf = workflow or workflow_of(type(obj))
    model = type(obj)
    if changes and ({wf.state_field, "version"} & set(changes)):
        # The state moves only by the table; letting ``changes`` set it would bypass it.
        raise ValueError("changes may not set the state or the version")
    seen_state = getattr(obj, wf.state_field)
    ctx = dict(context or {})
    with transaction.atomic():
        locked = model._default_manager.select_for_update().get(pk=obj.pk)
        current = getattr(locked, wf.state_field)
        t = _allowed(wf, locked, seen_state, action, actor, note, ctx)
        updates = {wf.state_field: t.target, **(changes or {})}
        if hasattr(locked, "version"):
            updates["version"] = models.F("version") + 1
        rows = model._default_manager.filter(pk=obj.pk, **{wf.state_field: current}).update(
            **updates
        )
        if rows != 1:  # pragma: no cover - the row lock makes this unreachable; kept as a belt
            raise TransitionConflict("该记录已被他人处理，请刷新后重试")
        recorded = dict(changes or {})
        # A change given as an expression (``F("count") + 1``) is recorded as the value it wrote.
        computed = [k for k, v in recorded.items() if hasattr(v, "resolve_expression")]
        if computed:
            recorded.update(model._default_manager.filter(pk=obj.pk).values(*computed).get())
        _history_row(obj, wf, t, current, actor_fields(actor), note, ctx).save()
        record_event(
            f"{wf.name}.{t.action}",
            actor=actor,
            obj=locked,
            before={wf.state_field: current},
            after={wf.state_field: t.target, **recorded},
            message=note,
        )
        transitioned.send(sender=model, objects=[locked], action=t.action)
    obj.refresh_from_db()
    return obj


def _history_row(
    obj: models.Model,
    wf: Workflow,
    t: Transition,
    current: str,
    labels: dict[str, Any],
    note: str,
    ctx: dict[str, Any],
) -> TransitionHistory:
    return TransitionHistory(
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        workflow=wf.name,
        action=t.action,
        action_label=t.label,
        from_state=current,
        to_state=t.target,
        actor=labels["actor"],
        actor_label=labels["actor_label"],
        note=note,
        data=jsonable(ctx.get("history_data")),
    )


def _allowed(
    wf: Workflow,
    locked: models.Model,
    seen_state: str,
    action: str,
    actor: Actor | None,
    note: str,
    ctx: dict[str, Any],
) -> Transition:
    """The transition ``action`` takes on the locked row, or why it may not happen."""
    current = getattr(locked, wf.state_field)
    if current != seen_state:
        raise TransitionConflict(
            f"该记录已被他人处理，当前状态为“{wf.state_label(current)}”，请刷新后重试"
        )
    if current in wf.terminal:
        raise TransitionNotAllowed(f"“{wf.state_label(current)}”是终结状态，不能再办理")
    t = wf.find(action, current)
    if t is None:
        raise TransitionNotAllowed(
            f"当前状态“{wf.state_label(current)}”下不能执行该操作（{action}）"
        )
    if t.roles is not None and role_of(actor) not in t.roles:
        raise TransitionNotAllowed(f"您的角色无权执行“{t.label}”")
    if t.note_required and not note.strip():
        raise TransitionNotAllowed(f"“{t.label}”需要填写理由")
    if t.guard is not None:
        reason = t.guard(locked, actor, ctx)
        if reason:
            raise TransitionNotAllowed(reason)
    return t


def execute_transitions(
    objs: Sequence[_M],
    action: str,
    *,
    actor: Actor | None,
    note: str = "",
    changes: Callable[[_M], dict[str, Any]] | None = None,
    context: Callable[[_M], dict[str, Any]] | None = None,
    related: Sequence[str] = (),
) -> list[_M]:
    """Run ``action`` on many objects of one model at once (批量办理), each checked as
    ``execute_transition`` checks it (the state its caller saw, terminal states, the table, the
    role, the reason, the guard), all or nothing. The rows are locked by one query (with the
    ``related`` rows the guards read), written by one statement run per row, and their history
    rows and audit events are inserted together. ``changes`` and ``context`` give each
    object's field changes (plain values) and guard context."""
    if not objs:
        return []
    model = type(objs[0])
    wf = workflow_of(model)
    labels = actor_fields(actor)
    planned = [(obj, dict(changes(obj)) if changes else {}) for obj in objs]
    fields = list(dict.fromkeys(name for _obj, change in planned for name in change))
    if {wf.state_field, "version"} & set(fields) or any(
        hasattr(v, "resolve_expression") for _obj, change in planned for v in change.values()
    ):
        raise ValueError("changes may not set the state or the version, nor be expressions")
    with transaction.atomic():
        rows = model._default_manager.select_for_update().select_related(*related)
        locked = {row.pk: row for row in rows.filter(pk__in=[obj.pk for obj in objs])}
        history, events, written = [], [], []
        for obj, change in planned:
            row = locked.get(obj.pk)
            if row is None:
                raise TransitionConflict("该记录已被删除，请刷新后重试")
            ctx = dict(context(obj)) if context else {}
            current = getattr(obj, wf.state_field)
            t = _allowed(wf, row, current, action, actor, note, ctx)
            setattr(row, wf.state_field, t.target)
            for name, value in change.items():
                setattr(row, name, value)
            if hasattr(row, "version"):
                row.version += 1
            written.append(row)
            history.append(_history_row(obj, wf, t, current, labels, note, ctx))
            events.append(
                AuditEvent(
                    **event_fields(
                        f"{wf.name}.{t.action}",
                        actor=actor,
                        obj=row,
                        before={wf.state_field: current},
                        after={wf.state_field: t.target, **change},
                        message=note,
                    )
                )
            )
        columns = [wf.state_field, *fields, *(["version"] if hasattr(objs[0], "version") else [])]
        update_rows(model, written, columns)
        TransitionHistory.objects.bulk_create(history)
        AuditEvent.objects.bulk_create(events)
        transitioned.send(sender=model, objects=written, action=action)
    for obj, row in zip(objs, written, strict=True):
        for name in columns:
            setattr(obj, name, getattr(row, name))
    return list(objs)


def history_of(obj: models.Model) -> models.QuerySet[TransitionHistory]:
    return TransitionHistory.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("at", "id")
