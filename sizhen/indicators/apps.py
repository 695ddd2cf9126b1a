from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "sizhen.indicators"
    label = "indicators"
    verbose_name = "监测分析"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.indicators.filling.selectors.WORK_QUEUES"
    key_figures = (
        "sizhen.indicators.catalogue.selectors.key_figures",
        "sizhen.indicators.filling.selectors.key_figures",
    )

    def ready(self) -> None:
        # Register the app's background jobs with the job runner, and the records and filling
        # rules of complete periods with the catalogue (catalogue.completeness).
        from sizhen.indicators.filling import jobs as filling_jobs  # noqa: F401
        from sizhen.indicators.filling import selectors as filling_selectors  # noqa: F401
        from sizhen.indicators.ingestion import jobs as ingestion_jobs  # noqa: F401
        from sizhen.indicators.ingestion import selectors as ingestion_selectors  # noqa: F401

        self._watch_figures()

    @staticmethod
    def _watch_figures() -> None:
        """What the cached indicator pages and cockpit derive from (catalogue.changes)."""
        from sizhen.indicators.catalogue import changes
        from sizhen.indicators.catalogue.models import (
            Benchmark,
            EvaluationCycle,
            Goalpost,
            Indicator,
            IndicatorValue,
        )
        from sizhen.indicators.filling.models import FillingTask
        from sizhen.indicators.ingestion.models import Dataset
        from sizhen.organisations.models import Region

        changes.watch(Indicator, Goalpost, EvaluationCycle, Benchmark, Region, FillingTask, Dataset)
        changes.watch(IndicatorValue, deletes=False)
