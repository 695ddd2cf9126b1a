"""What the audit log (审计日志) shows people: each action, object type and recorded value in
Chinese, never the codes the events store.

Actions of services are named here (``ACTION_LABELS``, one registry: a test checks that every
action recorded in the code has its name). Workflow transitions ("alert.convert") take their
names from the workflow's own table, and states ("open" → "converted") from the workflow's
state labels, so they cannot drift apart: the model that declares ``workflow`` is found through
the app registry, and core imports no domain app."""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qsl

from django.apps import apps
from django.db import models

from sizhen.core.roles import Role

#: action code -> what happened, in Chinese. Workflow transitions are not listed: see
#: ``action_label``.
ACTION_LABELS: dict[str, str] = {
    # sign-in, sessions, access
    "auth.login": "登录",
    "auth.logout": "退出登录",
    "auth.login_failed": "登录失败",
    "auth.login_locked": "账号锁定期间尝试登录",
    "auth.lockout": "连续登录失败，账号锁定",
    "auth.password_changed": "修改本人密码",
    "auth.session_timeout": "空闲超时退出",
    "auth.session_expired": "会话到期退出",
    "access.denied": "越权访问被拒绝",
    # users, tokens, organisations
    "user.create": "新建用户",
    "user.update": "修改用户",
    "user.enable": "启用用户",
    "user.disable": "停用用户",
    "user.password_reset": "重置用户密码",
    "api_token.create": "新建接口令牌",
    "api_token.revoke": "吊销接口令牌",
    "region.create": "新建行政区划",
    "region.update": "修改行政区划",
    "region.import": "导入行政区划",
    "department.create": "新建部门",
    "department.update": "修改部门",
    "department.import": "导入部门",
    "enterprise.create": "新建企业",
    "enterprise.update": "修改企业",
    "enterprise.import": "导入企业",
    # working-day calendar, exports, demo
    "calendar.set_day": "设置工作日历调整",
    "calendar.delete_day": "删除工作日历调整",
    "calendar.confirm_year": "确认年度放假安排",
    "export.xlsx": "导出 Excel",
    "export.docx": "导出 Word",
    "demo.load": "装入演示数据",
    "demo.reset": "清除演示数据",
    # indicators: catalogue, cycles, goalposts, benchmarks
    "indicator.catalogue_load": "装入指标体系",
    "indicator.update": "修改指标",
    "indicator.goalpost_update": "修改指标评分阈值",
    "evaluation_cycle.create": "新建评价周期",
    "evaluation_cycle.set_current": "设为当前评价周期",
    "benchmark.create": "新增标杆值",
    "benchmark.update": "修改标杆值",
    "benchmark.delete": "删除标杆值",
    "benchmark.import": "导入标杆值",
    "indicators.recompute": "重新计算指标",
    "indicators.record_extract.request": "申请导出明细数据",
    # indicators: data sets, loads, pulls, filling
    "dataset.create": "新建数据集",
    "dataset.new_version": "修改数据集字段定义",
    "records.submitted": "提交数据（接口推送）",
    "records.file_submitted": "上传数据文件",
    "records.loaded": "数据入库",
    "records.validated": "数据校验通过（试运行）",
    "records.rejected": "数据校验未通过",
    "records.failed": "数据入库失败",
    "records.requeued": "重新排队入库",
    "records.quarantine_discard": "丢弃隔离数据",
    "pull_source.create": "新建数据对接",
    "pull_source.update": "修改数据对接",
    "pull_source.run": "数据对接拉取",
    "pull_source.failed": "数据对接拉取失败",
    "pull_source.run_requested": "手动发起数据对接拉取",
    "filling_rule.create": "新建填报规则",
    "filling_rule.activate": "启用填报规则",
    "filling_rule.deactivate": "停用填报规则",
    "filling_round.open": "发起填报",
    "filling_round.open_scheduled": "按计划发起填报",
    "filling_task.save_draft": "暂存填报",
    "indicator_value.import_aggregate": "导入汇总数据",
    "indicator_value.publish": "发布指标值",
    # alerts
    "alert.scan": "预警扫描",
    "alert_rule.create": "新建预警规则",
    "alert_rule.update": "修改预警规则",
    "alert_rule.delete": "删除预警规则",
    # enterprise requests and dispatch
    "enterprise_request.submit": "提交诉求",
    "enterprise_request.attach": "上传诉求附件",
    "enterprise_request.duplicates_flagged": "标记疑似重复诉求",
    "enterprise_request.urge": "催办诉求",
    "enterprise_request.contact": "记录联系企业",
    "enterprise_request.escalate": "诉求超时无进展，升级督办",
    "enterprise_request.supervise": "挂牌督办诉求",
    "enterprise_request.extension_request": "申请延期办理",
    "enterprise_request.extension_decide": "审批延期申请",
    "enterprise_request.publish": "公开诉求办理结果",
    "enterprise_request.publication_requested": "发布诉求“三率”指标",
    "enterprise_request.report_requested": "生成诉求分析报告",
    "enterprise_request.forum_create": "登记面对面座谈会",
    "enterprise_request.category_save": "保存诉求分类",
    "enterprise_request.deadline_notices": "发送诉求时限提醒",
    "enterprise_request.message.supplement_question": "请企业补充材料",
    "enterprise_request.message.supplement_answer": "企业补充材料",
    "enterprise_request.message.reply": "答复",
    "enterprise_request.message.note": "添加办理记录",
    "enterprise_request.message.co_opinion": "提交协办意见",
    "enterprise_request.message.urge": "催办",
    "enterprise_request.message.explanation": "提交不满意情况说明",
    "enterprise_request.message.coordination": "登记协调会记录",
    "enterprise_request.message.progress": "报告诉求办理进展",
    "enterprise_request.message.contact": "联系企业",
    "enterprise_request.message.escalation": "升级督办记录",
    "dispatch.catalogue_loaded": "装入派单目录",
    "dispatch.catalogue_saved": "保存派单目录条目",
    "dispatch.choice_recorded": "记录派单选择",
    "dispatch.model_trained": "训练派单推荐模型",
    "dispatch.training_requested": "申请重新训练派单推荐模型",
    # work tasks, rectification, letters
    "work_task.issue": "下发任务",
    "work_task.import_plan": "导入年度任务计划",
    "work_task.transfer": "转办任务",
    "work_task.progress": "反馈任务进展",
    "work_task.urge": "催办任务",
    "work_task.list": "挂牌督办任务",
    "work_task.meeting": "登记督办会议",
    "work_task.reminders": "发送任务到期提醒",
    "export.xlsform": "导出 XLSForm 问卷",
    "notification.mark_read": "消息标为已读",
    "reports.letter_proposed": "依据红色预警建议提醒函草稿",
    "reports.letter_updated": "修改提醒函草稿",
    "survey.add_question": "添加问卷题目",
    "survey.bank_create": "新增题库题目",
    "survey.edit_question": "修改问卷题目",
    "survey.follow_up": "问卷问题转办",
    "survey.import": "导入 XLSForm 问卷",
    "survey.index_publish": "发布企业满意度指数",
    "survey.invite": "发放问卷邀请",
    "survey.issue_links": "生成问卷填写链接",
    "survey.new_version": "建立问卷新版本",
    "survey.remind": "催填问卷",
    "survey.remove_question": "删除问卷题目",
    "survey.response_save": "暂存答卷",
    "survey.response_submit": "提交答卷",
    "survey.round_create": "发起问卷调查",
    "rectification.create": "登记整改事项",
    "rectification.import": "导入整改清单",
    "rectification.progress": "报告整改进展",
    "rectification.evidence": "上传整改佐证材料",
    "rectification.evidence_download": "下载整改佐证材料",
    "rectification.verify": "核验整改效果",
    "rectification.publish": "在曝光台公开",
    "rectification.unpublish": "撤下曝光台公开",
    # think tank: policy library (政策库)
    "policy.create": "登记政策",
    "policy.update": "修改政策",
    "policy.import": "导入政策",
    "policy.attachment": "上传政策附件",
    "policy.redemption": "登记政策兑现",
    "policy.push": "推送政策给匹配企业",
    "policy.read": "企业阅读推送的政策",
    "policy.confirm": "企业确认知晓推送的政策",
    "reports.letter_created": "起草提醒函",
    # training
    "training.material_create": "上传学习资料",
    "training.material_update": "修改学习资料",
    "training.progress": "记录学习进度",
    "training.course_create": "新建培训课程",
    "training.course_assign": "指派培训课程",
    "training.question_create": "新增试题",
    "training.question_update": "修改试题",
    "training.question_import": "导入试题",
    "training.exam_create": "新建考试",
    "training.attempt_start": "开始答题",
    "training.answer_save": "保存答题",
    "training.practice": "错题练习",
    "asset.profile_update": "修改数据资产信息",
    "asset.results_import": "导入历年参评数据",
    "asset.document_create": "登记历史资料",
    "asset.document_download": "下载历史资料",
    "asset_extract.submit": "提交数据调取申请",
    "asset_extract.download": "下载调取的数据",
}

#: Keys of recorded values that are not fields of the event's model, in Chinese (a key that
#: is a model field takes the field's verbose name).
VALUE_LABELS: dict[str, str] = {
    "action": "操作",
    "activated": "已启用",
    "alert": "预警",
    "approved": "审核通过",
    "approved_at": "审核时间",
    "approved_by": "审核人",
    "batch": "批次",
    "category": "分类",
    "checked": "已校验",
    "children": "下级",
    "code": "编码",
    "copied_from": "复制自",
    "correct": "正确",
    "count": "数量",
    "counts": "数量",
    "created": "新增",
    "current": "当前",
    "cycle": "评价周期",
    "cycle_created": "新建评价周期",
    "dataset": "数据集",
    "date": "日期",
    "days": "天数",
    "deadline": "期限",
    "department": "部门",
    "department_field": "部门字段",
    "departments": "部门",
    "errors": "错误",
    "event": "学习进度",
    "evidence": "佐证材料",
    "explanation": "说明",
    "export": "导出",
    "fields": "字段",
    "file": "文件",
    "files": "附件",
    "filled": "已填报",
    "flagged": "已标记",
    "goalposts": "目标值",
    "goalposts_created": "新建目标值",
    "held_on": "召开日期",
    "ignored": "已忽略",
    "imported": "已导入",
    "indicator": "指标",
    "indicators": "指标",
    "is_active": "启用",
    "is_current": "当前",
    "job": "后台任务",
    "judgement": "判断",
    "kept": "保留",
    "materials": "学习资料",
    "key": "主键字段",
    "leader": "督办领导",
    "locked_by": "锁定人",
    "meeting": "会议",
    "metrics": "指标",
    "milestone": "阶段节点",
    "milestone_done": "节点已完成",
    "missing_departments": "缺少的部门",
    "month": "月份",
    "name": "名称",
    "note": "说明",
    "number": "编号",
    "percent": "进度（%）",
    "period": "期间",
    "position": "题号",
    "public_summary": "公开摘要",
    "published": "已公开",
    "query": "查询条件",
    "reason": "理由",
    "region": "区划",
    "region_field": "区划字段",
    "rejected": "拒收",
    "regions": "县市区",
    "reopened": "重新打开",
    "report": "报告",
    "resolved": "已解决",
    "response": "作答",
    "right_streak": "连续答对次数",
    "roles": "角色",
    "round": "填报轮次",
    "rows": "行数",
    "scopes": "权限范围",
    "seed": "随机种子",
    "size": "大小",
    "source": "来源",
    "stale_after_days": "陈旧天数",
    "status": "状态",
    "submitted_at": "提交时间",
    "submitted_by": "提交人",
    "suggested": "推荐",
    "supervised": "挂牌督办",
    "tasks": "任务",
    "text": "内容",
    "total": "总数",
    "unchanged": "未变化",
    "units": "承办单位",
    "unmatched": "未匹配",
    "updated": "更新",
    "value": "数值",
    "version": "版本",
    "warnings": "警告",
    "watermark_value": "数据截止",
    "year": "年份",
}

#: What a refused access was for (``access.denied``'s recorded "action").
ACCESS_LABELS = {"view": "查看", "change": "修改", "export": "导出", "delete": "删除"}


@functools.cache
def _workflow_models() -> dict[str, type[models.Model]]:
    """Workflow name -> the model that declares it."""
    found: dict[str, type[models.Model]] = {}
    for model in apps.get_models():
        workflow = getattr(model, "workflow", None)
        if workflow is not None and hasattr(workflow, "transitions"):
            found[workflow.name] = model
    return found


def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type) if "." in object_type else None
    except (LookupError, ValueError):
        return None


def action_label(action: str) -> str:
    """The action in Chinese: the registry's name, else the workflow transition's
    ("预警：转为任务或整改事项"), else the stored code (an action nobody named yet)."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    name, _, step = action.partition(".")
    model = _workflow_models().get(name)
    if model is not None:
        for transition in model.workflow.transitions:  # type: ignore[attr-defined]
            if transition.action == step:
                return f"{model._meta.verbose_name}：{transition.label}"
    return action


def all_action_labels() -> dict[str, str]:
    """Every named action with its Chinese name, transitions included (for the filter)."""
    labels = dict(ACTION_LABELS)
    for name in _workflow_models():
        for transition in _workflow_models()[name].workflow.transitions:  # type: ignore[attr-defined]
            code = f"{name}.{transition.action}"
            labels.setdefault(code, action_label(code))
    return labels


def object_type_label(object_type: str) -> str:
    """The model's Chinese name ("work_tasks.taskassignment" → "承办任务")."""
    model = _model(object_type)
    return str(model._meta.verbose_name) if model is not None else object_type


def values_text(object_type: str, values: Any, *, limit: int = 500) -> str:
    """Recorded before/after values as people read them: each field by its Chinese name, a
    workflow state by its label, a choice by its display ("状态：已转任务或整改事项")."""
    if values in (None, {}, []):
        return ""
    model = _model(object_type)
    if not isinstance(values, dict):
        text = json.dumps(values, ensure_ascii=False)
    else:
        fields = {f.attname: f for f in model._meta.concrete_fields} if model else {}
        workflow = getattr(model, "workflow", None)
        state_field = getattr(workflow, "state_field", None)
        parts = []
        # A fixed order: PostgreSQL's jsonb keeps keys sorted by length, not as written.
        order = {name: i for i, name in enumerate([*fields, *VALUE_LABELS])}
        for key, value in sorted(
            values.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])
        ):
            field = fields.get(key)
            label = str(field.verbose_name) if field is not None else VALUE_LABELS.get(key, key)
            if workflow is not None and key == state_field and isinstance(value, str):
                value = workflow.state_label(value)
            elif field is not None and field.choices:
                value = dict(field.flatchoices).get(value, value)
            elif key == "action" and isinstance(value, str):
                value = ACCESS_LABELS.get(value, value)
            elif key == "query" and isinstance(value, str):
                value = query_text(model, value) or "（无）"
            elif key == "roles" and isinstance(value, list):
                value = "、".join(str(Role(r).label) if r in Role.values else str(r) for r in value)
            parts.append(f"{label}：{_plain(value)}")
        text = "；".join(parts)
    return text if len(text) <= limit else text[:limit] + "…"


#: Filter and list parameters that are not model fields, as the list pages label them.
QUERY_LABELS = {
    "q": "关键词",
    "sort": "排序",
    "page": "页码",
    "export": "导出",
    "queue": "待办",
    "overdue": "逾期",
    "since": "起始日期",
    "until": "截止日期",
    "first": "起始月份",
    "last": "截止月份",
    "year": "年度",
    "kind": "类别",
}


def query_text(model: type[models.Model] | None, query: str) -> str:
    """A list's filter (``status=open&lead_department=10``) as people read it: each parameter
    by the field's Chinese name, a state or choice by its label, a related row by its name
    (``状态：待派单；主办单位：市场监督管理局``). Unknown parameters keep their own words."""
    fields = {f.name: f for f in model._meta.concrete_fields} if model else {}
    workflow = getattr(model, "workflow", None)
    state_field = getattr(workflow, "state_field", None)
    parts = []
    for name, raw in parse_qsl(query, keep_blank_values=False):
        base = name.split("__", 1)[0]
        field = fields.get(base)
        label = str(field.verbose_name) if field is not None else QUERY_LABELS.get(base, base)
        value: Any = raw
        if field is not None and workflow is not None and field.attname == state_field:
            value = workflow.state_label(raw)
        elif field is not None and field.choices:
            value = dict(field.flatchoices).get(raw, raw)
        elif isinstance(field, models.ForeignKey) and raw.isdigit():
            # The viewers of the audit log see the whole city; a name reads better than an id.
            related = field.related_model._default_manager.filter(pk=int(raw)).first()  # type: ignore[union-attr]
            value = str(related) if related is not None else raw
        elif base == "sort":
            descending = raw.startswith("-")
            target = fields.get(raw.lstrip("-").split("__", 1)[0])
            value = (str(target.verbose_name) if target is not None else raw.lstrip("-")) + (
                "（降序）" if descending else ""
            )
        parts.append(f"{label}={value}")
    return "，".join(parts)


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def state_label(workflow_name: str, state: str) -> str:
    """A workflow state in Chinese, from the workflow's own table."""
    model = _workflow_models().get(workflow_name)
    return model.workflow.state_label(state) if model is not None else state  # type: ignore[attr-defined]
