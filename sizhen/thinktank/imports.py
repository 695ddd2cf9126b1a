"""Policy import from XLSX (政策导入): columns by English name or Chinese label, every row
validated first, nothing written unless the whole file is clean (``core.imports.run_import``:
one transaction, one audit event); a row-level report otherwise."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sizhen.core.access import Actor
from sizhen.core.imports import run_import
from sizhen.core.permissions import has_capability
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Region
from sizhen.thinktank.choices import SIZES, Level
from sizhen.thinktank.services import PolicyData, check_industry, create_policies_in_bulk

#: 适用行业 and the other lists: codes separated by 、 or a comma (either width), ; or spaces.
_SPLIT = re.compile(r"[、,，;；\s]+")
_EXAMPLE_TITLE = "示例：关于进一步支持小型微型企业发展的若干措施"
_LEVELS = {**{label: value for value, label in Level.choices}, **{v: v for v in Level.values}}
_LEVELS.update(
    {"省": "provincial", "市": "city", "区": "district", "县": "district", "区县": "district"}
)
_SIZES = {**{label: value for value, label in SIZES.items()}, **{v: v for v in SIZES}}
_SIZES.update({"大": "large", "中": "medium", "小": "small", "微": "micro"})

COLUMNS: tuple[Column, ...] = (
    Column("title", "标题", required=True, help="政策文件标题，最多 300 字", width=40),
    Column("doc_number", "文号", help="如 示政发〔2025〕12号", width=22),
    Column("issuer", "发文机关", required=True, help="如 示范市人民政府办公室", width=24),
    Column("level", "层级", required=True, help="国家、省级、市级、县区级 之一"),
    Column("published_on", "发布日期", help="年-月-日，如 2025-03-18"),
    Column("effective_on", "生效日期", help="年-月-日；不填为发布日期"),
    Column("expires_on", "失效日期", help="年-月-日；长期有效不填"),
    Column("body", "正文", help="政策全文", width=60),
    Column(
        "industries",
        "适用行业",
        help="国民经济行业代码或其前缀（C、C39、C3971），多个用顿号或逗号分隔；不填为不限",
        width=20,
    ),
    Column("sizes", "适用规模", help="大型、中型、小型、微型，多个用顿号分隔；不填为不限"),
    Column("regions", "适用区划", help="区划代码，多个用顿号分隔；含其下级区划；不填为全域"),
    Column("indicators", "关联指标", help="指标编码，多个用顿号分隔"),
    Column("tags", "标签", help="自由标签，多个用顿号分隔"),
)

NOTES = (
    "第一行为列名（中文或英文列名均可），请勿修改；第二行为示例，导入前请删除。标红的列为必填。"
    "每一行登记一项政策；任何一行有错误时整个文件都不会导入，请按错误报告修改后重新上传。"
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value: Any) -> dt.date | None:
    if value is None or _text(value) == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if 1949 <= day.year <= 2100:
            return day
    raise ValueError(text)


def _items(value: Any) -> list[str]:
    return [item for item in _SPLIT.split(_text(value)) if item]


def _validate(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> PolicyData | None:
    labels = {c.key: c.label for c in COLUMNS}
    failed = False

    def error(key: str, code: str, message: str) -> None:
        nonlocal failed
        failed = True
        report.add(number, labels[key], code, message)

    title = _text(record.get("title"))
    if not title:
        error("title", "required", "请填写标题")
    elif len(title) > 300:
        error("title", "too_long", f"标题最多 300 字，当前 {len(title)} 字")
    elif title == _EXAMPLE_TITLE:
        error("title", "example_row", "这是模板中的示例行，请删除后再导入")
    issuer = _text(record.get("issuer"))
    if not issuer:
        error("issuer", "required", "请填写发文机关")
    elif len(issuer) > 200:
        error("issuer", "too_long", "发文机关最多 200 字")
    doc_number = _text(record.get("doc_number"))
    if len(doc_number) > 100:
        error("doc_number", "too_long", "文号最多 100 字")
    level_text = _text(record.get("level"))
    level = _LEVELS.get(level_text) or _LEVELS.get(level_text.removesuffix("级"))
    if level is None:
        error(
            "level",
            "unknown_level",
            f"层级应为 {'、'.join(Level.labels)} 之一（当前值：{level_text or '空'}）",
        )
    dates: dict[str, dt.date | None] = {}
    for key in ("published_on", "effective_on", "expires_on"):
        try:
            dates[key] = _date(record.get(key))
        except ValueError:
            dates[key] = None
            error(
                key,
                "invalid_date",
                f"{labels[key]}应为日期，如 2025-03-18（当前值：{_text(record.get(key))}）",
            )
    if dates["effective_on"] is None and not failed:
        dates["effective_on"] = dates["published_on"]
    if (
        dates["effective_on"]
        and dates["expires_on"]
        and dates["expires_on"] < dates["effective_on"]
    ):
        error("expires_on", "expires_before_effective", "失效日期不能早于生效日期")
    industries = [code.upper() for code in _items(record.get("industries"))]
    for code in industries:
        problem = check_industry(code)
        if problem:
            error("industries", "invalid_industry", problem)
    sizes = []
    for item in _items(record.get("sizes")):
        size = _SIZES.get(item) or _SIZES.get(item.removesuffix("企业"))
        if size is None:
            error("sizes", "unknown_size", f"适用规模 {item} 无效：应为 大型、中型、小型、微型")
        else:
            sizes.append(size)
    regions = []
    for code in _items(record.get("regions")):
        region = ctx["regions"].get(code)
        if region is None:
            error("regions", "unknown_region", f"区划代码 {code} 不存在")
        else:
            regions.append(region)
    indicators = []
    for code in _items(record.get("indicators")):
        indicator = ctx["indicators"].get(code)
        if indicator is None:
            error("indicators", "unknown_indicator", f"指标编码 {code} 不存在")
        else:
            indicators.append(indicator)
    tags = _items(record.get("tags"))
    if failed or level is None:
        return None
    return PolicyData(
        title=title,
        issuer=issuer,
        level=level,
        doc_number=doc_number,
        published_on=dates["published_on"],
        effective_on=dates["effective_on"],
        expires_on=dates["expires_on"],
        body=_text(record.get("body")),
        industries=list(dict.fromkeys(industries)),
        sizes=list(dict.fromkeys(sizes)),
        regions=list(dict.fromkeys(regions)),
        indicators=list(dict.fromkeys(indicators)),
        tags=list(dict.fromkeys(tags)),
    )


def import_policies(
    data: bytes, *, actor: Actor | None, dry_run: bool = False, publish: bool = True
) -> ImportReport:
    """Import policies from an XLSX file (all or nothing); they are published at once unless
    ``publish`` is false (drafts to be checked first). The command runs as the system
    (``actor`` None) and then cannot publish: its policies are drafts."""
    if actor is not None and not has_capability(actor, "policy.manage"):
        report = ImportReport()
        report.fatal = "只有营商办可以导入政策"
        return report

    def save(rows: list[PolicyData], report: ImportReport, who: Actor | None) -> None:
        create_policies_in_bulk(rows, actor=who, publish=publish and who is not None)
        report.created = len(rows)

    spec = ImportSpec(
        columns=COLUMNS,
        validate=_validate,
        save=save,
        unique_key=lambda row: (row.doc_number or row.title, row.issuer),
        unique_label="文号",
    )
    context = {
        "regions": {r.code: r for r in Region.objects.filter(is_active=True)},
        "indicators": {i.code: i for i in Indicator.objects.all()},
    }
    report = run_import(
        spec, data, actor=actor, action="policy.import", dry_run=dry_run, context=context
    )
    if dry_run and report.ok:
        report.created = report.total
    return report


def import_template() -> bytes:
    region = Region.objects.filter(parent__isnull=True).values_list("code", flat=True).first()
    example = [
        _EXAMPLE_TITLE,
        "示政办发〔2025〕12号",
        "示范市人民政府办公室",
        "市级",
        "2025-03-18",
        "2025-04-01",
        "2027-12-31",
        "为进一步支持小型微型企业发展，现提出如下措施……",
        "C、I65",
        "小型、微型",
        region or "",
        "",
        "小微企业、融资",
    ]
    return template_workbook(COLUMNS, example, NOTES)
