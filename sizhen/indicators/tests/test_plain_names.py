"""The indicator definitions people read name data sets and their fields in Chinese, not by
the codes the engine and the files use."""

from __future__ import annotations

import re

from sizhen.indicators.catalogue.defaults import read_catalogue
from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE


def test_default_definitions_name_datasets_and_fields_in_chinese() -> None:
    codes = set(BUILTIN_BY_CODE)
    fields = {f["name"] for d in BUILTIN_BY_CODE.values() for f in d["fields"]}
    entries = read_catalogue()
    named = [e for e in entries if "数据集“" in e.definition or "”数据集" in e.definition]
    assert len(named) == 44
    leftovers = {
        e.code: words
        for e in entries
        if (words := set(re.findall(r"[A-Za-z_]+", e.definition)) & (codes | fields))
    }
    assert leftovers == {}
    startup = next(e for e in entries if e.code == "BE01.02")
    assert "数据：“企业开办”数据集的申请提交时间、全部办结时间。" in startup.definition
