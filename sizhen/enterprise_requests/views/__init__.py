"""Pages of enterprise requests (企业诉求)."""

from sizhen.enterprise_requests.views.admin import (
    CategoryListView,
    ForumListView,
    category_edit,
    forum_create,
    forum_detail,
)
from sizhen.enterprise_requests.views.detail import act, attachment, detail
from sizhen.enterprise_requests.views.lists import (
    MyRequestsView,
    RequestListView,
    index,
    public,
    register,
    submit,
)

__all__ = [
    "CategoryListView",
    "ForumListView",
    "MyRequestsView",
    "RequestListView",
    "act",
    "attachment",
    "category_edit",
    "detail",
    "forum_create",
    "forum_detail",
    "index",
    "public",
    "register",
    "submit",
]
