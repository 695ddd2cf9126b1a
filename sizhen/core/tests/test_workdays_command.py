"""``manage.py workdays``: the calendar from the command line."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from sizhen.core import services
from sizhen.core.models import CalendarDayKind

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("workdays", *args, stdout=out)
    return out.getvalue()


def test_add_prints_the_date_with_its_description() -> None:
    assert run("add", "2025-09-28", "5") == "2025-10-11（星期六，工作日，国庆节调休上班）\n"


def test_add_zero_days() -> None:
    assert run("add", "2025-10-01", "0") == "2025-10-01（星期三，休息日，国庆节）\n"


def test_add_with_same_day_clock() -> None:
    assert run("add", "2025-09-30", "1", "--clock", "same_day") == "2025-09-30（星期二，工作日）\n"
    assert run("add", "2025-09-30", "1", "--clock", "next_day") == "2025-10-09（星期四，工作日）\n"


def test_between_prints_the_count() -> None:
    assert run("between", "2025-09-28", "2025-10-10") == (
        "4 个工作日（2025-09-28 至 2025-10-10，不含起始日，含截止日）\n"
    )
    assert run("between", "2025-10-10", "2025-09-28").startswith("-4 个工作日")


def test_json_output() -> None:
    assert json.loads(run("add", "2025-09-28", "5", "--json")) == {
        "operation": "add",
        "start": "2025-09-28",
        "days": 5,
        "clock_start": "next_day",
        "date": "2025-10-11",
        "weekday": 6,
        "is_workday": True,
        "name": "国庆节调休上班",
        "description": "2025-10-11（星期六，工作日，国庆节调休上班）",
        "provisional": False,
        "provisional_years": [],
    }
    assert json.loads(run("between", "2025-09-28", "2025-10-10", "--json")) == {
        "operation": "between",
        "start": "2025-09-28",
        "end": "2025-10-10",
        "working_days": 4,
        "provisional": False,
        "provisional_years": [],
    }


def test_provisional_years_are_printed() -> None:
    lines = run("add", "2026-12-25", "10").splitlines()
    assert lines[0] == "2027-01-08（星期五，工作日，暂定）"
    assert lines[1].startswith("暂定（provisional）：计算经过的 2027 年尚无官方放假安排")
    lines = run("between", "2027-12-30", "2028-01-04").splitlines()
    assert lines[0].startswith("3 个工作日")
    assert "2027、2028 年" in lines[1]
    payload = json.loads(run("add", "2027-12-30", "3", "--json"))
    assert (payload["date"], payload["provisional"], payload["provisional_years"]) == (
        "2028-01-04",
        True,
        [2027, 2028],
    )


def test_overrides_and_confirmation_cover_a_year(personas: dict[str, Any]) -> None:
    admin = personas["sysadmin"]
    services.set_calendar_day(
        actor=admin, date=dt.date(2027, 1, 1), kind=CalendarDayKind.HOLIDAY, name="元旦"
    )
    services.confirm_calendar_year(actor=admin, year=2027, source="国办发明电〔2026〕7号")
    assert run("add", "2026-12-25", "10") == "2027-01-11（星期一，工作日）\n"
    assert run("add", "2026-12-31", "0") == "2026-12-31（星期四，工作日）\n"
    assert run("add", "2027-01-01", "0") == "2027-01-01（星期五，休息日，元旦）\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "2025-13-01", "5"), "起始日期“2025-13-01”不是有效日期"),
        (("add", "yesterday", "5"), "起始日期“yesterday”不是有效日期"),
        (("add", "2025-09-28", "-1"), "工作日数不能为负数（收到 -1）"),
        (("add", "2025-09-28", "五"), "工作日数“五”不是整数"),
        (("add", "2025-09-28", "1", "--clock", "noon"), "起算规则“noon”无效"),
        (("add", "9999-12-30", "1"), "超出可计算范围"),
        (("add", "2025-01-01", "5000"), "期限超出十年"),
        (("between", "2025-09-28", "2025-02-30"), "截止日期“2025-02-30”不是有效日期"),
        (("between", "2000-01-01", "2020-01-01"), "区间超出十年"),
    ],
)
def test_bad_input_is_a_usage_error(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message) as caught:
        run(*args)
    assert caught.value.returncode == 2


def test_exit_code_from_the_command_line() -> None:
    """The real process: Chinese message on stderr, exit status 2, nothing on stdout."""
    completed = subprocess.run(
        [sys.executable, "manage.py", "workdays", "add", "2025-09-28", "-3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "工作日数不能为负数（收到 -3）" in completed.stderr
