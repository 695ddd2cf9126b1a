from django.apps import AppConfig


class WorkflowTestappConfig(AppConfig):
    name = "tests.workflow_testapp"
    label = "workflow_testapp"
