"""Every form and list filter that picks among departments, regions, indicators or enterprises
does it with the searchable picker of that kind (issue 17, point 8)."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from sizhen.accounts import filters as account_filters
from sizhen.accounts import forms as account_forms
from sizhen.core.widgets import SearchableSelect, SearchableSelectMultiple
from sizhen.dispatch import forms as dispatch_forms
from sizhen.enterprise_requests import forms as request_forms
from sizhen.enterprise_requests import views_analysis
from sizhen.indicators.catalogue import forms as catalogue_forms
from sizhen.indicators.catalogue.pickers import describe_indicators
from sizhen.indicators.filling import forms as filling_forms
from sizhen.indicators.filling.views.tasks import FillingTaskFilter
from sizhen.indicators.ingestion import forms as ingestion_forms
from sizhen.monitoring import forms as monitoring_forms
from sizhen.organisations import filters as organisation_filters
from sizhen.organisations import forms as organisation_forms
from sizhen.organisations.pickers import (
    describe_departments,
    describe_enterprises,
    describe_regions,
)
from sizhen.rectification import forms as rectification_forms
from sizhen.reports import forms as report_forms
from sizhen.surveys import forms as survey_forms
from sizhen.work_tasks import forms as task_forms

DEPARTMENTS, REGIONS, INDICATORS, ENTERPRISES = (
    describe_departments,
    describe_regions,
    describe_indicators,
    describe_enterprises,
)
ONE, MANY = SearchableSelect, SearchableSelectMultiple

#: (form or filter class, field name, describer, widget class) of every declared field.
DECLARED: list[tuple[type[Any], str, Any, type[Any]]] = [
    (task_forms.AssignmentFilter, "department", DEPARTMENTS, ONE),
    (task_forms.AssignmentFilter, "district", REGIONS, ONE),
    (task_forms.IssueForm, "departments", DEPARTMENTS, MANY),
    (task_forms.IssueForm, "regions", REGIONS, MANY),
    (task_forms.IssueForm, "indicators", INDICATORS, MANY),
    (task_forms.TransferForm, "departments", DEPARTMENTS, MANY),
    (task_forms.TransferForm, "regions", REGIONS, MANY),
    (rectification_forms.ItemFilter, "lead_department", DEPARTMENTS, ONE),
    (rectification_forms.ItemFilter, "region", REGIONS, ONE),
    (rectification_forms.ItemForm, "region", REGIONS, ONE),
    (rectification_forms.ItemForm, "lead_department", DEPARTMENTS, ONE),
    (rectification_forms.ItemForm, "responsible_departments", DEPARTMENTS, MANY),
    (rectification_forms.ItemForm, "indicators", INDICATORS, MANY),
    (monitoring_forms.AlertFilter, "indicator", INDICATORS, ONE),
    (monitoring_forms.AlertFilter, "region", REGIONS, ONE),
    (monitoring_forms.AlertFilter, "lead_department", DEPARTMENTS, ONE),
    (monitoring_forms.TransitionForm, "department", DEPARTMENTS, ONE),
    (monitoring_forms.AlertRuleForm, "indicator", INDICATORS, ONE),
    (filling_forms.RoundForm, "indicators", INDICATORS, MANY),
    (filling_forms.RuleForm, "indicator", INDICATORS, ONE),
    (FillingTaskFilter, "region", REGIONS, ONE),
    (ingestion_forms.PullSourceForm, "department", DEPARTMENTS, ONE),
    (catalogue_forms.IndicatorForm, "lead_department", DEPARTMENTS, ONE),
    (catalogue_forms.IndicatorForm, "responsible_departments", DEPARTMENTS, MANY),
    (catalogue_forms.BenchmarkForm, "indicator", INDICATORS, ONE),
    (organisation_filters.RegionFilter, "within", REGIONS, ONE),
    (organisation_filters.DepartmentFilter, "region", REGIONS, ONE),
    (organisation_filters.EnterpriseFilter, "region", REGIONS, ONE),
    (account_forms.UserForm, "department", DEPARTMENTS, ONE),
    (account_forms.UserForm, "region", REGIONS, ONE),
    (account_forms.ApiTokenForm, "department", DEPARTMENTS, ONE),
    (account_filters.UserFilter, "department", DEPARTMENTS, ONE),
    (account_filters.UserFilter, "region", REGIONS, ONE),
    (account_filters.ApiTokenFilter, "department", DEPARTMENTS, ONE),
    (request_forms.RequestFilter, "lead_department", DEPARTMENTS, ONE),
    (request_forms.RequestFilter, "region", REGIONS, ONE),
    (request_forms.StaffIntakeForm, "enterprise", ENTERPRISES, ONE),
    (request_forms.StaffIntakeForm, "region", REGIONS, ONE),
    (request_forms.DispatchForm, "department", DEPARTMENTS, ONE),
    (request_forms.DispatchForm, "co_departments", DEPARTMENTS, MANY),
    (request_forms.ForumForm, "region", REGIONS, ONE),
    (request_forms.ForumForm, "enterprises", ENTERPRISES, MANY),
    (views_analysis.AnalysisForm, "department", DEPARTMENTS, ONE),
    (views_analysis.AnalysisForm, "district", REGIONS, ONE),
    (dispatch_forms.CatalogueEntryForm, "department", DEPARTMENTS, ONE),
    (survey_forms.InvitationFilter, "region", REGIONS, ONE),
    (survey_forms.ResponseFilter, "region", REGIONS, ONE),
    (survey_forms.RoundForm, "region", REGIONS, ONE),
    (survey_forms.InviteForm, "region", REGIONS, ONE),
    (report_forms.LetterForm, "indicator", INDICATORS, ONE),
    (report_forms.LetterForm, "region", REGIONS, ONE),
]


def _widget(owner: type[Any], name: str) -> forms.Widget:
    if hasattr(owner, "base_filters"):
        return owner.base_filters[name].field.widget  # type: ignore[no-any-return]
    return owner.base_fields[name].widget  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("owner", "name", "describe", "kind"),
    DECLARED,
    ids=[
        f"{owner.__module__.split('.')[-1]}.{owner.__name__}.{name}" for owner, name, *_ in DECLARED
    ],
)
@pytest.mark.django_db
def test_declared_field_is_a_picker(owner: type[Any], name: str, describe: Any, kind: Any) -> None:
    widget = _widget(owner, name)
    assert type(widget) is kind
    assert widget.describe is describe  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_region_fields_of_the_organisation_forms_are_pickers(personas: dict[str, Any]) -> None:
    actor = personas["sysadmin"]
    for form, name in (
        (organisation_forms.RegionForm(actor=actor), "parent"),
        (organisation_forms.DepartmentForm(actor=actor), "region"),
        (organisation_forms.EnterpriseForm(actor=actor), "region"),
    ):
        widget = form.fields[name].widget
        assert type(widget) is SearchableSelect, (type(form), name)
        assert widget.describe is describe_regions
