"""The data pages: authorisation matrix, the scoped load list, datasets with freshness, and
admin-defined datasets with versioned schemas.

Who: the coordinating office and administrators manage everything; lead and responsible
departments upload and see their own department's batches; a district officer sees the
batches of the departments in their district; enterprises get 404 (audited); anonymous
visitors are sent to the login page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sizhen.core.jobs import run_pending
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.engine.store import open_store
from sizhen.indicators.ingestion.models import Dataset, DatasetVersion, LoadBatch
from sizhen.indicators.tests.test_loads_support import (
    DATASET,
    HEADER,
    app_state,
    audit_count,
    csv_bytes,
    data_urls,  # noqa: F401 - fixture
    datasets,  # noqa: F401 - fixture
    read_xlsx,
    record,
    rows_of,
    store_dir,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("data_urls", "datasets")]

PERSONAS = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "enterprise",
    "sysadmin",
    None,
]
STAFF = {
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "sysadmin",
}
UPLOADERS = {"coordinator", "sysadmin", "lead_department", "responsible_department"}
ADMINS = {"coordinator", "sysadmin"}
#: 东湖区市场监督管理局's batch: its department, its district and the city-wide roles.
SEES_EAST = {"leader", "coordinator", "sysadmin", "responsible_department", "district_a"}
#: 市场监督管理局's batch (a city department): only the department and the city-wide roles.
SEES_MARKET = {"leader", "coordinator", "sysadmin", "lead_department"}


def _upload(client: Any, records: list[dict[str, Any]], **fields: Any) -> LoadBatch:
    response = client.post(
        "/monitoring/data/loads/upload/",
        {
            "dataset": fields.pop("dataset", DATASET),
            "mode": "strict",
            "file": SimpleUploadedFile(
                fields.pop("name", "a.csv"), fields.pop("content", None) or csv_bytes(records)
            ),
            **fields,
        },
    )
    assert response.status_code == 302, response.context and response.context["form"].errors
    return LoadBatch.objects.order_by("-pk").first()


@pytest.fixture
def batches(client_for: Any) -> dict[str, LoadBatch]:
    east = _upload(client_for("responsible_department"), [record("E1", visits=-1)])
    market = _upload(client_for("lead_department"), [record("M1")])
    run_pending()
    return {"east": east, "market": market}


def _expected(persona: str | None, allowed: set[str]) -> int:
    if persona is None:
        return 302
    return 200 if persona in allowed else 404


def _pages(batches: dict[str, LoadBatch]) -> list[tuple[str, set[str]]]:
    east, market = batches["east"].pk, batches["market"].pk
    return [
        ("/monitoring/data/", STAFF),
        (f"/monitoring/data/datasets/{DATASET}/", STAFF),
        (f"/monitoring/data/datasets/{DATASET}/?version=1", STAFF),
        (f"/monitoring/data/datasets/{DATASET}/template/", STAFF),
        ("/monitoring/data/datasets/new/", ADMINS),
        (f"/monitoring/data/datasets/{DATASET}/versions/new/", ADMINS),
        (f"/monitoring/data/datasets/{DATASET}/quarantine/", UPLOADERS),
        ("/monitoring/data/loads/", STAFF),
        ("/monitoring/data/loads/?status=rejected&since=2020-01-01", STAFF),
        ("/monitoring/data/loads/?export=xlsx", STAFF),
        ("/monitoring/data/loads/upload/", UPLOADERS),
        (f"/monitoring/data/loads/{east}/", SEES_EAST),
        (f"/monitoring/data/loads/{east}/progress/", SEES_EAST),
        (f"/monitoring/data/loads/{east}/errors.xlsx", SEES_EAST),
        (f"/monitoring/data/loads/{market}/", SEES_MARKET),
        (f"/monitoring/data/loads/{market}/progress/", SEES_MARKET),
        (f"/monitoring/data/loads/{market}/errors.xlsx", SEES_MARKET),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_for_every_persona(client_for, batches, persona):
    client = client_for(persona)
    for url, allowed in _pages(batches):
        before, denied = app_state(), audit_count("access.denied")
        response = client.get(url)
        expected = _expected(persona, allowed)
        assert response.status_code == expected, url
        if expected == 302:
            assert response["Location"] == f"/accounts/login/?next={quote(url, safe='/')}"
        assert audit_count("access.denied") == denied + (1 if expected == 404 else 0), url
        assert app_state() == before, url


def test_a_missing_batch_is_a_plain_404(client_for):
    denied = audit_count("access.denied")
    assert client_for("coordinator").get("/monitoring/data/loads/999999/").status_code == 404
    assert audit_count("access.denied") == denied


@pytest.mark.parametrize("persona", PERSONAS)
def test_writes_are_refused_to_those_who_may_not(client_for, persona, city):
    client = client_for(persona)
    attempts = [
        ("/monitoring/data/loads/upload/", UPLOADERS, {"dataset": DATASET, "mode": "strict"}),
        ("/monitoring/data/datasets/new/", ADMINS, {"code": "x_data", "name": "X"}),
        (f"/monitoring/data/datasets/{DATASET}/versions/new/", ADMINS, {"key": "case_id"}),
        ("/monitoring/data/datasets/builtin/", ADMINS, {}),
    ]
    for url, allowed, data in attempts:
        if persona in allowed:
            continue
        before, denied = app_state(), audit_count("access.denied")
        if url.endswith("upload/"):
            data = {**data, "file": SimpleUploadedFile("a.csv", csv_bytes([record("Z1")]))}
        response = client.post(url, data)
        assert response.status_code == (302 if persona is None else 404), url
        assert audit_count("access.denied") == denied + (0 if persona is None else 1), url
        assert app_state() == before, url


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("leader", {"east", "market"}),
        ("coordinator", {"east", "market"}),
        ("sysadmin", {"east", "market"}),
        ("lead_department", {"market"}),
        ("responsible_department", {"east"}),
        ("district_a", {"east"}),
        ("district_b", set()),
    ],
)
def test_the_load_list_shows_only_the_visible_batches(client_for, batches, persona, visible):
    response = client_for(persona).get("/monitoring/data/loads/")
    shown = {b.pk for b in response.context["page"].object_list}
    assert shown == {batches[name].pk for name in visible}
    export = client_for(persona).get("/monitoring/data/loads/?export=xlsx")
    exported = {row[0] for row in read_xlsx(export.content)[1:]}
    assert exported == {f"#{batches[name].pk}" for name in visible}


def test_the_load_list_filters(client_for, batches):
    client = client_for("coordinator")
    rejected = client.get("/monitoring/data/loads/?status=rejected").context["page"].object_list
    assert [b.pk for b in rejected] == [batches["east"].pk]
    loaded = client.get(f"/monitoring/data/loads/?status=loaded&dataset={DATASET}")
    assert [b.pk for b in loaded.context["page"].object_list] == [batches["market"].pk]
    none = client.get("/monitoring/data/loads/?dataset=bidding").context["page"].object_list
    assert list(none) == []


# --- datasets and freshness -----------------------------------------------------------------


def _freshness_cell(client: Any, code: str) -> str:
    page = client.get("/monitoring/data/").content.decode()
    row = page.split(f'data-dataset="{code}"', 1)[1].split("</tr>", 1)[0]
    return row.split('data-testid="freshness">', 1)[1].split("</td>", 1)[0]


def test_dataset_list_flags_stale_sources(client_for):
    client = client_for("leader")
    assert _freshness_cell(client, DATASET) == "从未入库（超过 3 天）"
    batch = _upload(client_for("coordinator"), [record("F1"), record("F2")])
    run_pending()
    assert _freshness_cell(client, DATASET) == "正常"
    rows = {f.dataset.code: f for f in client.get("/monitoring/data/").context["rows"]}
    fresh = rows[DATASET]
    assert (fresh.last_batch_id, fresh.rows_last_load, fresh.rows_loaded, fresh.lag_days) == (
        batch.pk,
        2,
        2,
        0,
    )
    LoadBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now() - dt.timedelta(days=5))
    assert _freshness_cell(client, DATASET) == "数据陈旧（超过 3 天）"
    stale = {f.dataset.code: f for f in client.get("/monitoring/data/").context["rows"]}[DATASET]
    assert (stale.lag_days, stale.stale) == (5, True)
    Dataset.objects.filter(code=DATASET).update(stale_after_days=7)
    assert _freshness_cell(client, DATASET) == "正常"


def test_dataset_detail_shows_the_schema_and_sources(client_for, batches):
    response = client_for("district_a").get(f"/monitoring/data/datasets/{DATASET}/")
    fields = response.context["fields"]
    assert [f["name"] for f in fields][:3] == ["case_id", "item_code", "item_name"]
    channel = next(f for f in fields if f["name"] == "channel")
    assert channel == {
        "name": "channel",
        "label": "办件来源",
        "type": "文本",
        "required": True,
        "allowed": "窗口、网上、移动端、自助终端",
        "aliases": "instance_source",
        "minimum": None,
    }
    # The district officer sees only the sources in their district (the east batch failed).
    assert response.context["sources"] == []
    coordinator = client_for("coordinator").get(f"/monitoring/data/datasets/{DATASET}/")
    assert [(s.department_name, s.rows_loaded) for s in coordinator.context["sources"]] == [
        ("市场监督管理局", 1)
    ]


def test_template_has_the_chinese_column_names(client_for):
    response = client_for("responsible_department").get(
        f"/monitoring/data/datasets/{DATASET}/template/"
    )
    header = read_xlsx(response.content)[0]
    assert header[:4] == ("办件编号", "事项编码", "事项名称", "区划代码")
    assert len(header) == 14


def _table(fields: list[dict[str, Any]], extra: int = 2) -> dict[str, Any]:
    data: dict[str, Any] = {
        "f-TOTAL_FORMS": str(len(fields) + extra),
        "f-INITIAL_FORMS": "0",
        "f-MIN_NUM_FORMS": "0",
        "f-MAX_NUM_FORMS": "200",
    }
    for index, f in enumerate(fields):
        for key, value in f.items():
            if value is None:
                continue
            if key == "required":
                if value:
                    data[f"f-{index}-required"] = "on"
            else:
                data[f"f-{index}-{key}"] = value
    return data


REFUND_FIELDS = [
    {"name": "refund_id", "label": "退税编号", "type": "string", "required": True},
    {"name": "region_code", "label": "区划代码", "type": "string", "required": True},
    {"name": "amount", "label": "退税金额", "type": "decimal", "required": True},
    {"name": "refunded_on", "label": "退税日期", "type": "date", "required": False},
    {
        "name": "kind",
        "label": "纳税人类型",
        "type": "string",
        "required": True,
        "allowed": "个人、企业",
    },
]


def _new_dataset(client: Any, **overrides: Any) -> Any:
    data = {
        "code": "tax_refunds",
        "name": "出口退税",
        "description": "出口退税办理记录",
        "stale_after_days": "30",
        "key": "refund_id",
        "region_field": "region_code",
        "department_field": "",
        "fields_json": "",
        **_table(REFUND_FIELDS),
    }
    data.update(overrides)
    return client.post("/monitoring/data/datasets/new/", data)


def test_coordinator_defines_a_dataset_that_then_loads(client_for):
    client = client_for("coordinator")
    created = audit_count("dataset.create")
    response = _new_dataset(client)
    assert response.status_code == 302
    assert response["Location"] == "/monitoring/data/datasets/tax_refunds/"
    dataset = Dataset.objects.get(code="tax_refunds")
    assert (dataset.name, dataset.builtin, dataset.current_version, dataset.stale_after_days) == (
        "出口退税",
        False,
        1,
        30,
    )
    schema = dataset.schema()
    assert (schema.key, schema.region_field, schema.department_field) == (
        "refund_id",
        "region_code",
        "",
    )
    assert schema.fields[4] == {
        "name": "kind",
        "label": "纳税人类型",
        "type": "string",
        "required": True,
        "allowed": ["个人", "企业"],
    }
    assert schema.created_by.username == "coordinator"
    assert audit_count("dataset.create") == created + 1

    content = (
        "退税编号,区划代码,退税金额,退税日期,纳税人类型\r\n"
        "T1,449901,1200.50,2025-10-09,企业\r\n"
        "T2,449902,88,2025/10/10,个人\r\n"
    ).encode("gbk")
    batch = _upload(client, [], dataset="tax_refunds", name="退税.csv", content=content)
    run_pending()
    batch.refresh_from_db()
    assert batch.status == LoadStatus.LOADED, batch.message
    with open_store() as con:
        rows = con.execute(
            "SELECT refund_id, region_code, amount, refunded_on, kind FROM records_tax_refunds "
            "ORDER BY refund_id"
        ).fetchall()
    assert rows == [
        ("T1", "449901", 1200.5, dt.date(2025, 10, 9), "企业"),
        ("T2", "449902", 88.0, dt.date(2025, 10, 10), "个人"),
    ]
    bad = _upload(
        client,
        [],
        dataset="tax_refunds",
        name="bad.csv",
        content="退税编号,区划代码,退税金额,纳税人类型\r\nT3,449999,5,社团\r\n".encode(),
    )
    run_pending()
    assert list(bad.errors.values_list("row", "field", "code")) == [
        (2, "kind", "not_allowed"),
        (2, "region_code", "unknown_region"),
    ]


def test_a_dataset_can_be_defined_with_json(client_for):
    fields = [
        {"name": "permit_id", "label": "许可证号", "type": "string", "required": True},
        {"name": "region_code", "label": "区划代码", "type": "string", "required": True},
        {"name": "days", "label": "办理天数", "type": "integer", "minimum": 0},
    ]
    response = _new_dataset(
        client_for("sysadmin"),
        code="permits",
        name="施工许可",
        key="permit_id",
        fields_json=json.dumps(fields, ensure_ascii=False),
        **{"f-TOTAL_FORMS": "0"},
    )
    assert response.status_code == 302
    assert Dataset.objects.get(code="permits").schema().fields == [
        {"name": "permit_id", "label": "许可证号", "type": "string", "required": True},
        {"name": "region_code", "label": "区划代码", "type": "string", "required": True},
        {"name": "days", "label": "办理天数", "type": "integer", "required": False, "minimum": 0},
    ]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        (
            {"code": "Tax-Refunds"},
            "数据集编码应以小写字母开头，只含小写字母、数字和下划线，2～40 个字符",
        ),
        ({"code": DATASET}, f"数据集编码“{DATASET}”已存在"),
        ({"key": "missing"}, "主键字段“missing”不在字段列表中"),
        ({"key": "refunded_on"}, "主键字段“refunded_on”必须设为必填"),
        ({"region_field": "amount"}, "区划字段“amount”应为文本类型"),
        ({"f-2-allowed": "1、2"}, "字段“amount”：只有文本类型的字段可以限定取值"),
        ({"f-1-name": "r_region"}, "字段名“r_region”应以小写字母开头，且不以 r_ 开头"),
        ({"f-1-name": "区划"}, "第 2 个字段名“区划”应为小写英文字母、数字和下划线"),
        ({"f-0-label": ""}, "字段“refund_id”缺少中文名称"),
        (
            {"fields_json": "[{"},
            "JSON 格式错误（第 1 行）：Expecting property name enclosed in double quotes",
        ),
        ({"fields_json": '{"name": "x"}'}, "字段定义应为对象数组，每个字段一个对象"),
        ({"stale_after_days": "0"}, "陈旧天数至少为 1 天"),
    ],
)
def test_an_invalid_dataset_definition_changes_nothing(client_for, overrides, problem):
    before = app_state()
    response = _new_dataset(client_for("coordinator"), **overrides)
    assert response.status_code == 200
    form = response.context["form"]
    messages = [m for errors in form.errors.values() for m in errors]
    assert problem in messages
    assert app_state() == before


def test_a_new_schema_version_keeps_the_old_one(client_for):
    client = client_for("coordinator")
    batch = _upload(client, [record("V1")])
    run_pending()
    url = f"/monitoring/data/datasets/{DATASET}/versions/new/"
    form = client.get(url)
    initial = form.context["rows"].initial
    assert [r["name"] for r in initial][:2] == ["case_id", "item_code"]
    fields = [
        {k: v for k, v in row.items() if k != "required" or v} | {"required": row["required"]}
        for row in initial
    ]
    fields.append({"name": "rating", "label": "好差评", "type": "string", "allowed": "好评、差评"})
    data = {
        "key": "case_id",
        "region_field": "region_code",
        "department_field": "department_code",
        **_table(fields),
    }
    response = client.post(url, data)
    assert response.status_code == 302
    dataset = Dataset.objects.get(code=DATASET)
    assert dataset.current_version == 2
    assert [v.version for v in DatasetVersion.objects.filter(dataset=dataset)] == [2, 1]
    assert dataset.schema(1).fields[-1]["name"] == "status"
    # The table carries every property of the existing fields over unchanged.
    assert dataset.schema(2).fields[:-1] == dataset.schema(1).fields
    assert dataset.schema(2).fields[-1] == {
        "name": "rating",
        "label": "好差评",
        "type": "string",
        "required": False,
        "allowed": ["好评", "差评"],
    }
    batch.refresh_from_db()
    assert batch.schema_version == 1

    # A field's type cannot change under the rows already stored.
    before = app_state()
    fields[11]["type"] = "string"  # promised_limit was an integer
    refused = client.post(url, {**data, **_table(fields)})
    assert refused.status_code == 200
    assert "字段“promised_limit”的类型不能由 integer 改为 string；如需改变类型，请新增一个字段" in [
        m for errors in refused.context["form"].errors.values() for m in errors
    ]
    assert app_state() == before

    # The new column loads.
    header = ",".join([*HEADER, "好差评"])
    row = ",".join(str(v) for v in rows_of([record("V2")])[0]) + ",好评"
    rated = _upload(client, [], name="r.csv", content=f"{header}\r\n{row}\r\n".encode())
    run_pending()
    rated.refresh_from_db()
    assert (rated.status, rated.schema_version) == (LoadStatus.LOADED, 2), rated.message
    with open_store() as con:
        assert con.execute(
            "SELECT case_id, rating FROM records_gov_service_cases ORDER BY case_id"
        ).fetchall() == [("V1", None), ("V2", "好评")]


def test_the_dataset_list_names_datasets_in_chinese(client_for):
    page = client_for("coordinator").get("/monitoring/data/").content.decode()
    row = page.split('data-dataset="gov_service_cases"', 1)[1].split("</tr>", 1)[0]
    # The name is the link; the code follows it, for whoever writes the files.
    assert row.index('">政务服务办件</a>') < row.index('<td class="muted">gov_service_cases</td>')


def test_the_last_load_is_a_link_only_for_who_may_open_it(client_for, batches):
    """Everybody on the staff sees when a dataset last loaded; the load itself opens only in
    its scope, so for the others the date is plain text, never a link to a 404."""
    market = batches["market"]  # the newest load of the dataset, uploaded by the lead department
    link = f'href="/monitoring/data/loads/{market.pk}/"'
    for persona in sorted(STAFF):
        page = client_for(persona).get("/monitoring/data/").content.decode()
        row = page.split(f'data-dataset="{DATASET}"', 1)[1].split("</tr>", 1)[0]
        detail = client_for(persona).get(f"/monitoring/data/datasets/{DATASET}/").content.decode()
        opens = client_for(persona).get(f"/monitoring/data/loads/{market.pk}/").status_code
        assert (link in row) == (opens == 200), persona
        assert (link in row) == (persona in SEES_MARKET), persona
        assert (link in detail) == (persona in SEES_MARKET), persona
