from django.apps import AppConfig


class WorkTasksConfig(AppConfig):
    name = "sizhen.work_tasks"
    label = "work_tasks"
    verbose_name = "工作任务"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.work_tasks.selectors.WORK_QUEUES"
    key_figures = "sizhen.work_tasks.selectors.key_figures"

    def ready(self) -> None:
        # Register the daily deadline-reminder job and its schedule with the job runner.
        from sizhen.work_tasks import jobs  # noqa: F401
