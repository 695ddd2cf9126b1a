"""The extract job (数据调取): writes an approved request's file row by row, never holding it in
memory (CSV through csv.writer, XLSX through openpyxl's write-only workbook), within the
requester's region scope, personal data masked unless the request was granted unmasked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from sizhen.assets.choices import ExtractKind
from sizhen.assets.models import ExtractRequest
from sizhen.assets.services import EXTRACT_JOB
from sizhen.assets.workflow import APPROVED, RUNNING
from sizhen.core.access import region_scope_q
from sizhen.core.jobs import JobContext, job
from sizhen.core.workflow import execute_transition
from sizhen.core.xlsx import stream_rows_to_file
from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.indicators.ingestion.selectors import StoreBusy, dataset_records
from sizhen.organisations.models import Region

VALUE_HEADERS = [
    "指标编码",
    "指标名称",
    "区划代码",
    "区划名称",
    "期间",
    "数值",
    "得分",
    "排名",
    "参与排名数",
    "数据来源",
]


def extract_path(request: ExtractRequest) -> Path:
    return Path(settings.MEDIA_ROOT) / "assets" / "extracts" / f"{request.pk}.{request.format}"


def region_codes(request: ExtractRequest) -> list[str]:
    """The requested region's subtree, cut to what the requester may see (a request made
    before a change of their scope yields no more than they may see now)."""
    if request.requested_by is None:
        return []
    return list(
        Region.objects.filter(path__startswith=request.region.path)
        .filter(region_scope_q(request.requested_by, "path"))
        .values_list("code", flat=True)
    )


def value_rows(request: ExtractRequest, codes: list[str]) -> Iterator[list[Any]]:
    indicator = request.indicator
    assert indicator is not None
    qs = (
        IndicatorValue.objects.filter(
            indicator=indicator,
            region__code__in=codes,
            period__gte=request.period_start,
            period__lte=request.period_end,
        )
        .order_by("period", "region__path")
        .values_list(
            "region__code",
            "region__name",
            "period",
            "value",
            "score",
            "rank",
            "rank_total",
            "source_kind",
        )
    )
    for code, name, period, value, score, rank, rank_total, source in qs.iterator(chunk_size=5000):
        yield [
            indicator.code,
            indicator.name,
            code,
            name,
            period.isoformat(),
            value,
            score,
            rank,
            rank_total,
            source,
        ]


@job(EXTRACT_JOB, label="数据调取", max_attempts=3)
def run_extract(ctx: JobContext | None, *, extract_id: int) -> dict[str, Any]:
    """Runs in the worker (records come from the analytical store, which only it opens). Safe
    to re-run: a retry after the store was busy rewrites the file."""
    request = (
        ExtractRequest.objects.select_related("dataset", "indicator", "region", "requested_by")
        .filter(pk=extract_id)
        .first()
    )
    if request is None:  # removed meanwhile (the demo reset): nothing to do
        return {"status": "missing"}
    if request.status == APPROVED:
        request = execute_transition(request, "start", actor=None)
    elif request.status != RUNNING:
        return {"status": request.status}
    path = extract_path(request)
    path.parent.mkdir(parents=True, exist_ok=True)
    codes = region_codes(request)

    def progress(total: int | None) -> Any:
        def report(done: int) -> None:
            if ctx is not None:
                ctx.progress(done, total, f"已写入 {done} 行")

        return report

    try:
        if request.kind == ExtractKind.RECORDS:
            assert request.dataset is not None
            with dataset_records(
                request.dataset,
                region_codes=codes,
                start=request.period_start,
                end=request.period_end,
                fields=list(request.fields),
                unmasked=request.unmasked,
            ) as stream:
                headers = [label for _, label in stream.columns]
                if ctx is not None:
                    ctx.progress(0, stream.matched, "正在写入")
                rows = stream_rows_to_file(
                    path, request.format, headers, stream.rows, progress=progress(stream.matched)
                )
        else:
            rows = stream_rows_to_file(
                path,
                request.format,
                VALUE_HEADERS,
                value_rows(request, codes),
                progress=progress(None),
            )
    except StoreBusy:
        raise  # the job runner retries later; the request stays 生成中
    except Exception as exc:
        # Said on the request (失败) rather than retried: a broken filter fails again.
        message = f"{type(exc).__name__}: {exc}"[:500]
        execute_transition(request, "fail", actor=None, changes={"error": message})
        return {"error": message}
    execute_transition(
        request,
        "finish",
        actor=None,
        changes={
            "file": str(path.relative_to(Path(settings.MEDIA_ROOT))),
            "file_size": path.stat().st_size,
            "row_count": rows,
            "completed_at": timezone.now(),
        },
    )
    if ctx is not None:
        ctx.progress(rows, rows, f"完成，共 {rows} 行")
    return {"rows": rows, "file": path.name}
