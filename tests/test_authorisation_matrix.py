"""The authorisation matrix, generated from the URL configuration (DESIGN.md convention 4): every
URL pattern that takes an argument is found by walking the resolver, and for every demo role an
object that exists but lies outside that role's scope answers 404, exactly as a missing one
would; a refused write changes nothing. Anonymous visitors are sent to the login page (401 from
the API).

A pattern with an argument needs an entry in OBJECT_URLS (how to find an out-of-scope object for
its arguments) or in NOT_SCOPED (why its argument names no scoped object): a new URL with an
id and no entry fails the test, so the matrix cannot silently skip it. URLs are discovered from
the resolver only; no view module is imported here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db.models import Max, Model
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sizhen.accounts.models import ApiToken, User
from sizhen.assets.models import ArchiveDocument, ExtractRequest
from sizhen.core.models import AuditEvent, Job
from sizhen.dispatch.models import DispatchCatalogueEntry
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    Forum,
    RequestAttachment,
)
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.filling.models import FillingRound, FillingRule, FillingTask
from sizhen.indicators.ingestion.models import Dataset, LoadBatch, PullSource, QuarantineRow
from sizhen.monitoring.models import Alert, AlertRule
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.rectification.models import Evidence, RectificationItem
from sizhen.reports.models import ReminderLetter
from sizhen.surveys.models import Invitation, QuestionnaireVersion, Response, SurveyRound
from sizhen.thinktank.models import Policy, PolicyAttachment
from sizhen.thinktank.selectors import readable_policies
from sizhen.training.models import Attempt, Question, WrongAnswer
from sizhen.work_tasks.models import TaskAssignment, TaskFile, WorkTask

#: An id that names nothing: what a role refused before any lookup answers for it too.
MISSING_ID = 987_654_321


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    arguments: tuple[str, ...]


def routes() -> Iterator[Route]:
    """Every named URL pattern with its full route and the names of its arguments."""

    def walk(resolver: URLResolver, prefix: str, namespace: str | None) -> Iterator[Route]:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                arguments = tuple(pattern.pattern.regex.groupindex)
                yield Route(name, prefix + str(pattern.pattern), arguments)

    yield from walk(get_resolver(), "", None)


# -- finding an object a role may not see ----------------------------------------------------


def hidden(model: type[Model], actor: Any, **lookup: Any) -> Any:
    """An object of `model` that exists but that `actor` may not view, or None."""
    visible = model.objects.visible_to(actor, "view").values("pk")  # type: ignore[attr-defined]
    return model.objects.filter(**lookup).exclude(pk__in=visible).order_by("pk").first()  # type: ignore[attr-defined]


def hidden_child(model: type[Model], parent_field: str, parent: type[Model], actor: Any) -> Any:
    """A row of `model` whose parent (`parent_field`) `actor` may not view, or None."""
    visible = parent.objects.visible_to(actor, "view").values("pk")  # type: ignore[attr-defined]
    return (
        model.objects.exclude(**{f"{parent_field}__in": visible})  # type: ignore[attr-defined]
        .order_by("pk")
        .first()
    )


Finder = Callable[[Any], "tuple[dict[str, Any], Model] | None"]


def by(model: type[Model], **arguments: str | Callable[[Any], Any]) -> Finder:
    """URL arguments from an out-of-scope object: {"pk": "pk"} reads attributes, a callable
    computes the value."""

    def find(actor: Any) -> tuple[dict[str, Any], Model] | None:
        obj = hidden(model, actor)
        return None if obj is None else (_arguments(obj, arguments), obj)

    return find


def child(model: type[Model], parent_field: str, parent: type[Model], **arguments: Any) -> Finder:
    def find(actor: Any) -> tuple[dict[str, Any], Model] | None:
        obj = hidden_child(model, parent_field, parent, actor)
        return None if obj is None else (_arguments(obj, arguments), obj)

    return find


def _arguments(obj: Model, arguments: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for name, source in arguments.items():
        values[name] = source(obj) if callable(source) else getattr(obj, source)
    return values


ASSIGNMENT = by(TaskAssignment, pk="pk")
ITEM = by(RectificationItem, pk="pk")
REQUEST = by(EnterpriseRequest, pk="pk")
USER = by(User, pk="pk")
LOAD = by(LoadBatch, pk="pk")
ALERT = by(Alert, pk="pk")
LETTER = by(ReminderLetter, pk="pk")
DATASET = by(Dataset, code="code")
SURVEY_ROUND = by(SurveyRound, pk="pk")


def unpublished(model: type[Model], to_policy: str, **arguments: Any) -> Finder:
    """Policies and what hangs on them are public once published, anonymous visitors included:
    the out-of-scope object is one whose policy the actor may not read (a draft)."""

    def find(actor: Any) -> tuple[dict[str, Any], Model] | None:
        readable = readable_policies(actor).values("pk")
        lookup = {f"{to_policy}__in" if to_policy else "pk__in": readable}
        obj = model.objects.exclude(**lookup).order_by("pk").first()  # type: ignore[attr-defined]
        return None if obj is None else (_arguments(obj, arguments), obj)

    return find


POLICY = unpublished(Policy, "", pk="pk")

#: URL name -> how to find an out-of-scope object and the URL's arguments for it.
OBJECT_URLS: dict[str, Finder] = {
    "accounts:user_detail": USER,
    "accounts:user_edit": USER,
    "accounts:user_disable": USER,
    "accounts:user_enable": USER,
    "accounts:user_reset_password": USER,
    "accounts:token_revoke": by(ApiToken, pk="pk"),
    "organisations:region_detail": by(Region, code="code"),
    "organisations:region_edit": by(Region, code="code"),
    "organisations:department_detail": by(Department, code="code"),
    "organisations:department_edit": by(Department, code="code"),
    "organisations:enterprise_detail": by(Enterprise, uscc="uscc"),
    "organisations:enterprise_edit": by(Enterprise, uscc="uscc"),
    "indicator_data:dataset_detail": DATASET,
    "indicator_data:dataset_template": DATASET,
    "indicator_data:dataset_version_new": DATASET,
    "indicator_data:quarantine_list": DATASET,
    "indicator_data:quarantine_bulk": DATASET,
    "indicator_data:quarantine_row": child(QuarantineRow, "batch", LoadBatch, pk="pk"),
    "indicator_data:batch_detail": LOAD,
    "indicator_data:batch_progress": LOAD,
    "indicator_data:batch_errors_xlsx": LOAD,
    "indicator_filling:task_detail": by(FillingTask, pk="pk"),
    "indicator_filling:task_review": by(FillingTask, pk="pk"),
    "indicator_filling:round_detail": by(FillingRound, pk="pk"),
    "indicator_filling:rule_toggle": by(FillingRule, pk="pk"),
    "indicator_filling:pull_edit": by(PullSource, pk="pk"),
    "indicator_filling:pull_run": by(PullSource, pk="pk"),
    "monitoring:rule_edit": by(AlertRule, pk="pk"),
    "monitoring:rule_delete": by(AlertRule, pk="pk"),
    "monitoring:alert_detail": ALERT,
    "monitoring:alert_transition": by(Alert, pk="pk", action=lambda _: "acknowledge"),
    "reports:letter_detail": LETTER,
    "reports:letter_download": by(ReminderLetter, pk="pk", kind=lambda _: "docx"),
    "reports:letter_send": LETTER,
    "reports:letter_edit": LETTER,
    "reports:letter_discard": LETTER,
    "work_tasks:from_alert": by(Alert, alert_pk="pk"),
    "work_tasks:download": child(TaskFile, "task", WorkTask, pk="pk"),
    "work_tasks:detail": ASSIGNMENT,
    "work_tasks:transfer": ASSIGNMENT,
    "work_tasks:progress": ASSIGNMENT,
    "work_tasks:urge": ASSIGNMENT,
    "work_tasks:list_supervision": ASSIGNMENT,
    "work_tasks:meeting": ASSIGNMENT,
    "work_tasks:step": by(TaskAssignment, pk="pk", action=lambda _: "accept"),
    "rectification:item_from_alert": by(Alert, alert_pk="pk"),
    "rectification:evidence_download": by(Evidence, pk="pk"),
    "rectification:item_detail": ITEM,
    "rectification:item_step": by(RectificationItem, pk="pk", action=lambda _: "accept"),
    "rectification:item_progress": ITEM,
    "rectification:item_evidence": ITEM,
    "rectification:item_review": ITEM,
    "rectification:item_publish": ITEM,
    "rectification:item_unpublish": ITEM,
    "enterprise_requests:forum_detail": by(Forum, pk="pk"),
    "enterprise_requests:detail": REQUEST,
    "enterprise_requests:act": by(EnterpriseRequest, pk="pk", action=lambda _: "accept"),
    "enterprise_requests:attachment": child(
        RequestAttachment, "request", EnterpriseRequest, pk="request_id", attachment_pk="pk"
    ),
    "dispatch:entry_edit": by(DispatchCatalogueEntry, pk="pk"),
    "api:get_region": by(Region, code="code"),
    "api:get_department": by(Department, code="code"),
    "api:get_enterprise": by(Enterprise, uscc="uscc"),
    "api:push_records": by(Dataset, dataset="code"),
    "api:get_batch": by(LoadBatch, batch_id="pk"),
    "api:list_batch_errors": by(LoadBatch, batch_id="pk"),
    "api:dataset_freshness": DATASET,
    "api:task_detail": ASSIGNMENT,
    "api:transfer": ASSIGNMENT,
    "api:progress": ASSIGNMENT,
    "api:take_step": by(TaskAssignment, pk="pk", action=lambda _: "accept"),
    "api:get_item": by(RectificationItem, item_id="pk"),
    "api:post_progress": by(RectificationItem, item_id="pk"),
    "api:post_step": by(RectificationItem, item_id="pk", action=lambda _: "accept"),
    "api:get_request": by(EnterpriseRequest, number="number"),
    "surveys:round_detail": SURVEY_ROUND,
    "surveys:round_rates": SURVEY_ROUND,
    "surveys:round_step": by(SurveyRound, pk="pk", action=lambda _: "open"),
    "surveys:round_invite": SURVEY_ROUND,
    "surveys:round_remind": SURVEY_ROUND,
    "surveys:round_links": SURVEY_ROUND,
    "surveys:invitation_list": SURVEY_ROUND,
    "surveys:round_results": SURVEY_ROUND,
    "surveys:round_index_publish": SURVEY_ROUND,
    "surveys:response_detail": by(Response, pk="pk"),
    "surveys:response_follow_up": by(Response, pk="pk"),
    "surveys:answer": by(Invitation, pk="pk"),
    "core:job_progress": by(Job, pk="pk"),
    "thinktank:policy_detail": POLICY,
    "thinktank:policy_edit": POLICY,
    "thinktank:policy_step": unpublished(Policy, "", pk="pk", action=lambda _: "publish"),
    "thinktank:policy_attachment": POLICY,
    "thinktank:policy_redemption": POLICY,
    "thinktank:policy_push": POLICY,
    "thinktank:policy_confirm": POLICY,
    "thinktank:attachment_download": unpublished(PolicyAttachment, "policy", pk="pk"),
    "api:get_policy_api": unpublished(Policy, "", policy_id="pk"),
    "api:enterprise_policies": by(Enterprise, uscc="uscc"),
    "training:attempt_detail": by(Attempt, pk="pk"),
    "training:attempt_answer": by(Attempt, pk="pk"),
    "training:attempt_submit": by(Attempt, pk="pk"),
    "training:wrong_practise": by(WrongAnswer, pk="pk"),
    "training:question_edit": by(Question, pk="pk"),
    "assets:dataset": DATASET,
    "assets:dataset_profile": DATASET,
    "assets:document_detail": by(ArchiveDocument, pk="pk"),
    "assets:document_download": by(ArchiveDocument, pk="pk"),
    "assets:extract_detail": by(ExtractRequest, pk="pk"),
    "assets:extract_download": by(ExtractRequest, pk="pk"),
    "assets:extract_decide": by(ExtractRequest, pk="pk", action=lambda _: "approve"),
}

#: What the public may read (published policies): an anonymous visitor asking for an object out
#: of its scope (a draft policy) gets the 404 everyone gets, instead of the login page or a 401.
PUBLIC_OBJECT_URLS = frozenset(
    {"thinktank:policy_detail", "thinktank:attachment_download", "api:get_policy_api"}
)

#: URL name -> why its arguments name no object that some role must not see.
NOT_SCOPED: dict[str, str] = {
    "organisations:region_import_report": "a staged import's secret token, bound to the session",
    "organisations:department_import_report": "a staged import's secret token",
    "organisations:enterprise_import_report": "a staged import's secret token",
    "indicators:indicator_detail": "the indicator catalogue is city-wide reference data",
    "indicators:indicator_edit": "catalogue edits are gated by role, not by scope",
    "indicators:goalpost_edit": "catalogue edits are gated by role, not by scope",
    "indicators:cycle_set_current": "evaluation cycles are city-wide",
    "indicators:benchmark_edit": "benchmark cities' values are city-wide reference data",
    "indicators:benchmark_delete": "benchmark cities' values are city-wide reference data",
    "enterprise_requests_analysis:report_download": "a month; the report is scoped inside",
    "open311:discovery": "a response format",
    "open311:services": "a response format",
    "open311:service": "the public service catalogue (GeoReport v2)",
    "open311:requests": "a response format",
    "open311:request": "the public, masked request (GeoReport v2)",
    "enterprise_requests:category_edit": "the request taxonomy is read by everyone logged in; "
    "edits are gated by role",
    "dashboards:indicator": "an indicator code; its values are scoped inside the page",
    "dashboards:records": "an indicator code; the region is a query parameter scoped inside",
    "api:get_indicator": "the indicator catalogue is city-wide reference data",
    "api:list_indicator_values": "an indicator code; its values are scoped inside",
    "api:latest_indicator_value": "an indicator code; the region is a query parameter scoped "
    "inside, and so are its values",
    "api:list_department_values": "an indicator code; its department figures are scoped inside "
    "(tested in dashboards/tests/test_departments.py)",
    "core:module": "a navigation module's slug",
    "surveys:questionnaire_detail": "questionnaires are city-wide reference data; its rounds are "
    "scoped inside",
    "surveys:preview": "questionnaires are city-wide reference data",
    "surveys:export_xlsform": "questionnaires are city-wide reference data",
    "surveys:publish": "questionnaire edits are gated by role, not by scope",
    "surveys:round_create": "starting a round is gated by role, not by scope",
    "surveys:answer_link": "a one-time secret token naming its own invitation",
    "api:post_response": "a questionnaire code; the enterprise (body) is scoped inside",
    "api:get_results": "a questionnaire code; the round and region are scoped inside",
    "api:get_index": "a questionnaire code; the round and the index's regions are scoped inside",
    "core:calendar_delete_day": "the working-day calendar is city-wide (system administrator)",
    "training:material_detail": "learning materials are reference data every member of staff "
    "reads; the progress recorded is the reader's own",
    "training:material_file": "learning materials are reference data every member of staff reads",
    "training:material_progress": "the progress written is the actor's own",
    "training:material_edit": "material edits are gated by role, not by scope",
    "training:course_detail": "courses are reference data; the progress shown is scoped inside",
    "training:course_assign": "assigning a course is gated by role, not by scope",
    "training:exam_detail": "exams are reference data; the results shown are scoped inside",
    "training:exam_step": "publishing and closing exams is gated by role, not by scope",
    "training:exam_start": "the attempt started is the actor's own, if in the exam's audience",
    "training:exam_report": "exams are reference data; the report holds the results scoped inside",
    "assets:indicator": "the indicator catalogue is city-wide reference data; what uses it is "
    "counted within the viewer's scope",
    "api:get_asset": "an asset of the city-wide catalogue; rounds and uses are scoped inside",
}

#: The demo's roles (manage.py demo): two district officers, a park, departments of the city
#: and of a district, two enterprises, and the city-wide roles.
DEMO_USERNAMES = (
    "leader",
    "coordinator",
    "lead_dept",
    "resp_dept",
    "resp_city",
    "district_dh",
    "district_xs",
    "park_gx",
    "enterprise",
    "enterprise_xs",
    "sysadmin",
)


def test_every_url_with_an_argument_is_in_the_matrix() -> None:
    with_arguments = {r.name for r in routes() if r.arguments}
    assert sorted(with_arguments - OBJECT_URLS.keys() - NOT_SCOPED.keys()) == []
    # Entries for URLs that no longer exist would hide a rename.
    assert sorted((OBJECT_URLS.keys() | NOT_SCOPED.keys()) - with_arguments) == []
    assert OBJECT_URLS.keys() & NOT_SCOPED.keys() == set()


# -- the objects ------------------------------------------------------------------------------


@pytest.fixture
def demo(db: Any, settings: Any, tmp_path: Any) -> dict[str, User]:
    """The demo city, plus one object of each kind the demo does not make, owned by 西山区 (and
    where the kind is per user, by two users), so that every role has something out of scope."""
    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("demo", "--if-empty", verbosity=0)
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES)}
    west, east = users["district_xs"].region, users["district_dh"].region
    for region in (west, east):
        department = Department.objects.filter(region=region).order_by("pk").first()
        indicator = Indicator.objects.filter(parent__isnull=False).order_by("-level", "pk").first()
        dataset = Dataset.objects.order_by("pk").first()
        assert department is not None and indicator is not None and dataset is not None
        batch = LoadBatch.objects.create(
            dataset=dataset,
            schema_version=1,
            channel="file",
            content_hash=f"matrix-{region.code}",
            department=department,
        )
        QuarantineRow.objects.create(batch=batch, dataset=dataset, row=1, data={}, errors=[])
        Alert.objects.create(
            indicator=indicator,
            region=region,
            kind="cross_sectional_extreme",
            severity="red",
            value=1.0,
            method="modified_z",
            score=4.0,
            explanation="矩阵测试",
        )
        round_ = FillingRound.objects.create(
            title="矩阵测试", period=dt.date(2026, 1, 1), working_days=10,
            deadline=dt.date(2026, 2, 13),
        )  # fmt: skip
        FillingTask.objects.create(
            round=round_, indicator=indicator, region=region, department=department,
            period=dt.date(2026, 1, 1), deadline=dt.date(2026, 2, 13),
        )  # fmt: skip
        ReminderLetter.objects.create(
            year=2026, sequence=region.pk, number=f"提醒函-{region.code}", indicator=indicator,
            region=region, department=department, period=dt.date(2026, 1, 1),
            deadline=dt.date(2026, 2, 13), requested_action="整改", content={},
            docx="", pdf="",
        )  # fmt: skip
        ApiToken.objects.create(
            name="矩阵测试", department=department, prefix=f"m{region.pk}", key_hash=f"h{region.pk}"
        )
        PullSource.objects.create(
            dataset=dataset, department=department, name="矩阵测试", kind="http_json",
            url="http://127.0.0.1:9/records", watermark_field="updated_at",
        )  # fmt: skip
        task = WorkTask.objects.filter(assignments__region=region).order_by("pk").first()
        if task is not None:
            TaskFile.objects.create(
                task=task, file="", name="a.pdf", size=1, uploaded_by_label="矩阵测试"
            )
        version = QuestionnaireVersion.objects.filter(status="published").order_by("pk").first()
        assert version is not None
        SurveyRound.objects.create(
            questionnaire=version.questionnaire, form_version=version, title="矩阵测试",
            region=region, deadline=dt.date(2026, 2, 13),
        )  # fmt: skip
        request = EnterpriseRequest.objects.filter(region=region).order_by("pk").first()
        if request is not None:
            RequestAttachment.objects.create(request=request, file="", name="a.pdf")
    rule_indicator = Indicator.objects.filter(parent__isnull=False).order_by("pk").first()
    assert rule_indicator is not None
    FillingRule.objects.create(indicator=rule_indicator, kind="range")
    AlertRule.objects.create(indicator=rule_indicator)
    for username in ("coordinator", "district_xs"):
        Job.objects.create(name="矩阵测试", created_by=users[username])
    # A draft policy's attachment: the demo's drafts have none.
    draft = Policy.objects.filter(status="draft").order_by("pk").first()
    assert draft is not None
    PolicyAttachment.objects.create(policy=draft, file="", name="征求意见稿.pdf")
    return users


# -- the matrix -------------------------------------------------------------------------------


#: One JSON body that every API write's schema accepts, so that a request reaches the lookup.
API_BODY = {
    "note": "矩阵测试",
    "content": "矩阵测试",
    "percent": 10,
    "mode": "strict",
    "records": [{"case_id": "matrix-1"}],
}


def _request(client: Client, url: str) -> Any:
    """GET the page; a view that takes POST only is asked by POST."""
    response = client.get(url)
    if response.status_code == 405:
        if url.startswith("/api/"):
            response = client.post(url, API_BODY, content_type="application/json")
        else:
            response = client.post(url)
    return response


def test_out_of_scope_objects_answer_404_for_every_demo_role(demo: dict[str, User]) -> None:
    """One test, so that the demo city is built once."""
    failures = _anonymous_failures(demo)
    checked: dict[str, int] = {}
    by_name = {r.name: r for r in routes() if r.arguments}
    for username in DEMO_USERNAMES:
        actor = demo[username]
        client = Client()
        client.force_login(actor)
        for name, find in OBJECT_URLS.items():
            found = find(actor)
            if found is None:
                continue  # the role sees every object of this kind
            arguments, obj = found
            url = reverse(name, kwargs=arguments)
            before = model_to_dict(obj)
            last_event = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
            response = _request(client, url)
            status = response.status_code
            if status != 404:
                # A role refused before any lookup (403) learns nothing either: the same answer
                # comes for an id that names nothing.
                missing = {k: MISSING_ID if k.endswith("pk") else v for k, v in arguments.items()}
                probe = _request(client, reverse(name, kwargs=missing))
                if not (status == 403 and probe.status_code == 403):
                    failures.append(f"{username} {by_name[name].route} {url}: {status}")
            obj.refresh_from_db()
            if model_to_dict(obj) != before:
                failures.append(f"{username} {url}: the object changed")
            written = AuditEvent.objects.filter(pk__gt=last_event).exclude(action="access.denied")
            if written.exists():
                failures.append(f"{username} {url}: wrote {list(written.values_list('action'))}")
            checked[name] = checked.get(name, 0) + 1
    assert failures == [], "\n".join(failures)
    # Every object URL met an out-of-scope object for at least the other district's officer.
    assert sorted(set(OBJECT_URLS) - set(checked)) == []


def _anonymous_failures(demo: dict[str, User]) -> list[str]:
    client = Client()
    failures = []
    for name, find in OBJECT_URLS.items():
        found = find(AnonymousUser())
        assert found is not None, name
        url = reverse(name, kwargs=found[0])
        response = _request(client, url)
        if name in PUBLIC_OBJECT_URLS:
            refused = response.status_code == 404
        elif url.startswith("/api/"):
            refused = response.status_code == 401
        else:
            refused = response.status_code == 302 and response["Location"].startswith(
                "/accounts/login/"
            )
        if not refused:
            failures.append(f"anonymous {url}: {response.status_code}")
    return failures
