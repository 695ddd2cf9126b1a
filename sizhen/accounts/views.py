from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sizhen.accounts import services
from sizhen.accounts.forms import LoginForm, PasswordChangeForm
from sizhen.core import context


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("core:home")
    form = LoginForm(request.POST or None)
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
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                target = ""
            if user.must_change_password:
                messages.info(request, "首次登录或密码已被重置，请先设置您自己的密码")
                return redirect("accounts:password_change")
            return redirect(target or "core:home")
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.GET.get("next", ""), "title": "登录"},
        status=400 if request.method == "POST" and not form.is_valid() else 200,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.record_logout(request.user)
    logout(request)
    messages.info(request, "您已安全退出")
    return redirect("accounts:login")


@login_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(
                request.user,  # type: ignore[arg-type]
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else "new_password", errors)
            else:
                form.add_error("new_password", exc.messages)
        else:
            update_session_auth_hash(request, request.user)  # type: ignore[arg-type]
            messages.success(request, "密码已修改")
            return redirect("core:home")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "title": "修改密码", "must_change": request.user.must_change_password},  # type: ignore[union-attr]
    )
