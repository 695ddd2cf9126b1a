"""Login, logout and password pages; user (用户) and API token (接口令牌) administration.

Passwords and token secrets are shown exactly once: in the response to the POST that created
them, marked not cacheable. They are never put in the session, a message, a redirect, a log or
the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from sizhen.accounts import selectors, services
from sizhen.accounts.filters import ApiTokenFilter, UserFilter
from sizhen.accounts.forms import ApiTokenForm, LoginForm, PasswordChangeForm, UserForm
from sizhen.accounts.models import ApiToken, ApiTokenScope, User
from sizhen.core import context
from sizhen.core.access import CHANGE, VIEW
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.organisations.validators import mask_phone

#: who may read the user list (read-only except for the system administrator); see User.scope_q


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _apply_errors(form: Form, exc: ValidationError, default_field: str | None = None) -> None:
    """Put a service's ValidationError on the form, keeping the error codes."""
    renamed: dict[str, str] = getattr(form, "FIELD_FOR_ERROR", {})
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            name = renamed.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(default_field, exc.error_list)


def _form_status(request: HttpRequest, form: Form) -> int:
    return 400 if request.method == "POST" and form.errors else 200


def _shown_once(response: HttpResponse) -> HttpResponse:
    # The page carries a password or token secret: no browser or proxy may keep a copy.
    add_never_cache_headers(response)
    response.headers["Pragma"] = "no-cache"
    return response


# --- login, logout, own password --------------------------------------------------------


@sensitive_post_parameters("password")
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = LoginForm(request.POST or None)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_user(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                client_address=context.current().client_address,
                request=request,
            )
        except services.LoginRefused as exc:
            form.add_error(None, str(exc))
        else:
            login(request, user)
            if user.must_change_password:
                messages.info(request, "首次登录或密码已被重置，请先设置您自己的密码")
                return redirect("accounts:password_change")
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = ""
            return redirect(target or "core:home")
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "next": target,
            "title": "登录",
            "lockout_attempts": settings.SIZHEN_LOCKOUT_ATTEMPTS,
            "lockout_minutes": settings.SIZHEN_LOCKOUT_MINUTES,
            "idle_minutes": settings.SIZHEN_IDLE_TIMEOUT_SECONDS // 60,
        },
        status=_form_status(request, form),
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.record_logout(request.user)
    logout(request)
    messages.info(request, "您已安全退出")
    return redirect("accounts:login")


@sensitive_post_parameters("old_password", "new_password", "new_password_again")
@never_cache
@login_required
def password_change_view(request: AuthenticatedRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                request.user,
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc, default_field="new_password")
        else:
            update_session_auth_hash(request, request.user)
            messages.success(request, "密码已修改")
            return redirect("core:home")
    return render(
        request,
        "accounts/password_change.html",
        {
            "form": form,
            "title": "修改密码",
            "must_change": request.user.must_change_password,
            "min_length": _password_min_length(),
            "history": _password_history(),
        },
        status=_form_status(request, form),
    )


def _password_min_length() -> int:
    from django.contrib.auth.password_validation import get_default_password_validators

    return max([0] + [getattr(v, "min_length", 0) for v in get_default_password_validators()])


def _password_history() -> int:
    from django.contrib.auth.password_validation import get_default_password_validators

    return max([0] + [getattr(v, "remember", 0) for v in get_default_password_validators()])


# --- users ---------------------------------------------------------------------------------


def _user_link(user: User) -> str:
    return reverse("accounts:user_detail", args=[user.pk])


class UserListView(ScopedListView):
    model = User
    title = "用户"
    roles = capability_roles("user.view")
    filterset_class = UserFilter
    search_fields = ("username", "full_name")
    search_placeholder = "用户名或姓名"
    default_sort = "username"
    export_name = "用户"
    columns = (
        ListColumn("username", "用户名", sort="username", link=_user_link),
        ListColumn("full_name", "姓名", sort="full_name"),
        ListColumn("role", "角色", sort="role"),
        ListColumn("scope_label", "数据范围", render=lambda u: u.scope_label),
        ListColumn("phone", "手机号", render=lambda u: mask_phone(u.phone)),
        ListColumn("is_active", "状态", sort="is_active", render=lambda u: _active_label(u)),
        ListColumn(
            "last_login", "最近登录", sort="last_login", render=lambda u: _local(u.last_login)
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return selectors.list_users(self.request.user, action)

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "user.admin"):
            return [PageAction("新建用户", reverse("accounts:user_create"), "primary")]
        return []


def _active_label(user: User) -> str:
    return "启用" if user.is_active else "停用"


@login_required
def user_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "user.view", action=VIEW, target="用户")
    user = selectors.get_user(request.user, pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "title": f"用户：{user.username}",
            "subject": user,
            "phone_masked": mask_phone(user.phone),
            "can_change": has_capability(request.user, "user.admin") and user.pk != request.user.pk,
            "can_edit": has_capability(request.user, "user.admin"),
        },
    )


@sensitive_variables("initial")
@login_required
def user_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "user.admin", action=CHANGE, target="新建用户")
    form = UserForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user, initial = services.create_user(actor=request.user, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _shown_once(
                render(
                    request,
                    "accounts/password_once.html",
                    {
                        "title": "用户已创建",
                        "subject": user,
                        "password": initial,
                        "kind": "create",
                    },
                )
            )
    return render(
        request,
        "accounts/user_form.html",
        {"title": "新建用户", "form": form, "cancel_url": reverse("accounts:user_list")},
        status=_form_status(request, form),
    )


@login_required
def user_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "user.admin", action=CHANGE, target="编辑用户")
    user = selectors.get_user(request.user, pk, CHANGE)
    form = UserForm(request.POST or None, actor=request.user, instance=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(user, actor=request.user, **form.service_fields())
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已保存用户 {user.username}")
            return redirect("accounts:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/user_form.html",
        {
            "title": f"编辑用户：{user.username}",
            "form": form,
            "subject": user,
            "cancel_url": reverse("accounts:user_detail", args=[user.pk]),
        },
        status=_form_status(request, form),
    )


def _user_state_change(request: AuthenticatedRequest, pk: int, *, active: bool) -> HttpResponse:
    label = "启用" if active else "停用"
    require_capability(request.user, "user.admin", action=CHANGE, target=f"{label}用户")
    user = selectors.get_user(request.user, pk, CHANGE)
    if request.method == "POST":
        try:
            services.set_user_active(user, actor=request.user, active=active)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已{label}用户 {user.username}")
        return redirect("accounts:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": f"{label}用户",
            "question": f"确定{label}用户“{user.audit_label}”吗？",
            "detail": (
                "启用后该用户可以重新登录。"
                if active
                else "停用后该用户立即退出且不能再登录，其历史记录保留。"
            ),
            "button": f"确认{label}",
            "danger": not active,
            "cancel_url": reverse("accounts:user_detail", args=[user.pk]),
        },
    )


@login_required
def user_disable(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _user_state_change(request, pk, active=False)


@login_required
def user_enable(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _user_state_change(request, pk, active=True)


@sensitive_variables("new_password")
@login_required
def user_reset_password(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "user.admin", action=CHANGE, target="重置密码")
    user = selectors.get_user(request.user, pk, CHANGE)
    if request.method == "POST":
        try:
            new_password = services.reset_password(user, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
            return redirect("accounts:user_detail", pk=user.pk)
        return _shown_once(
            render(
                request,
                "accounts/password_once.html",
                {
                    "title": "密码已重置",
                    "subject": user,
                    "password": new_password,
                    "kind": "reset",
                },
            )
        )
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": "重置密码",
            "question": f"确定重置用户“{user.audit_label}”的密码吗？",
            "detail": "系统将生成新密码并只显示一次；原密码立即失效，该用户已登录的会话随之退出。",
            "button": "确认重置",
            "danger": True,
            "cancel_url": reverse("accounts:user_detail", args=[user.pk]),
        },
    )


# --- API tokens ----------------------------------------------------------------------------

_SCOPE_LABELS = dict(ApiTokenScope.choices)


def _scopes_label(token: ApiToken) -> str:
    return "、".join(str(_SCOPE_LABELS.get(s, s)) for s in token.scopes)


def _revoke_link(token: ApiToken) -> str:
    return reverse("accounts:token_revoke", args=[token.pk]) if token.revoked_at is None else ""


class ApiTokenListView(ScopedListView):
    model = ApiToken
    title = "接口令牌"
    roles = capability_roles("user.admin")
    filterset_class = ApiTokenFilter
    search_fields = ("name", "prefix")
    search_placeholder = "名称或前缀"
    default_sort = "-created_at"
    columns = (
        ListColumn("name", "名称", sort="name"),
        ListColumn("department.name", "所属部门", sort="department__code"),
        ListColumn("prefix", "前缀", sort="prefix", render=lambda t: f"szk_{t.prefix}_…"),
        ListColumn("scopes", "权限范围", render=_scopes_label),
        ListColumn("state", "状态", render=lambda t: t.state_label),
        ListColumn(
            "created_at", "创建时间", sort="created_at", render=lambda t: _local(t.created_at)
        ),
        ListColumn(
            "expires_at", "到期时间", sort="expires_at", render=lambda t: _local(t.expires_at)
        ),
        ListColumn(
            "last_used_at", "最近使用", sort="last_used_at", render=lambda t: _local(t.last_used_at)
        ),
        ListColumn("last_used_address", "最近使用地址"),
        ListColumn(
            "revoke",
            "操作",
            render=lambda t: "吊销" if t.revoked_at is None else "",
            link=_revoke_link,
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return selectors.list_api_tokens(self.request.user, action)

    def page_actions(self) -> list[PageAction]:
        return [PageAction("新建令牌", reverse("accounts:token_create"), "primary")]


@sensitive_variables("secret")
@login_required
def token_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "user.admin", action=CHANGE, target="新建接口令牌")
    form = ApiTokenForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_api_token(
                actor=request.user,
                name=form.cleaned_data["name"],
                department=form.cleaned_data["department"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return _shown_once(
                render(
                    request,
                    "accounts/token_secret.html",
                    {
                        "title": "接口令牌已创建",
                        "token": token,
                        "secret": secret,
                        "scopes": _scopes_label(token),
                    },
                )
            )
    return render(
        request,
        "accounts/token_form.html",
        {"title": "新建接口令牌", "form": form},
        status=_form_status(request, form),
    )


@login_required
def token_revoke(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "user.admin", action=CHANGE, target="吊销接口令牌")
    token = selectors.get_api_token(request.user, pk, CHANGE)
    if token.revoked_at is not None:
        messages.info(request, f"令牌“{token}”已于 {_local(token.revoked_at)} 吊销")
        return redirect("accounts:token_list")
    if request.method == "POST":
        services.revoke_api_token(token, actor=request.user)
        messages.success(request, f"已吊销令牌“{token}”，使用该令牌的调用将立即被拒绝")
        return redirect("accounts:token_list")
    return render(
        request,
        "accounts/confirm.html",
        {
            "title": "吊销接口令牌",
            "question": f"确定吊销令牌“{token}”（{token.department}）吗？",
            "detail": "吊销后立即失效且不可恢复；如需继续对接，请新建令牌并更换对方系统中的配置。",
            "button": "确认吊销",
            "danger": True,
            "cancel_url": reverse("accounts:token_list"),
        },
    )
