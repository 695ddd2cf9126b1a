"""Golden data for every record-based leaf beyond 政务服务 and 开办企业: a few hand-made records
per dataset, loaded through the real ingestion path and computed by the engine, against values
worked out by hand in the comments (working days as the 2025/2026 State Council holiday notices
set them: 10-01..10-08 off with Sunday 09-28 and Saturday 10-11 worked; 2026-01-01..03 off with
Sunday 01-04 worked). Regions: 示范市 449900 > 东湖区 449901 > 高新区 P449951, and 西山区 449902."""

from __future__ import annotations

import csv

import pytest

from sizhen.indicators.catalogue.imports import load_default_catalogue
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.compute import compute
from sizhen.indicators.ingestion.datasets import ensure_builtin_datasets
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS
from sizhen.indicators.ingestion.models import Dataset

CITY, EAST, WEST, PARK = "449900", "449901", "449902", "P449951"


def _load(tmp_path, dataset: str, header: list[str], rows: list[list[object]]) -> None:
    """Loads rows whose header uses the schema's field names (the engine accepts them)."""
    path = tmp_path / f"{dataset}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    batch, created = loads.submit_file(
        actor=None,
        dataset=Dataset.objects.get(code=dataset),
        source=path,
        file_name=path.name,
        enqueue_job=False,
    )
    assert created
    batch = loads.run_load(batch.pk)
    assert batch.status == LoadStatus.LOADED, batch.message
    assert batch.rejected == 0


def _values(code: str) -> dict[tuple[str, str], float | None]:
    return {
        (v.region.code, v.period.isoformat()): v.value
        for v in IndicatorValue.objects.filter(
            indicator__code=code, source_kind="records"
        ).select_related("region")
    }


def _approx(expected: dict[tuple[str, str], float]) -> dict[tuple[str, str], object]:
    return {k: pytest.approx(v) for k, v in expected.items()}


@pytest.fixture
def catalogue(city, store_dir):
    load_default_catalogue(actor=None)
    ensure_builtin_datasets()


def test_every_records_leaf_of_the_catalogue_has_a_definition(catalogue):
    records_leaves = set(
        Indicator.objects.filter(source_kind="records").values_list("code", flat=True)
    )
    defined = {d["indicator"] for d in DEFINITIONS}
    assert records_leaves == defined


@pytest.mark.django_db
def test_construction_permits_be02(catalogue, tmp_path):
    header = [
        "project_id", "project_name", "region_code", "department_code", "project_type",
        "applied_at", "permitted_at", "completed_at", "procedures", "inspections", "fees",
        "construction_value",
    ]  # fmt: skip
    _load(tmp_path, "construction_permits", header, [
        # (09-26, 10-10]: 09-28 (make-up Sunday), 09-29, 09-30, 10-09, 10-10 = 5 working days
        ["C1", "仓库", EAST, "SZ-SCJG", "社会投资低风险", "2025-09-26 09:00", "2025-10-01", "2025-10-10 16:00", 10, 2, 20000, 1_000_000],
        # (10-09, 11-20]: 10-10, 10-11 (make-up Saturday), 15 in the rest of October, 14 in November = 31
        ["C2", "厂房", WEST, "SZ-SCJG", "社会投资一般", "2025-10-09 09:00", "2025-10-20", "2025-11-20 10:00", 14, 4, 30000, 500_000],
        # completed in the third quarter: only in the year's cost ratio
        ["C3", "研发楼", PARK, "SZ-SCJG", "社会投资一般", "2025-07-01 09:00", "2025-08-01", "2025-09-30 10:00", 8, 3, 10000, 2_000_000],
        # not yet filed as completed: in nothing
        ["C4", "仓库", EAST, "SZ-SCJG", "社会投资低风险", "2025-10-09 09:00", "", "", 99, 0, 1, 1],
    ])  # fmt: skip
    compute()
    q4 = "2025-10-01"
    assert _values("BE02.01") == _approx(
        {(CITY, q4): 12.0, (EAST, q4): 10.0, (WEST, q4): 14.0,
         (CITY, "2025-07-01"): 8.0, (EAST, "2025-07-01"): 8.0, (PARK, "2025-07-01"): 8.0}
    )  # fmt: skip
    days = _values("BE02.02")
    assert days[(CITY, q4)] == pytest.approx((5 + 31) / 2)
    assert days[(EAST, q4)] == pytest.approx(5.0)
    assert days[(WEST, q4)] == pytest.approx(31.0)
    # Cost: ratio of sums over the year, not a mean of the projects' ratios.
    assert _values("BE02.03") == _approx(
        {(CITY, "2025-01-01"): 100 * 60000 / 3_500_000, (EAST, "2025-01-01"): 1.0,
         (WEST, "2025-01-01"): 6.0, (PARK, "2025-01-01"): 0.5}
    )  # fmt: skip


@pytest.mark.django_db
def test_property_registrations_be05(catalogue, tmp_path):
    header = [
        "registration_id", "region_code", "department_code", "registration_type",
        "applicant_type", "channel", "applied_at", "completed_at", "procedures", "fees",
        "property_value",
    ]  # fmt: skip
    _load(tmp_path, "property_registrations", header, [
        # (12-29, 2026-01-06]: 12-30, 12-31, 01-04 (make-up Sunday), 01-05, 01-06 = 5
        ["R1", EAST, "SZ-SCJG", "转移登记", "企业", "网上", "2025-12-29 10:00", "2026-01-06 15:00", 3, 3000, 1_000_000],
        # (2026-01-05, 01-07] = 01-06, 01-07 = 2
        ["R2", WEST, "SZ-SCJG", "转移登记", "企业", "窗口", "2026-01-05 10:00", "2026-01-07 15:00", 5, 9000, 200_000],
        # a mortgage is not a transfer: excluded everywhere
        ["R3", WEST, "SZ-SCJG", "抵押登记", "企业", "银行网点", "2026-01-05 10:00", "2026-01-06 15:00", 1, 0, 5_000_000],
    ])  # fmt: skip
    compute()
    q1 = "2026-01-01"
    assert _values("BE05.01") == _approx({(CITY, q1): 4.0, (EAST, q1): 3.0, (WEST, q1): 5.0})
    assert _values("BE05.02") == _approx({(CITY, q1): 3.5, (EAST, q1): 5.0, (WEST, q1): 2.0})
    assert _values("BE05.03") == _approx(
        {(CITY, q1): 100 * 12000 / 1_200_000, (EAST, q1): 0.3, (WEST, q1): 4.5}
    )


@pytest.mark.django_db
def test_utility_connections_be03_be04(catalogue, tmp_path):
    header = [
        "application_id", "utility", "region_code", "department_code", "customer_type",
        "applied_at", "connected_at", "procedures", "cost",
    ]  # fmt: skip
    _load(tmp_path, "utility_connections", header, [
        # (09-30, 10-09] = 10-09 only: 1 working day across National Day
        ["E1", "电力", EAST, "SZ-SCJG", "低压", "2025-09-30 09:00", "2025-10-09 17:00", 2, 0],
        # (10-09, 10-13] = 10-10, 10-11 (make-up Saturday), 10-13 = 3
        ["E2", "电力", WEST, "SZ-SCJG", "高压", "2025-10-09 09:00", "2025-10-13 17:00", 4, 12000],
        # residential: not a business connection, excluded
        ["E3", "电力", WEST, "SZ-SCJG", "居民", "2025-10-09 09:00", "2025-10-31 17:00", 9, 99999],
        # (10-13, 10-17] = 4
        ["W1", "用水", EAST, "SZ-SCJG", "非居民", "2025-10-13 09:00", "2025-10-17 17:00", 2, 1000],
        ["G1", "用气", WEST, "SZ-SCJG", "非居民", "2025-10-13 09:00", "2025-10-14 17:00", 3, 3000],
        # not connected yet
        ["G2", "用气", WEST, "SZ-SCJG", "非居民", "2025-10-13 09:00", "", 3, 3000],
    ])  # fmt: skip
    compute()
    m = "2025-10-01"
    assert _values("BE03.01") == _approx({(CITY, m): 3.0, (EAST, m): 2.0, (WEST, m): 4.0})
    assert _values("BE03.02") == _approx({(CITY, m): 2.0, (EAST, m): 1.0, (WEST, m): 3.0})
    assert _values("BE03.03") == _approx({(CITY, m): 6000.0, (EAST, m): 0.0, (WEST, m): 12000.0})
    assert _values("BE04.01") == _approx({(CITY, m): 2.0, (EAST, m): 2.0})
    assert _values("BE04.02") == _approx({(CITY, m): 4.0, (EAST, m): 4.0})
    assert _values("BE04.03") == _approx({(CITY, m): 3.0, (WEST, m): 3.0})
    assert _values("BE04.04") == _approx({(CITY, m): 1.0, (WEST, m): 1.0})
    assert _values("BE04.05") == _approx({(CITY, m): 2000.0, (EAST, m): 1000.0, (WEST, m): 3000.0})


@pytest.mark.django_db
def test_tax_filings_be08(catalogue, tmp_path):
    header = ["filing_id", "region_code", "department_code", "taxpayer_type", "tax_type",
              "channel", "filed_at"]  # fmt: skip
    _load(tmp_path, "tax_filings", header, [
        ["T1", EAST, "SZ-SCJG", "企业", "增值税", "电子税务局", "2025-10-15 10:00"],
        ["T2", EAST, "SZ-SCJG", "企业", "企业所得税", "移动端", "2025-10-15 10:00"],
        ["T3", EAST, "SZ-SCJG", "个体工商户", "增值税", "办税服务厅", "2025-10-15 10:00"],
        ["T4", PARK, "SZ-SCJG", "企业", "增值税", "自助办税终端", "2025-10-16 10:00"],
        ["T5", WEST, "SZ-SCJG", "企业", "增值税", "电子税务局", "2025-10-16 10:00"],
    ])  # fmt: skip
    compute()
    m = "2025-10-01"
    # 自助办税终端 is in a tax hall, not online: 3 online of 5 in the city.
    assert _values("BE08.05") == _approx(
        {(CITY, m): 60.0, (EAST, m): 50.0, (PARK, m): 0.0, (WEST, m): 100.0}
    )


@pytest.mark.django_db
def test_court_cases_be10_be11_count_calendar_days(catalogue, tmp_path):
    header = ["case_id", "region_code", "department_code", "case_kind", "filed_at",
              "concluded_at", "outcome", "claim_amount", "recovered_amount"]  # fmt: skip
    _load(tmp_path, "court_cases", header, [
        # calendar days, holidays included: 09-30 -> 10-09 = 9, 10-01 -> 12-30 = 90
        ["S1", EAST, "SZ-SCJG", "商事一审", "2025-09-30 09:00", "2025-10-09 10:00", "判决", 100000, ""],
        ["S2", WEST, "SZ-SCJG", "商事一审", "2025-10-01 09:00", "2025-12-30 10:00", "调解", 50000, ""],
        ["X1", EAST, "SZ-SCJG", "执行", "2025-06-01 09:00", "2025-11-01 10:00", "执行完毕", 10000, 10000],
        ["X2", EAST, "SZ-SCJG", "执行", "2025-06-01 09:00", "2025-11-02 10:00", "终结本次执行", 10000, 0],
        ["X3", WEST, "SZ-SCJG", "执行", "2025-06-01 09:00", "2025-11-03 10:00", "和解履行", 10000, 8000],
        ["X4", WEST, "SZ-SCJG", "执行", "2025-06-01 09:00", "", "", 10000, ""],
        # bankruptcy: 2024-01-01 -> 2025-06-30 = 546 days; 2025-01-01 -> 2025-12-31 = 364 days
        ["B1", EAST, "SZ-SCJG", "破产", "2024-01-01 09:00", "2025-06-30 10:00", "破产清算", 1_000_000, 300_000],
        ["B2", WEST, "SZ-SCJG", "破产", "2025-01-01 09:00", "2025-12-31 10:00", "重整", 3_000_000, 2_100_000],
    ])  # fmt: skip
    compute()
    q4, y = "2025-10-01", "2025-01-01"
    assert _values("BE10.01") == _approx({(CITY, q4): 49.5, (EAST, q4): 9.0, (WEST, q4): 90.0})
    assert _values("BE10.04") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 50.0, (WEST, q4): 100.0}
    )
    assert _values("BE11.01") == _approx(
        {(CITY, y): (546 + 364) / 2 / 365, (EAST, y): 546 / 365, (WEST, y): 364 / 365}
    )
    # Recovery in cents per yuan of claims: ratio of sums.
    assert _values("BE11.03") == _approx(
        {(CITY, y): 100 * 2_400_000 / 4_000_000, (EAST, y): 30.0, (WEST, y): 70.0}
    )


@pytest.mark.django_db
def test_labour_cases_be12(catalogue, tmp_path):
    header = ["case_id", "region_code", "department_code", "case_kind", "accepted_at",
              "closed_at", "outcome"]  # fmt: skip
    _load(tmp_path, "labour_cases", header, [
        ["L1", EAST, "SZ-SCJG", "争议调解仲裁", "2025-09-01 09:00", "2025-10-10 10:00", "调解成功"],
        ["L2", EAST, "SZ-SCJG", "争议调解仲裁", "2025-09-01 09:00", "2025-10-20 10:00", "仲裁裁决"],
        ["L3", WEST, "SZ-SCJG", "争议调解仲裁", "2025-09-01 09:00", "2025-11-10 10:00", "调解成功"],
        # refused cases are not in the mediation base
        ["L4", WEST, "SZ-SCJG", "争议调解仲裁", "2025-09-01 09:00", "2025-11-11 10:00", "不予受理"],
        # inspections accepted in Q4: 2 of 3 closed
        ["J1", EAST, "SZ-SCJG", "劳动保障监察", "2025-10-09 09:00", "2025-10-30 10:00", "责令改正"],
        ["J2", EAST, "SZ-SCJG", "劳动保障监察", "2025-11-09 09:00", "", ""],
        ["J3", WEST, "SZ-SCJG", "劳动保障监察", "2025-12-01 09:00", "2026-01-15 10:00", "行政处罚"],
    ])  # fmt: skip
    compute()
    q4 = "2025-10-01"
    assert _values("BE12.01") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 50.0, (WEST, q4): 100.0}
    )
    assert _values("BE12.03") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 50.0, (WEST, q4): 100.0}
    )


@pytest.mark.django_db
def test_procurement_be13(catalogue, tmp_path):
    header = ["procurement_id", "project_name", "region_code", "department_code", "method",
              "electronic", "announced_at", "evaluated_at", "result_published_at",
              "contract_signed_at", "contract_amount", "performance_bond",
              "advance_payment"]  # fmt: skip
    _load(tmp_path, "procurement", header, [
        # evaluation -> result 2 days; result -> contract 10 days
        ["P1", "办公设备", EAST, "SZ-SCJG", "公开招标", "是", "2025-09-01", "2025-09-29", "2025-10-01", "2025-10-11", 1_000_000, 20000, 300000],
        # 4 days; 20 days
        ["P2", "物业服务", WEST, "SZ-SCJG", "竞争性磋商", "否", "2025-09-01", "2025-10-06", "2025-10-10", "2025-10-30", 3_000_000, 0, 0],
        # announced, no contract yet: in 13.01 and 13.02, not in the contract measures
        ["P3", "软件", WEST, "SZ-SCJG", "询价", "是", "2025-09-01", "2025-11-01", "2025-11-07", "", "", "", ""],
    ])  # fmt: skip
    compute()
    q4 = "2025-10-01"
    assert _values("BE13.01") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 100.0, (WEST, q4): 50.0}
    )
    assert _values("BE13.02") == _approx({(CITY, q4): 4.0, (EAST, q4): 2.0, (WEST, q4): 5.0})
    assert _values("BE13.03") == _approx({(CITY, q4): 15.0, (EAST, q4): 10.0, (WEST, q4): 20.0})
    assert _values("BE13.04") == _approx({(CITY, q4): 0.5, (EAST, q4): 2.0, (WEST, q4): 0.0})
    assert _values("BE13.05") == _approx({(CITY, q4): 7.5, (EAST, q4): 30.0, (WEST, q4): 0.0})


@pytest.mark.django_db
def test_bidding_be14(catalogue, tmp_path):
    header = ["project_id", "project_name", "region_code", "category", "announced_at",
              "awarded_at", "contract_signed_at", "paperless", "remote_evaluation",
              "winner_is_local", "deposit_mode", "budget"]  # fmt: skip
    _load(tmp_path, "bidding", header, [
        # announced -> awarded in calendar days: 30, 20, 41
        ["B1", "道路", EAST, "工程", "2025-09-10", "2025-10-10", "", "是", "是", "是", "电子保函", 1e7],
        ["B2", "设备", EAST, "货物", "2025-10-01", "2025-10-21", "", "否", "否", "否", "现金", 1e6],
        ["B3", "监理", WEST, "服务", "2025-09-20", "2025-10-31", "", "是", "否", "", "免收", 1e5],
        ["B4", "绿化", WEST, "工程", "2025-10-20", "", "", "是", "否", "", "", 1e5],
    ])  # fmt: skip
    compute()
    m = "2025-10-01"
    assert _values("BE14.01") == _approx(
        {(CITY, m): 100 * 2 / 3, (EAST, m): 50.0, (WEST, m): 100.0}
    )
    # 免收 has no deposit: out of the base; 西山区 has no project with a deposit at all.
    assert _values("BE14.02") == _approx({(CITY, m): 50.0, (EAST, m): 50.0})
    assert _values("BE14.03") == _approx({(CITY, m): 50.0, (EAST, m): 50.0})
    assert _values("BE14.05") == _approx(
        {(CITY, m): (30 + 20 + 41) / 3, (EAST, m): 25.0, (WEST, m): 41.0}
    )


@pytest.mark.django_db
def test_ip_pledges_and_market_supervision_be16_be17(catalogue, tmp_path):
    _load(tmp_path, "ip_pledges", ["pledge_id", "region_code", "ip_type", "registered_at", "amount"], [
        ["Z1", EAST, "专利", "2025-03-01", 150_000_000],
        ["Z2", PARK, "商标", "2025-11-01", 50_000_000],
        ["Z3", WEST, "组合", "2024-12-31", 70_000_000],
    ])  # fmt: skip
    _load(tmp_path, "market_supervision",
          ["record_id", "region_code", "department_code", "record_kind", "concluded_at", "joint", "published", "grade"], [
        ["M1", EAST, "SZ-SCJG", "双随机抽查", "2025-10-09", "是", "是", ""],
        ["M2", EAST, "SZ-SCJG", "双随机抽查", "2025-11-09", "否", "是", ""],
        ["M3", WEST, "SZ-SCJG", "双随机抽查", "2025-12-09", "是", "是", ""],
        ["M4", WEST, "SZ-SCJG", "行政处罚", "2025-12-10", "", "否", ""],
        ["M5", WEST, "SZ-SCJG", "行政处罚", "2025-12-11", "", "是", ""],
        ["M6", EAST, "SZ-SCJG", "信用评价", "2025-12-31", "", "", "A"],
        ["M7", EAST, "SZ-SCJG", "信用评价", "2025-12-31", "", "", "C"],
        ["M8", WEST, "SZ-SCJG", "信用评价", "2025-12-31", "", "", "B"],
    ])  # fmt: skip
    compute()
    assert _values("BE16.04") == _approx(
        {(CITY, "2025-01-01"): 2.0, (EAST, "2025-01-01"): 2.0, (PARK, "2025-01-01"): 0.5,
         (CITY, "2024-01-01"): 0.7, (WEST, "2024-01-01"): 0.7}
    )  # fmt: skip
    q4 = "2025-10-01"
    assert _values("BE17.02") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 50.0, (WEST, q4): 100.0}
    )
    assert _values("BE17.03") == _approx(
        {(CITY, q4): 100 * 2 / 3, (EAST, q4): 50.0, (WEST, q4): 100.0}
    )
    assert _values("BE17.04") == _approx({(CITY, q4): 50.0, (WEST, q4): 50.0})
