"""Choices of the policy library (政策库)."""

from __future__ import annotations

from django.db import models

from sizhen.organisations.choices import EnterpriseSize


class Level(models.TextChoices):
    """The level of the issuing body (发文层级)."""

    NATIONAL = "national", "国家"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"
    DISTRICT = "district", "县区级"


#: Enterprise sizes a policy may name (大型/中型/小型/微型): the organisations' own choices.
SIZES = dict(EnterpriseSize.choices)
