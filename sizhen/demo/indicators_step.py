"""Demo steps of the monitoring module: the default indicator catalogue (a database step inside
the demo transaction) and three years of source records loaded through the ingestion path
into the analytical store, then computed and scored (after the transaction)."""

from __future__ import annotations

from typing import Any

from sizhen.core.models import TransitionHistory
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.imports import load_default_catalogue
from sizhen.indicators.catalogue.models import Benchmark, Indicator, IndicatorValue
from sizhen.indicators.filling.models import FillingRound, FillingTask
from sizhen.indicators.ingestion.demo_records import load_demo_records
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.models import LoadBatch, PullSource


def build_catalogue(ctx: Any) -> int:
    report = load_default_catalogue(actor=ctx.actor)
    return len(report.created) if report.created else Indicator.objects.count()


def wipe_indicators(city_path: str) -> None:
    """Everything the monitoring module holds about the demo city (a demo database only)."""
    FillingTask.objects.all().delete()
    FillingRound.objects.all().delete()
    IndicatorValue.objects.all().delete()
    values_changed()
    Benchmark.objects.all().delete()
    TransitionHistory.objects.filter(workflow="filling_task").delete()
    PullSource.objects.all().delete()
    LoadBatch.objects.all().delete()
    for level in sorted(set(Indicator.objects.values_list("level", flat=True)), reverse=True):
        Indicator.objects.filter(level=level).delete()
    with store.open_store() as con:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'records_%'"
        ).fetchall()
        for (name,) in tables:
            con.execute(f"DROP TABLE {store.ident(name)}")
        con.execute("DELETE FROM loads")


def load_records(cases: int) -> dict[str, Any]:
    """The aggregate figures and the districts' filling rounds; the records, their values and
    all the scores (the request rates the load published are re-scored with them); the
    benchmark cities; the rectification verifications frozen again with the computed values;
    then an alert scan of the last twelve months so that the planted problems show up as
    alerts."""
    from sizhen.demo.rectification_step import refresh_reviews
    from sizhen.demo.values_step import (
        import_aggregates,
        import_benchmark_cities,
        run_filling_rounds,
    )
    from sizhen.indicators.ingestion.demo_records import month_starts
    from sizhen.monitoring.scan import scan_indicator_values

    # The imports and the approvals score what they write; the records' computation comes
    # last, so the one full scoring runs once over every value.
    aggregates = import_aggregates()
    filled = run_filling_rounds()
    summary = load_demo_records(cases)
    summary["aggregates"], summary["filled"] = aggregates, filled
    summary["benchmarks"] = import_benchmark_cities()
    refresh_reviews()
    summary["alerts"] = scan_indicator_values(month_starts()[-12:]).as_dict()
    return summary
