from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sizhen.core.models import AuditEvent
from sizhen.organisations import services
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Enterprise, Region
from sizhen.organisations.tests.conftest import org_state


@pytest.mark.django_db
def test_region_code_must_fit_its_level(city, personas):
    before = org_state()
    with pytest.raises(ValidationError) as excinfo:
        services.create_region(
            actor=personas["sysadmin"],
            code="P449903",
            name="南岭区",
            level=RegionLevel.DISTRICT,
            parent=city["root"],
        )
    assert excinfo.value.message_dict == {"code": ["行政区划代码应为 6 位或 12 位数字"]}
    assert org_state() == before


@pytest.mark.django_db
def test_park_may_use_a_project_code(city, personas):
    park = services.create_region(
        actor=personas["sysadmin"],
        code="P449952",
        name="临港园区",
        level=RegionLevel.PARK,
        parent=city["district_b"],
    )
    assert (park.path, park.depth) == ("/449900/449902/P449952/", 2)


@pytest.mark.django_db
def test_only_one_top_level_region(city, personas):
    before = org_state()
    with pytest.raises(ValidationError) as excinfo:
        services.create_region(
            actor=personas["sysadmin"], code="449800", name="邻市", level=RegionLevel.CITY
        )
    assert excinfo.value.message_dict == {"parent": ["只能有一个顶级区划（本市）"]}
    assert org_state() == before


@pytest.mark.django_db
def test_moving_a_subtree_rewrites_descendant_paths(city, personas):
    town = services.create_region(
        actor=None,
        code="449951001001",
        name="高新街道",
        level=RegionLevel.TOWN,
        parent=city["park"],
    )
    assert town.path == "/449900/449901/P449951/449951001001/"
    visible_before = set(
        Enterprise.objects.visible_to(personas["district_a"]).values_list("name", flat=True)
    )
    assert visible_before == {"东湖示范科技有限公司", "高新示范制造有限公司"}

    services.update_region(city["park"], actor=personas["sysadmin"], parent=city["district_b"])

    paths = dict(Region.objects.values_list("code", "path"))
    assert paths == {
        "449900": "/449900/",
        "449901": "/449900/449901/",
        "449902": "/449900/449902/",
        "P449951": "/449900/449902/P449951/",
        "449951001001": "/449900/449902/P449951/449951001001/",
    }
    depths = dict(Region.objects.values_list("code", "depth"))
    assert depths == {"449900": 0, "449901": 1, "449902": 1, "P449951": 2, "449951001001": 3}
    # Scope follows the path: the park's enterprise now belongs to 西山区.
    assert set(
        Enterprise.objects.visible_to(personas["district_a"]).values_list("name", flat=True)
    ) == {"东湖示范科技有限公司"}
    assert set(
        Enterprise.objects.visible_to(personas["district_b"]).values_list("name", flat=True)
    ) == {"西山示范物流有限公司", "高新示范制造有限公司"}
    event = AuditEvent.objects.get(action="region.update")
    assert event.before == {
        "parent_id": city["district_a"].pk,
        "path": "/449900/449901/P449951/",
    }
    assert event.after == {
        "parent_id": city["district_b"].pk,
        "path": "/449900/449902/P449951/",
    }


@pytest.mark.django_db
def test_changing_a_code_rewrites_descendant_paths(city, personas):
    services.update_region(city["district_a"], actor=personas["sysadmin"], code="449911")
    paths = dict(Region.objects.values_list("code", "path"))
    assert paths["449911"] == "/449900/449911/"
    assert paths["P449951"] == "/449900/449911/P449951/"
    assert "449901" not in paths


@pytest.mark.django_db
def test_region_cannot_move_under_its_own_descendant(city, personas):
    before = org_state()
    with pytest.raises(ValidationError) as excinfo:
        services.update_region(city["district_a"], actor=personas["sysadmin"], parent=city["park"])
    assert excinfo.value.message_dict == {"parent": ["上级区划不能是自身或其下级"]}
    assert org_state() == before
    assert AuditEvent.objects.filter(action="region.update").count() == 0
