"""The data-asset catalogue (数据资源目录): derived from datasets, loads and indicators plus the
stored profiles; the quality score as docs/data-assets.md defines it; lineage of an indicator
and of a dataset; the API; staff only; the versioned cache moves with what it shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from sizhen.assets import selectors, services
from sizhen.assets.models import AssetProfile
from sizhen.assets.selectors import Quality, dataset_quality
from sizhen.core.models import AuditEvent
from sizhen.indicators.ingestion.models import Dataset, LoadBatch
from sizhen.monitoring.models import Alert

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _batch(
    dataset: Dataset, days_ago: float, *, total: int, rejected: int, status: str = "loaded"
) -> LoadBatch:
    finished = NOW - dt.timedelta(days=days_ago)
    return LoadBatch.objects.create(
        dataset=dataset,
        schema_version=1,
        channel="file",
        content_hash=f"h{days_ago}-{total}",
        status=status,
        rows_total=total,
        imported=total - rejected,
        rejected=rejected,
        created_at=finished,
        finished_at=finished,
    )


def test_quality_score_from_rejected_rows_and_late_loads(assets: dict[str, Any]) -> None:
    dataset = assets["dataset"]  # stale_after_days = 3
    _batch(dataset, 10, total=1000, rejected=0)
    _batch(dataset, 8, total=1000, rejected=100)  # lenient: 100 rows quarantined
    _batch(dataset, 2, total=500, rejected=500, status="rejected")  # strict: refused whole
    _batch(dataset, 1, total=500, rejected=0)
    _batch(dataset, 200, total=999, rejected=999)  # outside the 180-day window
    _batch(dataset, 1.5, total=70, rejected=0, status="failed")  # neither loaded nor rejected
    quality = dataset_quality([dataset], now=NOW)[dataset.pk]
    # Committed loads 10, 8 and 1 days ago, then now: gaps 2, 7 and 1 days; 7 > 3 is late.
    assert quality == Quality(loads=4, rows=3000, rejected=600, intervals=3, late=1)
    # 100 × (0.7 × (1 − 600/3000) + 0.3 × (1 − 1/3)) = 56 + 20
    assert quality.score == 76.0


def test_quality_is_none_without_loads(assets: dict[str, Any]) -> None:
    quality = dataset_quality([assets["dataset"]], now=NOW)[assets["dataset"].pk]
    assert quality.loads == 0
    assert quality.score is None


def test_catalogue_lists_datasets_with_profiles_and_indicators(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    services.update_profile(
        assets["dataset"],
        actor=personas["coordinator"],
        owner_department=assets["market"],
        source_system="一体化政务服务平台",
        update_frequency="daily",
        restricted=True,
    )
    entries = {e.id: e for e in selectors.list_catalogue(personas["district_a"])}
    entry = entries["dataset.gov_service_cases"]
    assert (entry.owner, entry.source, entry.frequency, entry.restricted) == (
        "市场监督管理局",
        "一体化政务服务平台",
        "每日",
        True,
    )
    assert entry.freshness == "从未入库"
    assert entry.first_period == dt.date(2026, 3, 1)
    assert entries["dataset.bidding"].owner == "未登记"
    leaf = entries["indicator.BE15.06"]
    assert (leaf.source, leaf.owner, leaf.time_span) == (
        "政务服务办件",
        "市场监督管理局",
        "2026-03-01 至 2026-03-01",
    )
    assert entries["indicator.BE15"].source == "下级指标合成"
    response = client_for("district_a").get("/assets/?kind=dataset&q=政务")
    assert response.status_code == 200
    page = response.content.decode()
    assert "一体化政务服务平台" in page and "受限" in page
    assert "招标投标" not in page
    assert [e.code for e in response.context["page"].object_list] == ["gov_service_cases"]


def test_catalogue_export_is_audited(assets: dict[str, Any], client_for: Any) -> None:
    response = client_for("coordinator").get("/assets/?kind=indicator&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    [event] = AuditEvent.objects.filter(action="export.xlsx")
    assert event.after["rows"] == 3


@pytest.mark.parametrize("persona", ["enterprise", None])
def test_catalogue_refuses_enterprises_and_anonymous(
    assets: dict[str, Any], client_for: Any, persona: str | None
) -> None:
    for url in ("/assets/", "/assets/datasets/gov_service_cases/", "/assets/indicators/BE15.06/"):
        response = client_for(persona).get(url)
        assert response.status_code == (404 if persona else 302), url


def test_profile_edit_is_the_office_s_and_audited(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    url = "/assets/datasets/gov_service_cases/profile/"
    data = {
        "owner_department": assets["market"].pk,
        "source_system": "一体化政务服务平台",
        "update_frequency": "daily",
        "restricted": "on",
    }
    assert client_for("lead_department").post(url, data).status_code == 404
    assert not AssetProfile.objects.exists()
    response = client_for("coordinator").post(url, data)
    assert response.status_code == 302
    profile = AssetProfile.objects.get()
    assert (profile.owner_department, profile.restricted) == (assets["market"], True)
    [event] = AuditEvent.objects.filter(action="asset.profile_update")
    assert event.after["restricted"] is True
    assert event.before["restricted"] is False


def test_indicator_lineage_runs_from_source_system_to_uses(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    services.update_profile(
        assets["dataset"],
        actor=personas["coordinator"],
        owner_department=assets["market"],
        source_system="一体化政务服务平台",
        update_frequency="daily",
        restricted=False,
    )
    for region in (assets["district_a"], assets["district_b"]):
        Alert.objects.create(
            indicator=assets["leaf"],
            region=region,
            kind="cross_sectional_extreme",
            severity="red",
            value=1.0,
            method="modified_z",
            score=4.0,
            explanation="测试",
        )
    lineage = selectors.build_indicator_lineage(personas["coordinator"], "BE15.06")
    assert [(a.id, b.id) for a, b in lineage.rows()] == [
        ("source:一体化政务服务平台", "dataset:gov_service_cases"),
        ("dataset:gov_service_cases", "indicator:BE15.06"),
        ("indicator:BE15.06", "indicator:BE15"),
        ("indicator:BE15", "indicator:BE"),
        ("indicator:BE15.06", "use:alerts"),
    ]
    assert lineage.label_of("use:alerts") == "预警 2 项"
    # Uses are counted within the viewer's scope: one district sees its own alert only.
    scoped = selectors.build_indicator_lineage(personas["district_a"], "BE15.06")
    assert scoped.label_of("use:alerts") == "预警 1 项"
    response = client_for("coordinator").get("/assets/indicators/BE15.06/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="lineage-graph"' in page
    assert "一体化政务服务平台" in page and "BE15 政务服务" in page
    assert response.context["lineage_chart"]["links"][0] == {
        "source": "source:一体化政务服务平台",
        "target": "dataset:gov_service_cases",
    }


def test_dataset_lineage_runs_downstream(assets: dict[str, Any], personas: dict[str, Any]) -> None:
    lineage = selectors.build_dataset_lineage(personas["coordinator"], "gov_service_cases")
    edges = [(a.id, b.id) for a, b in lineage.rows()]
    assert ("source:来源系统未登记", "dataset:gov_service_cases") in edges
    assert ("dataset:gov_service_cases", "indicator:BE15.06") in edges
    assert ("indicator:BE15.06", "indicator:BE15") in edges
    assert ("indicator:BE15", "indicator:BE") in edges


def test_composite_lineage_shows_its_children(
    assets: dict[str, Any], personas: dict[str, Any]
) -> None:
    lineage = selectors.build_indicator_lineage(personas["coordinator"], "BE15")
    assert [(a.id, b.id) for a, b in lineage.rows()] == [
        ("indicator:BE15.06", "indicator:BE15"),
        ("indicator:BE15", "indicator:BE"),
    ]
    assert lineage.nodes[0].category_label == "下级指标"


def test_catalogue_cache_moves_with_a_profile_and_a_finished_load(
    assets: dict[str, Any], personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]

    def entry() -> Any:
        return next(
            e for e in selectors.list_catalogue(coordinator) if e.code == "gov_service_cases"
        )

    assert entry().source == "未登记"
    services.update_profile(
        assets["dataset"],
        actor=coordinator,
        owner_department=None,
        source_system="电力营销系统",
        update_frequency="weekly",
        restricted=False,
    )
    assert entry().source == "电力营销系统"
    batch = LoadBatch.objects.create(
        dataset=assets["dataset"], schema_version=1, channel="file", content_hash="x"
    )
    assert entry().last_load_at is None  # a queued batch is not a load
    batch.status = "loaded"
    batch.rows_total = batch.imported = 4
    batch.finished_at = timezone.now()
    batch.save()
    assert entry().last_load_at == batch.finished_at
    assert entry().row_count == 4


def test_api_lists_and_describes_assets(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for("district_a")
    response = client.get("/api/v1/assets?kind=dataset&q=gov_service")
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["count"] == 1
    [item] = body["items"]
    assert (item["id"], item["freshness"], item["quality"]) == (
        "dataset.gov_service_cases",
        "从未入库",
        None,
    )
    detail = client.get("/api/v1/assets/indicator.BE15.06").json()
    assert detail["name"] == "办结量"
    assert [e["target"] for e in detail["lineage"]["edges"]] == [
        "dataset:gov_service_cases",
        "indicator:BE15.06",
        "indicator:BE15",
        "indicator:BE",
    ]
    assert client.get("/api/v1/assets/indicator.NOPE").status_code == 404
    assert client_for("enterprise").get("/api/v1/assets").status_code == 404
    assert client_for(None).get("/api/v1/assets").status_code == 401
