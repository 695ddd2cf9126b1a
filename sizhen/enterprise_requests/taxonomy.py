"""The default request taxonomy (诉求词条库): two levels, stable codes. Loaded by a data
migration and by ``manage.py load_request_taxonomy``; the office edits it afterwards."""

from __future__ import annotations

from typing import Any

# (code, name, default kind, difficulty, time limit in working days, description)
DEFAULT_TAXONOMY: list[tuple[str, str, list[tuple[str, str, str, str, int, str]]]] = [
    (
        "01",
        "市场准入",
        [
            ("0101", "企业开办", "help", "general", 5, "设立登记、刻章、申领发票、社保登记等"),
            ("0102", "变更与注销", "help", "general", 5, "变更登记、简易注销、清税"),
            ("0103", "证照办理", "help", "general", 10, "营业执照以外的各类证照办理"),
            ("0104", "行政许可与资质", "help", "general", 15, "经营许可、资质认定及延续"),
        ],
    ),
    (
        "02",
        "政务服务",
        [
            ("0201", "办事效率", "complaint", "general", 5, "办理时限超期、多次跑动"),
            ("0202", "窗口服务态度", "complaint", "general", 5, "窗口人员服务态度与规范"),
            ("0203", "网上办事", "help", "general", 5, "网上办事系统故障、一网通办"),
            ("0204", "证明材料", "complaint", "general", 5, "重复提交材料、索要不必要证明"),
        ],
    ),
    (
        "03",
        "要素保障",
        [
            ("0301", "项目用地", "help", "complex", 30, "土地供应、用地指标、不动产登记"),
            ("0302", "水电气暖", "help", "general", 10, "用水用电用气报装与价格"),
            ("0303", "用工招聘", "help", "general", 10, "招工、技能培训、人才政策"),
            ("0304", "融资信贷", "help", "general", 15, "贷款、担保、融资对接"),
        ],
    ),
    (
        "04",
        "惠企政策",
        [
            ("0401", "政策咨询", "consult", "simple", 0, "惠企政策解读与适用"),
            ("0402", "奖补资金兑现", "help", "general", 15, "奖励补贴申报与拨付"),
            ("0403", "税费减免", "help", "general", 5, "减税降费、退税"),
        ],
    ),
    (
        "05",
        "工程建设",
        [
            ("0501", "项目审批", "help", "general", 15, "立项、规划、环评等审批"),
            ("0502", "施工许可", "help", "general", 10, "施工许可证办理"),
            ("0503", "竣工验收", "help", "general", 10, "联合验收、备案"),
        ],
    ),
    (
        "06",
        "监管执法",
        [
            ("0601", "涉企检查", "complaint", "general", 10, "多头检查、重复检查"),
            ("0602", "行政处罚", "complaint", "general", 15, "处罚裁量、首违不罚"),
            ("0603", "知识产权保护", "help", "general", 15, "商标专利侵权"),
            ("0604", "公平竞争", "complaint", "complex", 30, "地方保护、招投标不公"),
        ],
    ),
    (
        "07",
        "法治保障",
        [
            ("0701", "合同纠纷", "help", "complex", 30, "政府违约、合同履行"),
            ("0702", "账款拖欠", "complaint", "complex", 30, "拖欠民营企业账款"),
            ("0703", "法律咨询", "consult", "simple", 0, "法律政策咨询"),
        ],
    ),
    (
        "08",
        "基础设施与环境",
        [
            ("0801", "交通物流", "help", "general", 15, "道路、停车、物流通道"),
            ("0802", "园区配套", "help", "general", 15, "园区道路、管网、生活配套"),
            ("0803", "生态环境", "help", "general", 10, "环保审批与执法"),
        ],
    ),
    (
        "09",
        "其他",
        [
            ("0901", "意见建议", "suggestion", "general", 15, "对营商环境的意见建议"),
            ("0902", "其他事项", "help", "general", 5, "其他诉求"),
        ],
    ),
]


def load_default_taxonomy(category_model: Any) -> int:
    """Create the entries that are missing; existing codes (maybe edited) are left alone."""
    created = 0
    for top_order, (code, name, children) in enumerate(DEFAULT_TAXONOMY, start=1):
        parent, made = category_model.objects.get_or_create(
            code=code,
            defaults={"name": name, "sort_order": top_order * 10, "description": name},
        )
        created += int(made)
        for order, (child_code, child_name, kind, difficulty, days, note) in enumerate(
            children, start=1
        ):
            _, made = category_model.objects.get_or_create(
                code=child_code,
                defaults={
                    "name": child_name,
                    "parent": parent,
                    "default_kind": kind,
                    "difficulty": difficulty,
                    "time_limit_days": days,
                    "description": note,
                    "sort_order": order,
                },
            )
            created += int(made)
    return created
