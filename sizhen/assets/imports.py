"""Import of archived evaluation results (历年参评数据导入) from XLSX: every row is validated
first and nothing is written unless the whole file is clean (``core.imports.run_import``: one
transaction, one audit event). A row for a year, region and indicator already archived
replaces it (a corrected sheet is imported again)."""

from __future__ import annotations

from typing import Any

from sizhen.assets.changes import assets_changed
from sizhen.assets.models import EvaluationResult
from sizhen.assets.services import AssetError
from sizhen.core.access import Actor
from sizhen.core.imports import run_import
from sizhen.core.permissions import ensure_capability
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Region

COLUMNS: tuple[Column, ...] = (
    Column("year", "年度", required=True, help="评价年度，如 2025"),
    Column("region_code", "区划代码", required=True, help="参评县市区、园区的区划代码"),
    Column("indicator_code", "指标编码", required=True, help="指标体系中的指标编码，如 BE01"),
    Column("value", "数值", help="指标原始值"),
    Column("score", "得分", help="0–100"),
    Column("rank", "排名", help="正整数"),
    Column("rank_total", "参评数", help="参与排名的区划数"),
    Column("source", "评价来源", help="如 省营商环境评价，最多 100 字"),
)
NOTES = (
    "第一行为列名，请勿修改；第二行为示例，导入前请删除。标红的列为必填。同一年度、区划、指标"
    "只能有一行；已导入过的会被替换。任何一行有错误时整个文件都不会导入。"
)
EXAMPLE = (2025, "449901", "BE01", 1.2, 88.5, 2, 8, "示例：省营商环境评价")


def import_template() -> bytes:
    return template_workbook(COLUMNS, EXAMPLE, NOTES)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(
    key: str, label: str, record: dict[str, Any], report: ImportReport, number: int
) -> tuple[float | None, bool]:
    text = _text(record.get(key))
    if not text:
        return None, True
    try:
        return float(text), True
    except ValueError:
        report.add(number, label, "not_a_number", f"{label}应为数字（当前值：{text}）")
        return None, False


def _validate(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> dict[str, Any] | None:
    labels = {c.key: c.label for c in COLUMNS}
    ok = True
    if _text(record.get("source")).startswith("示例"):
        report.add(number, labels["source"], "example_row", "这是模板中的示例行，请删除后再导入")
        return None
    year_text = _text(record.get("year"))
    year = int(year_text) if year_text.isdigit() else 0
    if not 2000 <= year <= 2100:
        report.add(
            number,
            labels["year"],
            "invalid_year",
            f"年度应为 2000–2100 的整数（当前值：{year_text or '空'}）",
        )
        ok = False
    region = ctx["regions"].get(_text(record.get("region_code")))
    if region is None:
        code = _text(record.get("region_code")) or "（空）"
        report.add(number, labels["region_code"], "unknown_region", f"区划代码 {code} 不存在")
        ok = False
    indicator = ctx["indicators"].get(_text(record.get("indicator_code")))
    if indicator is None:
        code = _text(record.get("indicator_code")) or "（空）"
        report.add(number, labels["indicator_code"], "unknown_indicator", f"指标编码 {code} 不存在")
        ok = False
    values: dict[str, Any] = {}
    for key in ("value", "score", "rank", "rank_total"):
        values[key], good = _number(key, labels[key], record, report, number)
        ok = ok and good
    score = values["score"]
    if score is not None and not 0 <= score <= 100:
        report.add(
            number, labels["score"], "score_range", f"得分应在 0–100 之间（当前值：{score:g}）"
        )
        ok = False
    for key in ("rank", "rank_total"):
        if values[key] is not None:
            if values[key] < 1 or not float(values[key]).is_integer():
                report.add(number, labels[key], "not_positive_integer", f"{labels[key]}应为正整数")
                ok = False
            else:
                values[key] = int(values[key])
    if ok and values["rank"] and values["rank_total"] and values["rank"] > values["rank_total"]:
        report.add(number, labels["rank"], "rank_above_total", "排名不能大于参评数")
        ok = False
    source = _text(record.get("source"))
    if len(source) > 100:
        report.add(number, labels["source"], "too_long", "评价来源最多 100 字")
        ok = False
    if not ok:
        return None
    return {"year": year, "region": region, "indicator": indicator, "source": source, **values}


def _save(rows: list[dict[str, Any]], report: ImportReport, actor: Actor | None) -> None:
    existing = {
        (r.year, r.region_id, r.indicator_id): r
        for r in EvaluationResult.objects.filter(year__in={row["year"] for row in rows})
    }
    new, changed = [], []
    for row in rows:
        current = existing.get((row["year"], row["region"].pk, row["indicator"].pk))
        if current is None:
            new.append(EvaluationResult(**row))
            continue
        fields = ("value", "score", "rank", "rank_total", "source")
        if all(getattr(current, f) == row[f] for f in fields):
            report.unchanged += 1
            continue
        for f in fields:
            setattr(current, f, row[f])
        changed.append(current)
    EvaluationResult.objects.bulk_create(new, batch_size=1000)
    EvaluationResult.objects.bulk_update(
        changed, ["value", "score", "rank", "rank_total", "source"], batch_size=1000
    )
    report.created, report.updated = len(new), len(changed)
    assets_changed()


SPEC = ImportSpec(
    columns=COLUMNS,
    validate=_validate,
    save=_save,
    unique_key=lambda row: f"{row['year']}/{row['region'].code}/{row['indicator'].code}",
    unique_label="年度/区划/指标",
)


def import_results(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Validate (``dry_run``) or import a sheet of evaluation results, all or nothing."""
    ensure_capability(actor, "asset.manage", AssetError("只有营商办可以导入历年参评数据"))
    context = {
        "regions": {r.code: r for r in Region.objects.all()},
        "indicators": {i.code: i for i in Indicator.objects.all()},
    }
    return run_import(
        SPEC, data, actor=actor, action="asset.results_import", dry_run=dry_run, context=context
    )
