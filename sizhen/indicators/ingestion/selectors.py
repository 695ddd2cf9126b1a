"""Reads for data loads (数据接入): dataset freshness, scoped batches and quarantined rows.

Freshness is computed from the load batches in the app database; no page opens the analytical
store (only the worker writes it; the worker's alert scan reads it through
``list_open_late_records``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import ibis
from django.db.models import Count, F, Max, QuerySet, Sum
from django.utils import timezone

from sizhen.core.access import CHANGE, VIEW, Actor
from sizhen.core.xlsx import build_workbook
from sizhen.indicators.catalogue import completeness
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.choices import LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.compile import compile_open_late
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS, DEFINITIONS_BY_INDICATOR
from sizhen.indicators.ingestion.models import (
    Dataset,
    LoadBatch,
    QuarantineRow,
    RecordExtract,
)
from sizhen.organisations.models import Region

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Freshness:
    """How current a source is (数据时效): its last committed load and the lag since."""

    dataset: Dataset
    last_load_at: dt.datetime | None
    last_batch_id: int | None
    rows_last_load: int
    rows_loaded: int
    loads: int
    lag_days: int | None

    @property
    def stale_after_days(self) -> int:
        return self.dataset.stale_after_days

    @property
    def stale(self) -> bool:
        return self.lag_days is None or self.lag_days > self.dataset.stale_after_days

    @property
    def state_label(self) -> str:
        if self.last_load_at is None:
            return "从未入库"
        return "数据陈旧" if self.stale else "正常"

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.code,
            "last_load_at": self.last_load_at,
            "last_batch_id": self.last_batch_id,
            "rows_last_load": self.rows_last_load,
            "rows_loaded": self.rows_loaded,
            "loads": self.loads,
            "lag_days": self.lag_days,
            "stale": self.stale,
            "stale_after_days": self.stale_after_days,
        }


@dataclass(frozen=True)
class SourceFreshness:
    """Freshness of one department's contributions to a dataset."""

    department_name: str
    last_load_at: dt.datetime | None
    rows_loaded: int
    loads: int
    lag_days: int | None
    stale: bool


def _committed(qs: QuerySet[LoadBatch] | None = None) -> QuerySet[LoadBatch]:
    base = qs if qs is not None else LoadBatch.objects.all()
    return base.filter(status=LoadStatus.LOADED, dry_run=False, finished_at__isnull=False)


def _lag_days(last: dt.datetime | None, now: dt.datetime) -> int | None:
    if last is None:
        return None
    return max(0, (timezone.localdate(now) - timezone.localdate(last)).days)


def list_dataset_freshness(
    datasets: list[Dataset] | QuerySet[Dataset], *, now: dt.datetime | None = None
) -> list[Freshness]:
    """One ``Freshness`` per dataset, in the order given; two queries whatever the count."""
    now = now or timezone.now()
    datasets = list(datasets)
    totals: dict[int, dict[str, Any]] = {
        row["dataset_id"]: dict(row)
        for row in _committed()
        .filter(dataset__in=datasets)
        .values("dataset_id")
        .annotate(
            last=Max("finished_at"),
            rows=Sum(F("imported") + F("updated")),
            loads=Count("id"),
        )
    }
    latest: dict[int, LoadBatch] = {}
    for batch in (
        _committed()
        .filter(dataset__in=datasets)
        .order_by("dataset_id", "-finished_at", "-id")
        .only("id", "dataset_id", "finished_at", "rows_total", "rejected")
    ):
        latest.setdefault(batch.dataset_id, batch)
    out = []
    for dataset in datasets:
        total = totals.get(dataset.pk, {})
        last = latest.get(dataset.pk)
        out.append(
            Freshness(
                dataset=dataset,
                last_load_at=last.finished_at if last else None,
                last_batch_id=last.pk if last else None,
                rows_last_load=(last.rows_total - last.rejected) if last else 0,
                rows_loaded=int(total.get("rows") or 0),
                loads=int(total.get("loads") or 0),
                lag_days=_lag_days(last.finished_at if last else None, now),
            )
        )
    return out


def get_dataset_freshness(dataset: Dataset, *, now: dt.datetime | None = None) -> Freshness:
    return list_dataset_freshness([dataset], now=now)[0]


def list_source_freshness(
    dataset: Dataset, actor: Actor, *, now: dt.datetime | None = None
) -> list[SourceFreshness]:
    """Per sending department, limited to the batches the actor may see."""
    now = now or timezone.now()
    rows = (
        _committed(LoadBatch.objects.visible_to(actor, VIEW))
        .filter(dataset=dataset)
        .values("department__name")
        .annotate(
            last=Max("finished_at"),
            rows=Sum(F("imported") + F("updated")),
            loads=Count("id"),
        )
        .order_by("department__name")
    )
    out = []
    for row in rows:
        lag = _lag_days(row["last"], now)
        out.append(
            SourceFreshness(
                department_name=row["department__name"] or "系统（命令行导入）",
                last_load_at=row["last"],
                rows_loaded=int(row["rows"] or 0),
                loads=int(row["loads"]),
                lag_days=lag,
                stale=lag is None or lag > dataset.stale_after_days,
            )
        )
    return out


def list_visible_datasets(actor: Actor) -> QuerySet[Dataset]:
    return Dataset.objects.visible_to(actor, VIEW).order_by("code")


def list_quarantine(actor: Actor, dataset: Dataset, *, status: str = QuarantineStatus.OPEN) -> Any:
    """Quarantined rows of the batches the actor may change (隔离区)."""
    return (
        QuarantineRow.objects.filter(
            dataset=dataset,
            status=status,
            batch__in=LoadBatch.objects.visible_to(actor, CHANGE).values("pk"),
        )
        .select_related("batch")
        .order_by("batch_id", "row", "pk")
    )


__all__ = [
    "Freshness",
    "SourceFreshness",
    "get_dataset_freshness",
    "list_dataset_freshness",
    "list_quarantine",
    "list_source_freshness",
    "list_visible_datasets",
]


@dataclass(frozen=True)
class OpenLateRecord:
    """A record still open beyond its time limit (e.g. an overdue case, 办件超期): the asked
    fields and by how much (in the definition's duration unit) it exceeds the limit."""

    fields: dict[str, Any]
    overdue: int


def list_open_late_records(
    indicator_code: str, as_of: dt.date, *, fields: Sequence[str]
) -> list[OpenLateRecord] | None:
    """The records that the indicator's definition will judge late and that were still open at
    the end of ``as_of`` (``engine.compile.compile_open_late``: the statuses and the duration
    rule are the definition's). For the worker only: it opens the analytical store (never
    creating it). None when the store cannot answer now: no store, no records of the dataset,
    a calendar that does not reach ``as_of``, or the store busy."""
    definition = DEFINITIONS_BY_INDICATOR[indicator_code]
    if not store.store_path().exists():
        return None
    try:
        with store.open_store() as con:
            if not store.has_table(con, f"records_{definition['dataset']}"):
                return None
            covered = con.execute(
                "SELECT count(*) FROM dim_calendar WHERE date = ?", [as_of]
            ).fetchall()
            if not covered or not covered[0][0]:
                return None
            backend = ibis.duckdb.from_connection(con)
            table = compile_open_late(backend, definition, as_of=as_of)
            rows = table.select(*fields, "overdue").to_pyarrow().to_pylist()
    except store.StoreBusy:
        logger.warning("analytical store busy; open late records of %s not read", indicator_code)
        return None
    return [
        OpenLateRecord({name: row[name] for name in fields}, int(row["overdue"])) for row in rows
    ]


def complete_records_periods(
    asks: list[completeness.Ask], region: Region, today: dt.date
) -> set[tuple[int, dt.date]]:
    """The records rule of ``catalogue.completeness``: the dataset's watermark of the
    definition's period field has reached the period's last day and the grace has passed. A leaf
    with no definition counts once it has a value."""
    defined = [(leaf, day) for leaf, day in asks if leaf.code in DEFINITIONS_BY_INDICATOR]
    codes = {DEFINITIONS_BY_INDICATOR[leaf.code]["dataset"] for leaf, _ in defined}
    marks = dict(Dataset.objects.filter(code__in=codes).values_list("code", "watermarks"))
    complete = completeness.present_values(
        [ask for ask in asks if ask[0].code not in DEFINITIONS_BY_INDICATOR], region
    )
    for leaf, day in defined:
        definition = DEFINITIONS_BY_INDICATOR[leaf.code]
        text = (marks.get(definition["dataset"]) or {}).get(definition["period_field"])
        watermark = dt.date.fromisoformat(text) if text else None
        if completeness.reported_through(watermark, day, leaf.frequency, today):
            complete.add((leaf.pk, day))
    return complete


completeness.register_leaf_check(SourceKind.RECORDS, complete_records_periods)


def list_indicator_codes_for_dataset(dataset_code: str) -> list[str]:
    """Codes of the indicators computed from a dataset's records, in definition order."""
    return [d["indicator"] for d in DEFINITIONS if d["dataset"] == dataset_code]


@dataclass(frozen=True)
class DrillSource:
    """Where an indicator's records are: its dataset, the date field that assigns a record to
    a period, and the definition's row filter (口径)."""

    dataset: str
    period_field: str
    filters: tuple[tuple[str, str, Any], ...]


def drill_source(indicator: Indicator) -> DrillSource | None:
    """None for indicators not computed from records (filled in, surveyed, composite)."""
    definition = DEFINITIONS_BY_INDICATOR.get(indicator.code)
    if definition is None:
        return None
    filters = tuple(tuple(f) for f in definition.get("filter", []))
    return DrillSource(definition["dataset"], definition["period_field"], filters)


def drillable_regions(actor: Actor) -> Any:
    """Regions whose records the actor may open: their own subtree only. A district officer
    sees the city figure on the indicator page, but never the city's records, which include
    every other district's."""
    from sizhen.core.access import region_scope_q

    return Region.objects.filter(region_scope_q(actor, "path"))


def get_latest_extract(
    indicator: Indicator, region: Region, period: dt.date, *, actor: Actor
) -> RecordExtract | None:
    return (
        RecordExtract.objects.visible_to(actor, VIEW)
        .filter(indicator=indicator, region=region, period=period)
        .select_related("job")
        .order_by("-requested_at", "-pk")
        .first()
    )


def extract_workbook(extract: RecordExtract) -> bytes:
    headers = [label for _, label in extract.columns]
    return build_workbook([("明细记录", headers, extract.rows)])


# --- for the data-asset catalogue and its extracts (sizhen/assets) ---------------------------


#: The analytical store is held by another process (a load): the caller's job retries later.
StoreBusy = store.StoreBusy


def dataset_of_indicators() -> dict[str, str]:
    """Indicator code -> the dataset whose records its definition reads (records indicators)."""
    return {d["indicator"]: d["dataset"] for d in DEFINITIONS}


def definition_of(indicator_code: str) -> dict[str, Any] | None:
    """The engine's definition (口径) of a records indicator, as data (read-only)."""
    return DEFINITIONS_BY_INDICATOR.get(indicator_code)


def dataset_period_field(dataset: Dataset) -> str | None:
    """The date field that assigns the dataset's records to a period: the one most of its
    definitions use, else the first field its watermarks track, else its first date field."""
    counts: dict[str, int] = {}
    for d in DEFINITIONS:
        if d["dataset"] == dataset.code:
            counts[d["period_field"]] = counts.get(d["period_field"], 0) + 1
    if counts:
        return max(counts, key=lambda name: counts[name])
    if dataset.watermarks:
        return next(iter(dataset.watermarks))
    for spec in dataset.schema().fields:
        if spec.get("type") in ("date", "datetime"):
            return str(spec["name"])
    return None


@contextmanager
def dataset_records(
    dataset: Dataset,
    *,
    region_codes: list[str],
    start: dt.date,
    end: dt.date,
    fields: list[str],
    unmasked: bool,
) -> Iterator[Any]:
    """The records of a dataset for an extract, streamed from the analytical store (the worker
    only: the store takes a file lock). Yields an ``extracts.RecordStream``."""
    from sizhen.indicators.ingestion import extracts

    with store.open_store() as con:
        yield extracts.stream_records(
            con,
            dataset,
            region_codes=region_codes,
            period_field=dataset_period_field(dataset),
            start=start,
            end=end,
            fields=fields,
            unmasked=unmasked,
        )


def personal_field_kind(name: str, label: str) -> str:
    """ "phone", "id", "name" or "" (``extracts.field_kind``), for pages that mark the fields an
    extract masks."""
    from sizhen.indicators.ingestion import extracts

    return extracts.field_kind(name, label)
