"""Writes of enterprise requests (企业诉求). Every function takes a keyword-only ``actor``, runs
in one transaction and writes one audit event (state changes write theirs through the workflow
engine). Import from here: ``services.submit_request``, ``services.dispatch_request`` …"""

from sizhen.enterprise_requests.services.common import (
    RequestError,
    department_users,
    managers,
    review_required,
)
from sizhen.enterprise_requests.services.escalation import (
    escalate_idle_requests,
    escalation_days,
    first_contact_hours,
    record_contact,
)
from sizhen.enterprise_requests.services.handling import (
    accept_request,
    approve_reply,
    assign_second_time,
    close_unsatisfied,
    dispatch_request,
    merge_requests,
    record_revisit,
    refer_to_discipline,
    register_request,
    reject_request,
    reply_request,
    return_request,
    send_back_reply,
    time_limit_for,
    withdraw_request,
)
from sizhen.enterprise_requests.services.intake import (
    add_attachments,
    find_duplicate,
    flag_pending_duplicates,
    submit_request,
)
from sizhen.enterprise_requests.services.supervision import (
    CATEGORY_FIELDS,
    add_message,
    create_forum,
    decide_extension,
    list_for_supervision,
    request_extension,
    save_category,
    set_published,
    urge_request,
)

__all__ = [
    "CATEGORY_FIELDS",
    "RequestError",
    "accept_request",
    "add_attachments",
    "add_message",
    "approve_reply",
    "assign_second_time",
    "close_unsatisfied",
    "create_forum",
    "decide_extension",
    "department_users",
    "dispatch_request",
    "escalate_idle_requests",
    "escalation_days",
    "find_duplicate",
    "first_contact_hours",
    "flag_pending_duplicates",
    "list_for_supervision",
    "managers",
    "merge_requests",
    "record_contact",
    "record_revisit",
    "refer_to_discipline",
    "register_request",
    "reject_request",
    "reply_request",
    "request_extension",
    "return_request",
    "review_required",
    "save_category",
    "send_back_reply",
    "set_published",
    "submit_request",
    "time_limit_for",
    "urge_request",
    "withdraw_request",
]
