from django.apps import AppConfig


class WorkTasksConfig(AppConfig):
    name = "sizhen.work_tasks"
    label = "work_tasks"
    verbose_name = "工作任务"

    def ready(self) -> None:
        # Register the daily deadline-reminder job and its schedule with the job runner.
        from sizhen.work_tasks import jobs  # noqa: F401
