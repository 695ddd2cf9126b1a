"""Writes of the surveys app (问卷调查). Each service runs in one transaction and writes one
audit event; round and version states move only through ``execute_transition``; notifications
go out after the commit. The parts: ``questionnaires`` (imports, versions, the bank),
``rounds`` (rounds, invitations, links, reminders), ``responses`` (drafts and submissions),
``index`` (the satisfaction index), ``follow_up`` (answers turned into requests and ledger
items)."""

from sizhen.surveys.services.common import AnswersRejected, SurveyConflict, SurveyError
from sizhen.surveys.services.follow_up import answer_to_rectification, answer_to_request
from sizhen.surveys.services.index import publish_index
from sizhen.surveys.services.questionnaires import (
    add_question,
    create_bank_item,
    edit_question,
    editable_version,
    import_xlsform,
    publish_version,
    remove_question,
)
from sizhen.surveys.services.responses import (
    answer_invitation,
    draft_answers,
    save_draft,
    submit_response,
)
from sizhen.surveys.services.rounds import (
    close_due_rounds,
    create_round,
    enqueue_index_publication,
    invitation_for_token,
    invite_enterprises,
    issue_links,
    open_round_of,
    remind_non_responders,
    transition_round,
)

__all__ = [
    "AnswersRejected",
    "SurveyConflict",
    "SurveyError",
    "add_question",
    "answer_invitation",
    "answer_to_rectification",
    "answer_to_request",
    "close_due_rounds",
    "create_bank_item",
    "create_round",
    "draft_answers",
    "edit_question",
    "editable_version",
    "enqueue_index_publication",
    "import_xlsform",
    "invitation_for_token",
    "invite_enterprises",
    "issue_links",
    "open_round_of",
    "publish_index",
    "publish_version",
    "remind_non_responders",
    "remove_question",
    "save_draft",
    "submit_response",
    "transition_round",
]
