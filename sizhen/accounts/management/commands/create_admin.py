"""python manage.py create_admin USERNAME --department CODE [--full-name NAME]

Creates the first system administrator on a new installation. The generated initial password
is printed once; it must be changed at first login."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sizhen.accounts.models import User
from sizhen.accounts.services import create_user
from sizhen.core.roles import Role
from sizhen.organisations.models import Department


class Command(BaseCommand):
    help = "创建系统管理员账号（新安装时使用），初始密码只显示一次，首次登录须修改"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--department", required=True, help="所属部门编码")
        parser.add_argument("--full-name", default="", help="姓名")

    def handle(self, *args: Any, **options: Any) -> None:
        department = Department.objects.filter(code=options["department"]).first()
        if department is None:
            raise CommandError(f"未找到部门编码 {options['department']}，请先导入部门")
        if User.objects.filter(username__iexact=options["username"]).exists():
            raise CommandError(f"用户名 {options['username']} 已存在")
        try:
            user, password = create_user(
                actor=None,
                username=options["username"],
                full_name=options["full_name"],
                role=Role.SYSADMIN,
                department=department,
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"已创建系统管理员 {user.username}")
        self.stdout.write(f"初始密码（只显示这一次，首次登录须修改）：{password}")
