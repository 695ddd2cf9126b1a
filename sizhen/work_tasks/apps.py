from django.apps import AppConfig


class WorkTasksConfig(AppConfig):
    name = "sizhen.work_tasks"
    label = "work_tasks"
    verbose_name = "工作任务"
