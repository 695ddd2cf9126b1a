from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sizhen.accounts"
    label = "accounts"
    verbose_name = "账号与权限"
    #: The home page's key figures (sizhen/core/workqueue.py).
    key_figures = "sizhen.accounts.selectors.key_figures"
