from __future__ import annotations

import pytest

from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.indicators.scoring.services import score_periods
from sizhen.indicators.tests.test_scoring import JAN, tree  # noqa: F401 - fixture


def _stored():
    return sorted(IndicatorValue.objects.values_list("pk", "value", "score", "rank"))


@pytest.mark.django_db
def test_what_if_moves_the_rank_and_stores_nothing(tree, client_for):  # noqa: F811
    score_periods({JAN})
    before = _stored()
    url = "/monitoring/simulation/?region=449902&period=2026-01&v_BE02.01=100"
    response = client_for("coordinator").get(url)
    assert response.status_code == 200
    rows = {row["indicator"].code: row for row in response.context["rows"]}
    # 西山区's 全程网办率 goes from 70 (score 70) to 100 (score 100): its overall index rises
    # above a sibling's, while the stored values stay exactly as they were.
    assert rows["BE02.01"]["baseline_value"] == 70
    assert rows["BE02.01"]["score"] == 100
    assert rows["BE"]["rank"] < rows["BE"]["baseline_rank"]
    assert _stored() == before


@pytest.mark.django_db
def test_bad_input_is_explained(tree, client_for):  # noqa: F811
    response = client_for("coordinator").get(
        "/monitoring/simulation/?region=449902&period=2026-13&v_BE02.01=abc"
    )
    assert response.status_code == 400
    assert response.context["errors"] == [
        "期间格式应为 YYYY-MM，如 2026-03",
        "BE02.01 全程网办率 的模拟值“abc”不是数字",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "region", "status"),
    [
        ("leader", "449902", 200),
        ("district_a", "449901", 200),
        ("district_a", "449902", 404),
        ("enterprise", "449901", 404),
    ],
)
def test_who_may_simulate_which_region(tree, client_for, persona, region, status):  # noqa: F811
    response = client_for(persona).get(f"/monitoring/simulation/?region={region}&period=2026-01")
    assert response.status_code == status


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(tree, client_for):  # noqa: F811
    response = client_for(None).get("/monitoring/simulation/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
