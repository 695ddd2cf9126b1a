"""Golden data: a hand-computed set of government-service cases around the 2025 National Day
holiday (10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are make-up working days)."""

from __future__ import annotations

import pytest

from sizhen.indicators.catalogue.changes import values_version
from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.compute import compute
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.models import Dataset

HEADER = (
    "办件编号,事项编码,事项名称,区划代码,实施机构编码,申请人类型,办件来源,申请时间,受理时间,"
    "办结时间,法定时限,承诺时限,跑动次数,办件状态"
)
# working days in (accepted, completed]:
# G1 (09-28 Sun make-up, 10-10] = 09-29, 09-30, 10-09, 10-10 = 4  promised 5 -> on time
# G2 (09-30, 10-11 Sat make-up] = 10-09, 10-10, 10-11 = 3         promised 2 -> late
# G3 (10-09, 10-09] = 0                                            promised 0 -> on time
# G4 (10-10 Fri, 10-13 Mon] = 10-11 (make-up Sat), 10-13 = 2      promised 1 -> late
# G5 still open: excluded
# G6 (10-20, 10-24] = 4                                            promised 3 -> late
ROWS = [
    "G1,I1,设立登记,449901,DH-SCJG,企业,网上,2025-09-28 08:00:00,2025-09-28 09:00:00,2025-10-10 16:00:00,20,5,0,办结",
    "G2,I2,变更登记,449901,DH-SCJG,企业,窗口,2025-09-30 08:00:00,2025-09-30 09:00:00,2025-10-11 11:00:00,10,2,1,办结",
    "G3,I3,食品经营许可,449901,DH-SCJG,个人,移动端,2025-10-09 08:00:00,2025-10-09 09:00:00,2025-10-09 17:00:00,5,0,0,办结",
    "G4,I1,设立登记,449902,XS-SCJG,企业,网上,2025-10-10 08:00:00,2025-10-10 09:00:00,2025-10-13 10:00:00,10,1,1,办结",
    "G5,I1,设立登记,449901,DH-SCJG,企业,网上,2025-10-20 08:00:00,2025-10-20 09:00:00,,20,5,0,受理",
    "G6,I4,施工许可,P449951,DH-SCJG,企业,网上,2025-10-20 08:00:00,2025-10-20 09:00:00,2025-10-24 15:00:00,20,3,0,办结",
]


def _load(tmp_path, rows):
    ensure_builtin_datasets()
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    batch, created = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=path,
        file_name="cases.csv",
        enqueue_job=False,
    )
    assert created
    return loads.run_load(batch.pk)


def _values(code):
    return {
        (v.region.code, v.period.isoformat()): v
        for v in IndicatorValue.objects.filter(
            indicator__code=code, source_kind="records"
        ).select_related("region")
    }


@pytest.mark.django_db
def test_golden_values_every_measure(city, store_dir, tmp_path, government_service_indicators):
    batch = _load(tmp_path, ROWS)
    assert batch.status == LoadStatus.LOADED, batch.message
    assert (batch.imported, batch.updated, batch.ignored, batch.rejected) == (6, 0, 0, 0)
    compute()

    completed = _values("BE15.06")
    assert {k: v.value for k, v in completed.items()} == {
        ("449900", "2025-10-01"): 5.0,
        ("449901", "2025-10-01"): 4.0,
        ("449902", "2025-10-01"): 1.0,
        ("P449951", "2025-10-01"): 1.0,
    }
    on_time = _values("BE15.03")
    # Ratio of sums: the city is 2/5 = 40 %, not the mean of its districts' 50 % and 0 %.
    assert on_time[("449900", "2025-10-01")].value == pytest.approx(40.0)
    assert (
        on_time[("449900", "2025-10-01")].numerator,
        on_time[("449900", "2025-10-01")].denominator,
    ) == (2.0, 5.0)
    assert on_time[("449901", "2025-10-01")].value == pytest.approx(50.0)
    assert on_time[("449902", "2025-10-01")].value == pytest.approx(0.0)
    assert on_time[("P449951", "2025-10-01")].value == pytest.approx(0.0)

    days = _values("BE15.07")
    assert days[("449900", "2025-10-01")].value == pytest.approx(13 / 5)
    assert days[("449901", "2025-10-01")].value == pytest.approx(11 / 4)
    assert days[("449902", "2025-10-01")].value == pytest.approx(2.0)
    assert days[("P449951", "2025-10-01")].value == pytest.approx(4.0)

    online = _values("BE15.01")
    assert online[("449900", "2025-10-01")].value == pytest.approx(60.0)
    assert online[("449901", "2025-10-01")].value == pytest.approx(75.0)
    assert online[("449902", "2025-10-01")].value == pytest.approx(0.0)

    compression = _values("BE15.02")
    assert compression[("449900", "2025-10-01")].value == pytest.approx(100 * (1 - 11 / 65))
    assert compression[("449901", "2025-10-01")].value == pytest.approx(100 * (1 - 10 / 55))
    assert compression[("449902", "2025-10-01")].value == pytest.approx(90.0)


@pytest.mark.django_db
def test_recompute_is_identical_and_incremental_touches_only_its_scope(
    city, store_dir, tmp_path, government_service_indicators
):
    _load(tmp_path, ROWS)
    before = values_version()
    compute()
    after_first = values_version()
    assert after_first > before  # the cached pages see the new figures (catalogue.changes)
    first = sorted(
        IndicatorValue.objects.filter(source_kind="records").values_list(
            "indicator__code",
            "region__code",
            "period",
            "value",
            "numerator",
            "denominator",
            "observations",
        )
    )
    compute()
    assert values_version() == after_first  # nothing rewritten, nothing to forget
    second = sorted(
        IndicatorValue.objects.filter(source_kind="records").values_list(
            "indicator__code",
            "region__code",
            "period",
            "value",
            "numerator",
            "denominator",
            "observations",
        )
    )
    assert first == second

    # A re-sent G4 now completed on time in November: only 西山区 and the city change.
    untouched = IndicatorValue.objects.get(
        indicator__code="BE15.03", region__code="449901", period="2025-10-01"
    )
    stamp = untouched.computed_at
    resent = [
        "G4,I1,设立登记,449902,XS-SCJG,企业,网上,2025-11-03 08:00:00,2025-11-03 09:00:00,2025-11-04 10:00:00,10,1,1,办结",
    ]
    path = tmp_path / "resend.csv"
    path.write_text("\n".join([HEADER, *resent]) + "\n", encoding="utf-8")
    batch, _ = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code="gov_service_cases"),
        source=path,
        file_name="resend.csv",
        enqueue_job=False,
    )
    batch = loads.run_load(batch.pk)
    assert (batch.imported, batch.updated) == (0, 1)
    assert sorted(map(tuple, batch.touched)) == [
        ("449902", "2025-10"),
        ("449902", "2025-11"),
    ]
    compute(touched=[tuple(p) for p in batch.touched], batch=batch)
    on_time = _values("BE15.03")
    assert ("449902", "2025-10-01") not in on_time  # G4 moved out of October
    assert on_time[("449902", "2025-11-01")].value == pytest.approx(100.0)
    assert on_time[("449900", "2025-10-01")].value == pytest.approx(50.0)  # 2 of the 4 left
    untouched.refresh_from_db()
    assert untouched.computed_at == stamp
