"""Fixtures of the surveys tests: the sample questionnaire imported and published, and a
city-wide round open for the persona city's enterprises."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.surveys import services
from sizhen.surveys.models import Questionnaire, SurveyRound
from sizhen.surveys.tests.support import make_round, sample_workbook


@pytest.fixture
def questionnaire(personas: dict[str, Any]) -> Questionnaire:
    version = services.import_xlsform(
        sample_workbook(), actor=personas["coordinator"], file_name="sat_test.xlsx", publish=True
    )
    return version.questionnaire


@pytest.fixture
def city_round(
    questionnaire: Questionnaire, personas: dict[str, Any], city: dict[str, Any]
) -> SurveyRound:
    """Open, over the whole city; enterprise_a and enterprise_b invited (the park's not)."""
    coordinator = personas["coordinator"]
    survey_round = make_round(
        questionnaire, coordinator, city["root"], "2026 年营商环境满意度调查", days=14
    )
    services.invite_enterprises(
        survey_round, actor=coordinator, enterprises=[city["enterprise_a"], city["enterprise_b"]]
    )
    return services.transition_round(survey_round, "open", actor=coordinator)
