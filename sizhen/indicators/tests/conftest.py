"""Fixtures shared by the indicator tests."""

from __future__ import annotations

import pytest

from sizhen.indicators.catalogue.models import Indicator


@pytest.fixture
def store_dir(tmp_path, settings):
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    return settings.SIZHEN_ANALYTICS_DIR


@pytest.fixture
def government_service_indicators(db):
    root = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE15", name="政务服务", parent=root, level=1, direction="higher_is_better"
    )
    leaves = {
        "BE15.01": ("全程网办率", "higher_is_better"),
        "BE15.02": ("承诺时限压缩率", "higher_is_better"),
        "BE15.03": ("按时办结率", "higher_is_better"),
        "BE15.06": ("办结量", "higher_is_better"),
        "BE15.07": ("平均办理时间", "lower_is_better"),
    }
    for code, (name, direction) in leaves.items():
        Indicator.objects.create(
            code=code, name=name, parent=parent, level=2, direction=direction, source_kind="records"
        )
