"""Password policy validators (等保 2.0: complexity and history)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    MinimumLengthValidator,
    NumericPasswordValidator,
    UserAttributeSimilarityValidator,
)
from django.core.exceptions import ValidationError


# Django's own validators speak the active language, which is English wherever no request has
# activated Chinese (services, commands, the API): these say the same in Chinese always.
class ChineseMinimumLengthValidator(MinimumLengthValidator):
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < self.min_length:
            raise ValidationError(
                f"密码太短，至少需要 {self.min_length} 个字符", code="password_too_short"
            )

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"


def _in_chinese(base: type[Any], message: str, code: str, help_text: str) -> type[Any]:
    class Validator(base):
        def validate(self, password: str, user: Any = None) -> None:
            try:
                super().validate(password, user)
            except ValidationError:
                raise ValidationError(message, code=code) from None

        def get_help_text(self) -> str:
            return help_text

    Validator.__name__ = Validator.__qualname__ = f"Chinese{base.__name__}"
    return Validator


ChineseUserAttributeSimilarityValidator = _in_chinese(
    UserAttributeSimilarityValidator,
    "密码与用户名、姓名或邮箱过于相似",
    "password_too_similar",
    "密码不能与用户名、姓名或邮箱过于相似。",
)
ChineseCommonPasswordValidator = _in_chinese(
    CommonPasswordValidator, "密码过于常见", "password_too_common", "不能使用常见密码。"
)
ChineseNumericPasswordValidator = _in_chinese(
    NumericPasswordValidator,
    "密码不能全为数字",
    "password_entirely_numeric",
    "密码不能全为数字。",
)


class ComplexityValidator:
    """At least three of: upper-case letters, lower-case letters, digits, symbols."""

    def validate(self, password: str, user: Any = None) -> None:
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、符号中的三类", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return "密码须至少包含大写字母、小写字母、数字、符号中的三类。"


class HistoryValidator:
    """The new password must differ from the current one and the last ``remember`` ones."""

    def __init__(self, remember: int = 5):
        self.remember = remember

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        if user.password and check_password(password, user.password):
            raise ValidationError("新密码不能与当前密码相同", code="password_reused")
        recent = user.password_history.all()[: self.remember]
        for entry in recent:
            if check_password(password, entry.password):
                raise ValidationError(
                    f"新密码不能与最近 {self.remember} 次使用过的密码相同", code="password_reused"
                )

    def get_help_text(self) -> str:
        return f"不能与最近 {self.remember} 次使用过的密码相同。"
