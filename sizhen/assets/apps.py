from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "sizhen.assets"
    label = "assets"
    verbose_name = "数据资产"
    #: The home page's work queue (sizhen/core/workqueue.py).
    work_queues = "sizhen.assets.selectors.WORK_QUEUES"

    def ready(self) -> None:
        # Register the extract job and the signals that move the catalogue's cached version.
        from sizhen.assets import changes, jobs  # noqa: F401

        changes.connect()
