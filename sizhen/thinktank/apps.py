from django.apps import AppConfig


class ThinktankConfig(AppConfig):
    name = "sizhen.thinktank"
    label = "thinktank"
    verbose_name = "营商智库"
    #: The enterprise's home page block 我可享受的政策 (sizhen/core/workqueue.py).
    home_panels = "sizhen.thinktank.selectors.home_panels"
