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


@pytest.fixture
def index_round(personas: dict[str, Any], city: dict[str, Any], settings: Any) -> SurveyRound:
    """The index questionnaire's city-wide round, answered by five enterprises (three in 东湖区
    with its park, two in 西山区; support.INDEX_ANSWERS) and closed; the catalogue loaded (BE16.02,
    BE18.07 with goalposts 0–100), the minimum sample 3."""
    from sizhen.indicators.catalogue.imports import load_default_catalogue
    from sizhen.indicators.catalogue.models import Indicator
    from sizhen.organisations.models import Enterprise
    from sizhen.organisations.validators import build_uscc
    from sizhen.surveys.choices import Channel
    from sizhen.surveys.models import BankItem, Question
    from sizhen.surveys.tests.support import INDEX_ANSWERS, index_workbook

    settings.SIZHEN_SURVEY_MIN_SAMPLE = 3
    load_default_catalogue(actor=None)
    coordinator = personas["coordinator"]
    version = services.import_xlsform(
        index_workbook(), actor=coordinator, file_name="index_test.xlsx", publish=True
    )
    bank = BankItem.objects.create(
        code="IP",
        type="rating",
        label="知识产权保护力度",
        indicator=Indicator.objects.get(code="BE16.02"),
    )
    Question.objects.filter(version=version, name="ip").update(bank_item=bank)
    for key, region, code in (
        ("enterprise_a2", city["district_a"], "MA0000044"),
        ("enterprise_b2", city["district_b"], "MA0000055"),
    ):
        city[key] = Enterprise.objects.create(
            uscc=build_uscc(region.code, code),
            name=f"{region.name}测试企业",
            industry_code="I6510",
            region=region,
            size="small",
        )
    survey_round = make_round(
        version.questionnaire, coordinator, city["root"], "满意度指数测试", days=14, open_it=True
    )
    for key, answers in INDEX_ANSWERS:
        services.submit_response(
            survey_round,
            actor=coordinator,
            enterprise=city[key],
            answers=answers,
            channel=Channel.PAPER,
        )
    return services.transition_round(survey_round, "close", actor=coordinator)
