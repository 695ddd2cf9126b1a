"""Realistic synthetic enterprise requests (企业诉求) for the tests and the bench.

Every topic (a department's matter with its category) has several ways to name the matter and
several complaints; sentence frames, openers and closers are many. The training and test sets
are drawn from *disjoint* halves of every list — the test set never repeats a training phrase,
frame or matter wording — so the measured accuracy is what the suggester does on requests worded
in ways it has not seen. Noise on top: requests that mention another department's matter in
passing, vague ones, colloquial wording and typos (near-homophones).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# dept | category (leaf code of the default 诉求词条库, see categories.csv) | ways to name the matter (;) | what the enterprise says about it (;)
_TOPICS = """
市场监督管理局|0102|营业执照变更;公司注销登记;经营范围增加一项;法定代表人变更登记;分公司设立登记;个体户转企业;执照上的地址迁移;股东股权变更;公司名称变更;简易注销
市场监督管理局|0104|食品经营许可证续期;超市卖过期食品;餐馆后厨卫生很差;食品生产许可审核;网上买到假冒保健品;药店卖处方药不要处方;预包装食品备案;小作坊卫生不达标
市场监督管理局|0603|商标被人抢注;专利被同行仿冒;发明专利申请进度;外观设计被侵权;商标异议;知识产权质押;品牌被山寨;专利纠纷维权
市场监督管理局|0604|同行低价倾销恶意竞争;商场乱收进场费;竞争对手虚假宣传;平台强制二选一;商家价格欺诈;物业乱收费;广告夸大宣传;行业协会搞价格联盟
市场监督管理局|0104|电梯年检;锅炉检验;压力容器登记;计量器具检定;产品被抽检不合格;工业产品生产许可证;检验检测报告不认可;叉车使用登记
税务局|0403|增值税专用发票领用;留抵退税;出口退税办理;企业所得税汇算清缴;研发费用加计扣除;电子发票开具;跨区迁移税务;个税申报;小规模纳税人减免;完税证明;税控盘;滞纳金减免
人力资源和社会保障局|0303|职工养老保险补缴;社保转移接续;工伤认定;失业保险稳岗返还;社保缴费基数调整;员工社保卡;工伤保险待遇;灵活就业人员参保
人力资源和社会保障局|0303|员工讨要工资;劳动合同纠纷;劳动仲裁;员工辞退补偿;加班费争议;包工头欠农民工工资;劳务派遣纠纷;试用期解除合同
人力资源和社会保障局|0303|招工难;技术工人招聘;职称评审;人才引进补贴;技能等级认定;大学生就业见习补贴;人才公寓申请;职业技能培训补贴
自然资源和规划局|0301|项目用地指标;土地出让;规划条件调整;容积率调整;用地预审;建设工程规划许可证;工业用地弹性出让;规划红线;土地划拨;闲置土地处置
自然资源和规划局|0301|厂房不动产权证;房产证办理;抵押登记;不动产过户;土地证和房产证合一;分割登记;历史遗留房屋办证;不动产首次登记
住房和城乡建设局|0502|施工许可证;施工图审查;竣工联合验收;建设工程消防验收;消防设计审查;竣工验收备案;质量安全监督手续;开工手续
住房和城乡建设局|0104|建筑业资质升级;工程质量问题;商品房预售许可;物业公司服务差;农民工工资保证金退还;楼盘延期交房;工地安全文明施工;二级建造师注册
生态环境局|0803|环评审批;排污许可证;环保竣工验收;危险废物转移;环评批复变更;排污口设置;危废处置;碳排放配额
生态环境局|0803|隔壁化工厂排废气;河道有人偷排污水;工厂气味刺鼻;工业噪声扰民;喷漆车间异味;搅拌站粉尘;污水直排;焚烧垃圾冒黑烟
交通运输局|0801|道路运输经营许可;货车通行证;大件运输许可;网约车平台许可;道路运输证年审;从业资格证;物流园区运费;超限运输;公交线路调整;危货运输资质
公安局|0902|公章刻制;员工户口迁入;外籍员工工作签证;被电信诈骗;合同诈骗报案;厂区被盗;员工职务侵占;企业周边有人滋事;人才落户;居住证办理
发展和改革委员会|0501|企业投资项目备案;项目核准;可研报告审批;节能审查;信用修复;被列入失信名单;招标投标投诉;重大项目申报;行政处罚信息修复;固定资产投资项目入库
政务服务管理局|0201|政务大厅窗口;一网通办系统;办事来回跑;材料重复提交;12345热线;帮办代办;网上办事系统崩溃;窗口人员态度差;预约取号;好差评
地方金融管理局|0304|中小企业贷款;融资担保;银行抽贷;续贷;企业上市辅导;应急转贷资金;小额贷款公司;融资租赁纠纷;非法集资;贷款利率太高
人民法院|0701|合同纠纷起诉;判决执行;执行款迟迟不到;财产保全;破产重整;立案难;案件审理超期;强制执行对方财产
供电公司|0302|新装用电报装;增容;变压器安装;计划停电;经常断电;电费太高;电表计量不准;充电桩接电;高压接入;临时用电
水务集团|0302|用水报装;停水;水压不足;水表更换;水费异常;排水接入;污水管堵塞;二次供水;自来水发黄;消防用水接入
燃气公司|0302|天然气报装;燃气通气;停气;燃气管道迁移;气价上涨;燃气表故障;餐饮用气开栓;气压不稳
商务局|0401|外贸订单;外商投资企业信息报告;外资企业设立服务;展会补贴;电商直播基地;单用途预付卡;促消费活动;出口信用保险补贴;商业网点;跨境电商发展
工业和信息化局|0402|专精特新认定;技改补助;惠企政策兑现;中小企业奖补;小升规奖励;工业企业用能指标;企业技术中心认定;智能化改造
工业和信息化局|0702|机关拖欠中小企业账款;政府项目工程款拖欠;事业单位欠货款;大企业拖欠中小企业账款;政府采购款迟迟不付;清欠
科学技术局|0402|高新技术企业认定;科技型中小企业评价;科技项目申报;研发补助;技术合同登记;孵化器入驻;科技成果转化;高企复审
城市管理局|0902|门头招牌审批;户外广告;占道经营;违建;渣土运输;垃圾清运;路灯不亮;店门口摆摊;井盖破损;围挡广告
医疗保障局|0303|职工医保;定点药店申请;医保报销;异地就医备案;医保结算;生育保险待遇;医保卡;集采药品
应急管理局|0601|危化品经营许可;安全生产检查;安全隐患整改;应急预案备案;烟花爆竹经营许可;安全生产标准化;有限空间作业;安全员培训
海关|0801|报关;通关慢;货物查验;关税;进口检验检疫;保税仓库;海关备案;出口货物放行;AEO认证;加工贸易手册
数据局|0203|公共数据开放;数据共享;电子证照互认;数据交易;政务系统数据接口;数据资产登记;企业数据上链;公共数据授权运营
国有资产监督管理委员会|0701|国企招标排斥民企;国有资产转让;市属国企合作;国企混改;国有企业采购;国企租金
国有资产监督管理委员会|0702|市属国企拖欠货款;国企欠工程款;国有企业拖延付款;国企压价结算
消防救援支队|0601|开业前消防安全检查;消防检查;消防通道被占;火灾隐患;消防设施;消防安全评估;灭火器配置;消防整改
"""

# Complaints and requests; split in halves like everything else.
_PROBLEMS = (
    "一直办不下来",
    "不知道需要哪些材料",
    "跑了好几趟都没办成",
    "工作人员说不归他们管",
    "网上提交后一直显示审核中",
    "能不能加快一点",
    "流程太复杂了",
    "到底找哪个部门",
    "已经拖了两个多月",
    "打电话没人接",
    "给的答复前后不一致",
    "希望尽快协调解决",
    "影响我们正常生产经营",
    "请帮忙催一下",
    "要求补充的材料越来越多",
    "时限早过了还没结果",
    "窗口让回去等通知",
    "想咨询一下政策",
    "损失很大",
    "请相关部门尽快处理",
)

_FRAMES = (
    "{company}反映：{subject}的事{problem}。",
    "您好，我是{company}的负责人，关于{subject}，{problem}，{closer}",
    "{opener}{subject}{problem}，{closer}",
    "我司{subject}问题{problem}。",
    "{opener}我们在{place}，{subject}{problem}，请帮忙看看。",
    "咨询：{subject}怎么办理？{problem}。",
    "{company}：{subject}，{problem}，{closer}",
    "企业诉求：{subject}。{problem}。",
    "{opener}想问下{subject}这个事，{problem}",
    "关于{subject}的问题，企业表示{problem}，{closer}",
    "{place}的{company}说{subject}{problem}",
    "{opener}{subject}，{problem}！{closer}",
    "投诉：{subject}，{problem}。",
    "反映{subject}，{problem}，{closer}",
    "{company}在办{subject}时遇到困难，{problem}。",
    "求助！{subject}{problem}，真的很着急",
)

_OPENERS = (
    "你好，",
    "领导好，",
    "麻烦问一下，",
    "",
    "请问，",
    "急！",
    "我想反映个事，",
    "打扰了，",
    "同志你好，",
    "有个问题，",
)
_CLOSERS = (
    "谢谢。",
    "盼复。",
    "请尽快回复。",
    "麻烦了。",
    "辛苦了。",
    "希望重视。",
    "等你们消息。",
    "感谢！",
)
_PLACES = (
    "东湖区",
    "西山区",
    "高新区",
    "经开区",
    "南湾区",
    "临港产业园",
    "北苑区",
    "松岭县",
)
_COMPANIES = (
    "华瑞科技",
    "恒通物流",
    "鼎盛机械",
    "嘉禾食品",
    "永安建设",
    "海川贸易",
    "启明软件",
    "瑞丰化工",
    "天成电子",
    "金桥餐饮",
    "宏远置业",
    "博源医药",
)

# Mentions of another department's matter in passing, which a good suggester must discount.
_ASIDES = (
    "之前{other}的事已经办好了，",
    "{other}那边倒是挺顺利，",
    "上次反映过{other}，这次是另一件事：",
    "除了{other}，",
    "虽然{other}也有点问题，但主要是",
    "{other}已经解决，现在",
)

# Near-homophone typos and colloquial substitutions seen in real intake.
_TYPOS = {
    "执照": "执找",
    "发票": "发漂",
    "社保": "社报",
    "许可": "许克",
    "登记": "登纪",
    "报装": "报桩",
    "审批": "审核批",
    "工资": "工钱",
    "燃气": "煤气",
    "贷款": "带款",
    "专利": "专例",
    "公章": "公张",
    "不动产": "不动厂",
    "排污": "排乌",
    "验收": "验受",
    "消防": "消仿",
    "医保": "医疗保险",
    "注销": "注消",
}

#: Share of test requests about a matter worded in a way the training half never uses.
HELD_OUT_SHARE = 0.4

#: Departments' labels in the generated CSVs are their official names.
DEPARTMENTS: tuple[str, ...] = tuple(
    dict.fromkeys(line.split("|")[0] for line in _TOPICS.strip().splitlines())
)


@dataclass(frozen=True)
class Topic:
    department: str
    category: str
    subjects: tuple[str, ...]


def topics() -> list[Topic]:
    result = []
    for line in _TOPICS.strip().splitlines():
        department, category, subjects = line.split("|")
        result.append(Topic(department, category, tuple(subjects.split(";"))))
    return result


def _half(items: tuple[str, ...], part: str) -> tuple[str, ...]:
    """Even positions for training, odd ones for testing: disjoint wordings."""
    offset = 0 if part == "train" else 1
    chosen = items[offset::2]
    return chosen or items


def _subjects(items: tuple[str, ...], part: str) -> tuple[str, ...]:
    """Every third way of naming a matter is held out for the test set (vocabulary the history
    never saw); the rest recur, as matters do, but always in new sentences."""
    held_out = items[2::3]
    return tuple(item for item in items if item not in held_out) or items


@dataclass(frozen=True)
class Request:
    text: str
    dept: str
    category: str


def generate(
    part: str,
    *,
    per_department: int,
    seed: int = 2026,
    aside_rate: float = 0.3,
    typo_rate: float = 0.15,
) -> list[Request]:
    """``per_department`` requests for each department, from the ``part`` ("train" or "test")
    half of every wording list."""
    if part not in ("train", "test"):
        raise ValueError("part must be 'train' or 'test'")
    rng = random.Random(f"{seed}-{part}")  # noqa: S311 - reproducible test data, not secrets
    all_topics = topics()
    by_department: dict[str, list[Topic]] = {}
    for topic in all_topics:
        by_department.setdefault(topic.department, []).append(topic)
    frames = _half(_FRAMES, part)
    problems = _half(_PROBLEMS, part)
    openers = _half(_OPENERS, part)
    closers = _half(_CLOSERS, part)
    asides = _half(_ASIDES, part)
    result: list[Request] = []
    for department, own in by_department.items():
        others = [t for t in all_topics if t.department != department]
        for _ in range(per_department):
            topic = rng.choice(own)
            pool = _subjects(topic.subjects, part)
            if part == "test" and rng.random() < HELD_OUT_SHARE:
                pool = topic.subjects[2::3] or pool
            subject = rng.choice(pool)
            text = rng.choice(frames).format(
                company=rng.choice(_COMPANIES) + rng.choice(("有限公司", "公司", "")),
                subject=subject,
                problem=rng.choice(problems),
                opener=rng.choice(openers),
                closer=rng.choice(closers),
                place=rng.choice(_PLACES),
            )
            if rng.random() < aside_rate:
                other = rng.choice(others)
                aside = rng.choice(asides).format(other=rng.choice(other.subjects))
                text = aside + text
            if rng.random() < typo_rate:
                text = _typo(text, rng)
            result.append(Request(text, department, topic.category))
    rng.shuffle(result)
    return result


def _typo(text: str, rng: random.Random) -> str:
    candidates = [word for word in _TYPOS if word in text]
    if not candidates:
        return text
    word = rng.choice(candidates)
    return text.replace(word, _TYPOS[word], 1)


def write_csv(path: str | Path, requests: list[Request], *, encoding: str = "utf-8") -> Path:
    path = Path(path)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "dept", "category"])
        for request in requests:
            writer.writerow([request.text, request.dept, request.category])
    return path


def write_train_test(
    directory: str | Path, *, train_per_department: int = 30, test_per_department: int = 12
) -> tuple[Path, Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    train = write_csv(
        directory / "train.csv", generate("train", per_department=train_per_department)
    )
    test = write_csv(directory / "test.csv", generate("test", per_department=test_per_department))
    return train, test


def iter_rows(requests: list[Request]) -> Iterator[tuple[str, str, str]]:
    for request in requests:
        yield request.text, request.dept, request.category
