"""The monthly supervision report (督办月报) as DOCX: a summary, a chart of completion by
district (matplotlib), and tables by unit and by source plus the open overdue tasks."""

from __future__ import annotations

import datetime as dt
import io

from docx.shared import Cm
from matplotlib.figure import Figure

from sizhen.core.access import Actor
from sizhen.core.documents import chart_font, docx_bytes, docx_table, new_docx
from sizhen.core.periods import Period
from sizhen.work_tasks.selectors import StatRow, overdue_assignments, statistics

STAT_HEADERS = ["单位", "任务数", "提前", "按期", "逾期完成", "在办", "逾期未完成", "按期完成率"]


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _stat_cells(row: StatRow) -> list[str]:
    return [
        row.label,
        str(row.total),
        str(row.early),
        str(row.on_time),
        str(row.late),
        str(row.open),
        str(row.overdue_open),
        _rate(row.on_time_rate),
    ]


def district_chart(rows: list[StatRow]) -> bytes:
    font = chart_font()
    figure = Figure(figsize=(7, 3.6), dpi=120)
    axes = figure.subplots()
    labels = [r.label for r in rows] or ["无"]
    series = [
        ("提前", [r.early for r in rows], "#2e7d32"),
        ("按期", [r.on_time for r in rows], "#1976d2"),
        ("逾期完成", [r.late for r in rows], "#f9a825"),
        ("逾期未完成", [r.overdue_open for r in rows], "#c62828"),
    ]
    bottom = [0] * len(rows)
    positions = list(range(len(rows)))
    for name, values, colour in series:
        if rows:
            axes.bar(positions, values, bottom=bottom, label=name, color=colour)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(list(range(len(labels))))
    axes.set_xticklabels(labels, fontproperties=font, rotation=30, ha="right")
    axes.set_title("各县市区任务完成情况", fontproperties=font)
    axes.set_ylabel("任务数", fontproperties=font)
    if rows:
        axes.legend(prop=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def build_monthly_report(actor: Actor, period: Period, *, today: dt.date) -> bytes:
    """The report for ``month``: tasks issued from 1 January to the month's end, in the state
    they are in on ``today`` (or the month's last day, when the report is for a past month,
    open tasks count as overdue by that day)."""
    first, last = period.start, period.end
    year, month = first.year, first.month
    as_of = min(today, last + dt.timedelta(days=1))
    stats = statistics(actor, issued_from=dt.date(year, 1, 1), issued_to=last, today=as_of)
    month_stats = statistics(actor, issued_from=first, issued_to=last, today=as_of)
    document = new_docx(font_size=11)
    document.add_heading(f"工作任务督办月报（{year}年{month}月）", level=1)
    t = stats.total
    document.add_paragraph(
        f"本月下发任务 {month_stats.total.total} 项。{year}年1月1日至{month}月{last.day}日"
        f"共下发任务 {t.total} 项，已完成 {t.completed} 项（提前 {t.early} 项、按期 {t.on_time} 项、"
        f"逾期完成 {t.late} 项），在办 {t.open} 项，其中逾期未完成 {t.overdue_open} 项；"
        f"按期完成率 {_rate(t.on_time_rate)}，逾期完成的平均逾期 "
        f"{'—' if t.average_delay is None else t.average_delay} 个工作日。"
    )
    document.add_picture(io.BytesIO(district_chart(stats.by_district)), width=Cm(15))
    document.add_heading("一、按县市区统计", level=2)
    docx_table(document, STAT_HEADERS, [_stat_cells(r) for r in stats.by_district])
    document.add_heading("二、按承办单位统计", level=2)
    docx_table(document, STAT_HEADERS, [_stat_cells(r) for r in stats.by_department])
    document.add_heading("三、按任务来源统计", level=2)
    docx_table(document, ["来源", *STAT_HEADERS[1:]], [_stat_cells(r) for r in stats.by_source])
    document.add_heading("四、逾期未完成任务", level=2)
    overdue = overdue_assignments(actor, as_of).filter(task__issued_on__lte=last)
    docx_table(
        document,
        ["任务编号", "任务名称", "承办单位", "完成期限", "状态", "挂牌督办"],
        [
            [
                a.task.number,
                a.task.title,
                a.unit_name,
                a.deadline.isoformat(),
                a.get_status_display(),
                "是" if a.listed else "否",
            ]
            for a in overdue.order_by("deadline", "pk")
        ],
    )
    return docx_bytes(document)
