"""Writing a questionnaire as an XLSForm workbook (survey, choices, settings) that
``read_xlsform``, ODK and KoboToolbox read back."""

from __future__ import annotations

from typing import Any

from sizhen.core.xlsx import build_workbook
from sizhen.surveys.choices import QuestionType as T
from sizhen.surveys.structure import FormData
from sizhen.surveys.xlsform.common import LANGUAGE

SURVEY_HEADERS = [
    "type",
    "name",
    f"label::{LANGUAGE}",
    f"hint::{LANGUAGE}",
    "required",
    "relevant",
    "constraint",
    f"constraint_message::{LANGUAGE}",
    "choice_filter",
    "appearance",
    "parameters",
    "weight",
    "bank",
]


def _list_names(form: FormData) -> dict[str, str]:
    """Each choice question's list name; questions sharing a name with other choices get
    their own."""
    used: dict[str, list[tuple[str, str]]] = {}
    names: dict[str, str] = {}
    for q in form.questions():
        if q.type not in (T.SINGLE, T.MULTIPLE, T.MATRIX):
            continue
        wanted = q.list_name or f"{q.name}_options"
        signature = [(c.name, c.label) for c in q.choices]
        if wanted in used and used[wanted] != signature:
            wanted = f"{wanted}_{q.name}"
        used.setdefault(wanted, signature)
        names[q.name] = wanted
    return names


def write_xlsform(form: FormData, *, version_label: str = "") -> bytes:
    """The form as an XLSForm workbook that ``read_xlsform`` (and ODK, Kobo) reads back."""
    lists = _list_names(form)
    survey: list[list[Any]] = []

    def row(kind: str, name: str, label: str = "", **extra: Any) -> list[Any]:
        values = {"type": kind, "name": name, f"label::{LANGUAGE}": label, **extra}
        return [values.get(h, "") for h in SURVEY_HEADERS]

    for index, section in enumerate(form.sections):
        grouped = bool(section.name or section.label or section.relevant)
        if grouped:
            survey.append(
                row(
                    "begin_group",
                    section.name or f"section_{index + 1}",
                    section.label,
                    relevant=section.relevant,
                )
            )
        for q in section.questions:
            common = {
                f"hint::{LANGUAGE}": q.hint,
                "required": "yes" if q.required else "",
                "relevant": q.relevant,
                "constraint": q.constraint,
                f"constraint_message::{LANGUAGE}": q.constraint_message,
                "choice_filter": q.choice_filter,
                "weight": q.weight or "",
                "bank": q.bank_code,
            }
            if q.type == T.MATRIX:
                survey.append(
                    row(
                        "begin_group",
                        q.name,
                        q.label,
                        appearance="table-list",
                        relevant=q.relevant,
                        weight=q.weight or "",
                        **{f"hint::{LANGUAGE}": q.hint},
                    )
                )
                for matrix_row in q.rows:
                    survey.append(
                        row(
                            f"select_one {lists[q.name]}",
                            matrix_row["name"],
                            matrix_row.get("label", ""),
                            required="yes" if q.required else "",
                        )
                    )
                survey.append(row("end_group", ""))
                continue
            kinds: dict[str, str] = {
                T.SINGLE: f"select_one {lists.get(q.name, '')}",
                T.MULTIPLE: f"select_multiple {lists.get(q.name, '')}",
                T.RATING: "range",
            }
            kind = kinds.get(q.type, q.type)
            if q.type == T.RATING:
                p = q.parameters
                common["parameters"] = (
                    f"start={p.get('start', 1)} end={p.get('end', 5)} step={p.get('step', 1)}"
                )
            survey.append(row(kind, q.name, q.label, **common))
        if grouped:
            survey.append(row("end_group", ""))
    filter_columns = sorted(
        {key for q in form.questions() for c in q.choices for key in c.filters if key != "name"}
    )
    choices: list[list[Any]] = []
    written: set[str] = set()
    for q in form.questions():
        list_name = lists.get(q.name)
        if list_name is None or list_name in written:
            continue
        written.add(list_name)
        for c in q.choices:
            choices.append(
                [list_name, c.name, c.label, *(c.filters.get(k, "") for k in filter_columns)]
            )
    settings = {
        "form_title": form.title,
        "form_id": form.code,
        "version": version_label or form.settings.get("version", ""),
        "default_language": LANGUAGE,
    }
    return build_workbook(
        [
            ("survey", SURVEY_HEADERS, survey),
            ("choices", ["list_name", "name", f"label::{LANGUAGE}", *filter_columns], choices),
            ("settings", list(settings), [list(settings.values())]),
        ]
    )
