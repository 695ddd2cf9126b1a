"""The demo city's policy library (政策库): about 250 policies written for the demo from topics
(留抵退税, 首贷, 专精特新, 一件事一次办 …) × issuers (national, provincial, city, district) × years,
with believable titles, document numbers (示政办发〔2025〕12号) and bodies of a few paragraphs;
later versions amend earlier ones (政策沿革), some are repealed or expired, a few are drafts, and
the city's general policies apply to every enterprise. Built through the services' bulk path
and the workflow engine, so the index, history rows and audit events are as the pages make
them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.core.workflow import execute_transitions
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Enterprise
from sizhen.thinktank.matching import Matcher
from sizhen.thinktank.models import Policy, Redemption
from sizhen.thinktank.search import clear_index
from sizhen.thinktank.services import PolicyData, create_policies_in_bulk


@dataclass(frozen=True)
class Issuer:
    name: str
    level: str
    prefix: str  # of the document number: 示政办发〔2025〕12号
    place: str  # what its titles say: "" for national bodies, else 示范省 / 示范市 / 东湖区
    region: str = ""  # the region code its policies cover ("" = its whole jurisdiction)
    doc: str = "通知"


ISSUERS: tuple[Issuer, ...] = (
    Issuer("国务院办公厅", "national", "国办发", "", doc="意见"),
    Issuer("财政部 税务总局", "national", "财政部 税务总局公告", "", doc="公告"),
    Issuer("国家发展改革委", "national", "发改体改", "", doc="通知"),
    Issuer("工业和信息化部", "national", "工信部企业", "", doc="通知"),
    Issuer("人力资源社会保障部", "national", "人社部发", "", doc="通知"),
    Issuer("中国人民银行", "national", "银发", "", doc="通知"),
    Issuer("国家市场监督管理总局", "national", "国市监注发", "", doc="意见"),
    Issuer("示范省人民政府办公厅", "provincial", "示省府办", "示范省", doc="若干措施"),
    Issuer("示范省财政厅", "provincial", "示省财税", "示范省", doc="通知"),
    Issuer("示范省工业和信息化厅", "provincial", "示省工信", "示范省", doc="实施方案"),
    Issuer("示范省人力资源和社会保障厅", "provincial", "示省人社发", "示范省", doc="通知"),
    Issuer("示范市人民政府", "city", "示政发", "示范市", doc="若干措施"),
    Issuer("示范市人民政府办公室", "city", "示政办发", "示范市", doc="实施方案"),
    Issuer("示范市营商环境建设局", "city", "示营商发", "示范市", doc="工作方案"),
    Issuer("示范市财政局", "city", "示财", "示范市", doc="管理办法"),
    Issuer("示范市工业和信息化局", "city", "示工信发", "示范市", doc="实施细则"),
    Issuer("示范市科学技术局", "city", "示科发", "示范市", doc="管理办法"),
    Issuer("示范市人力资源和社会保障局", "city", "示人社发", "示范市", doc="通知"),
    Issuer("示范市地方金融管理局", "city", "示金发", "示范市", doc="实施细则"),
    Issuer("示范市市场监督管理局", "city", "示市监发", "示范市", doc="通知"),
    Issuer("示范市住房和城乡建设局", "city", "示建发", "示范市", doc="通知"),
    Issuer("示范市商务局", "city", "示商发", "示范市", doc="若干措施"),
    Issuer("东湖区人民政府", "district", "东政发", "东湖区", "449901", "若干措施"),
    Issuer("西山区人民政府", "district", "西政发", "西山区", "449902", "若干措施"),
    Issuer("南湾区人民政府", "district", "南政发", "南湾区", "449903", "实施办法"),
    Issuer("北苑区人民政府", "district", "北政发", "北苑区", "449904", "实施办法"),
    Issuer("松岭县人民政府", "district", "松政发", "松岭县", "449921", "若干措施"),
    Issuer("云湖市人民政府", "district", "云政发", "云湖市", "449981", "若干措施"),
    Issuer("高新区管理委员会", "district", "高新管发", "高新区", "P449951", "若干政策"),
    Issuer("经济技术开发区管理委员会", "district", "经开管发", "经济技术开发区", "P449952", "若干政策"),
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    key: str
    titles: tuple[str, ...]  # {place} is the issuer's jurisdiction, {doc} its kind of document
    measures: tuple[str, ...]  # the numbered measures of the body, {place}/{amount}/{ratio}
    industries: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    indicator: str = ""
    tags: tuple[str, ...] = ()
    #: Issued by which levels ("national", "provincial", "city", "district").
    levels: tuple[str, ...] = ("national", "provincial", "city", "district")
    #: A general policy: the city's latest applies to every enterprise, never expires.
    general: bool = False


TOPICS: tuple[Topic, ...] = (
    Topic(
        "tax_refund",
        ("关于进一步加大增值税期末留抵退税政策实施力度的{doc}", "{place}关于做好增值税留抵退税工作的{doc}", "{place}关于落实小微企业增值税留抵退税政策的{doc}"),
        ("对符合条件的小微企业，一次性退还存量留抵税额，并按月全额退还增量留抵税额。", "税务部门建立留抵退税快速审核机制，符合条件的申请在 {days} 个工作日内办结，退税资金直达企业账户。", "对制造业、科学研究和技术服务业等行业企业，将先进制造业增量留抵退税比例提高至 {ratio}%。", "严厉打击骗取留抵退税违法行为，对虚开发票、隐匿收入等行为依法从严查处。"),
        sizes=("small", "micro"), indicator="BE08", tags=("减税降费", "留抵退税"), levels=("national", "provincial", "city"),
    ),
    Topic(
        "first_loan",
        ("{place}关于开展首贷户培育行动的{doc}", "{place}首贷续贷贴息资金管理{doc}", "{place}关于深化小微企业金融服务的{doc}"),
        ("对首次获得银行贷款的小微企业（首贷户），按贷款市场报价利率的 {ratio}% 给予贴息，单户年度最高 {amount} 万元。", "推广无还本续贷、随借随还等服务，对符合条件的到期贷款予以续贷，降低企业转贷成本。", "设立应急转贷资金，单笔转贷期限不超过 {days} 天，收费不高于同期贷款利率。", "金融机构开设首贷服务中心，对首贷户实行专人对接、限时办结。"),
        sizes=("small", "micro"), indicator="BE06", tags=("首贷", "融资", "贷款贴息"),
    ),
    Topic(
        "specialised",
        ("{place}关于支持专精特新中小企业高质量发展的{doc}", "{place}专精特新“小巨人”企业培育{doc}", "{place}优质中小企业梯度培育管理{doc}"),
        ("对新认定的国家级专精特新“小巨人”企业一次性奖励 {amount} 万元，省级专精特新中小企业奖励 {amount2} 万元。", "专精特新中小企业申请技术改造项目的，按设备投资额的 {ratio}% 给予补助。", "优先推荐专精特新企业纳入首台套、首批次、首版次保险补偿范围。", "建立专精特新企业服务专员制度，一企一策协调解决用地、用工、融资等问题。"),
        industries=("C", "I", "M"), sizes=("medium", "small", "micro"), indicator="BE18", tags=("专精特新", "中小企业"),
    ),
    Topic(
        "jobs",
        ("{place}关于做好失业保险稳岗返还工作的{doc}", "{place}关于延续实施阶段性降低社会保险费率的{doc}", "{place}以工代训补贴实施{doc}"),
        ("对上年度未裁员或裁员率不高于 {ratio}% 的参保企业，返还其上年度实际缴纳失业保险费的 60%，中小微企业返还比例提高至 90%。", "稳岗返还实行免申即享，经办机构通过大数据比对筛选符合条件的企业，直接将资金拨付至企业账户。", "企业吸纳高校毕业生并签订一年以上劳动合同的，按每人 {amount2} 千元给予一次性吸纳就业补贴。", "对困难行业企业可申请缓缴社会保险费，缓缴期间免收滞纳金。"),
        indicator="BE12", tags=("稳岗返还", "就业", "免申即享"),
    ),
    Topic(
        "startup",
        ("{place}关于推行企业开办“一件事一次办”的{doc}", "{place}进一步压缩企业开办时间{doc}", "{place}关于全面推行电子营业执照应用的{doc}"),
        ("推行企业开办“一件事一次办”，将设立登记、公章刻制、发票申领、社保登记、公积金缴存登记合并为一个环节，{days} 个工作日内办结。", "新开办企业免费刻制首套公章，免费邮寄营业执照和税务 UKey。", "推广电子营业执照和电子印章同步发放，在政务服务、金融、税务等场景全面应用。", "设立企业开办专区，提供帮办代办服务，实现“一窗受理、一网通办”。"),
        indicator="BE01", tags=("企业开办", "一件事一次办", "一网通办"), levels=("national", "city", "district"), general=True,
    ),
    Topic(
        "construction",
        ("{place}关于深化工程建设项目审批制度改革的{doc}", "{place}社会投资项目“拿地即开工”实施{doc}", "{place}工程建设项目联合验收实施细则"),
        ("社会投资低风险项目审批全流程压缩至 {days} 个工作日以内，推行“拿地即开工”。", "推行区域评估，由政府统一组织环境影响、水土保持等评估，评估结果免费供企业使用。", "实施联合验收和多测合一，一次委托、成果共享。", "水电气暖等市政公用服务报装实行并联办理，小型项目外线工程免于行政审批。"),
        industries=("E", "K"), indicator="BE02", tags=("工程建设项目", "拿地即开工", "联合验收"), levels=("provincial", "city", "district"),
    ),
    Topic(
        "utilities",
        ("{place}关于进一步优化用电营商环境的{doc}", "{place}提升获得用水用气便利度{doc}", "{place}关于降低企业用能成本的{doc}"),
        ("低压小微企业用电报装实行“三零”服务，办电时间压缩至 {days} 个工作日以内。", "高压用户用电报装供电企业投资延伸至用户规划红线，降低企业接入成本。", "用水用气报装实行全程网办，对符合条件的小微企业免收接入费用。", "对工业企业峰谷分时电价执行情况开展检查，清理规范转供电环节加价行为。"),
        industries=("C", "D", "E"), indicator="BE03", tags=("获得电力", "水电气暖", "降本减负"), levels=("city", "district"),
    ),
    Topic(
        "trade",
        ("{place}关于促进外贸稳规模优结构的{doc}", "{place}跨境贸易便利化专项行动{doc}", "{place}关于支持外贸企业出口退税提速的{doc}"),
        ("推行进出口货物“提前申报”“两步申报”，压缩整体通关时间 {ratio}% 以上。", "出口退税平均办理时间压缩至 {days} 个工作日以内，一类、二类出口企业即报即退。", "对企业参加境外展会给予展位费 {ratio}% 的补助，单家企业年度最高 {amount} 万元。", "完善国际贸易单一窗口功能，实现口岸收费目录清单公开。"),
        industries=("F", "G", "C"), indicator="BE09", tags=("跨境贸易", "外贸", "出口退税"), levels=("national", "provincial", "city"),
    ),
    Topic(
        "innovation",
        ("{place}关于落实研发费用加计扣除政策的{doc}", "{place}高新技术企业培育{doc}", "{place}科技型中小企业研发投入后补助{doc}"),
        ("企业开展研发活动实际发生的研发费用，按实际发生额的 100% 在税前加计扣除。", "对首次认定的高新技术企业给予 {amount} 万元奖励，重新认定的给予 {amount2} 万元奖励。", "对科技型中小企业上年度研发投入给予 {ratio}% 的后补助，单家企业最高 {amount} 万元。", "建立科技成果转化服务平台，对技术合同成交额给予奖励。"),
        industries=("C", "I", "M"), indicator="BE16", tags=("研发费用加计扣除", "高新技术企业", "科技创新"),
    ),
    Topic(
        "digital",
        ("{place}关于推进制造业数字化转型的{doc}", "{place}中小企业数字化转型城市试点实施{doc}", "{place}智能化改造和数字化转型专项资金管理{doc}"),
        ("对实施智能化改造的工业企业，按设备和软件投资额的 {ratio}% 给予补助，单个项目最高 {amount} 万元。", "遴选数字化服务商，为中小企业提供“小快轻准”的数字化解决方案，费用补助 {ratio2}%。", "支持企业建设智能工厂、数字化车间和绿色工厂，对认定的给予一次性奖励。", "开展工业互联网标识解析应用，对接入二级节点的企业给予奖励。"),
        industries=("C", "I"), indicator="BE18", tags=("数字化转型", "智能化改造", "技术改造"), levels=("national", "provincial", "city", "district"),
    ),
    Topic(
        "individual",
        ("{place}关于进一步支持个体工商户发展的{doc}", "{place}个体工商户分型分类精准帮扶{doc}", "{place}关于减免小微企业和个体工商户房租的{doc}"),
        ("对月销售额 10 万元以下的小规模纳税人免征增值税，个体工商户年应纳税所得额不超过 200 万元的部分减半征收个人所得税。", "国有房屋出租给小微企业和个体工商户的，减免 {months} 个月租金。", "个体工商户可自主选择转型为企业，转型后可继续享受原有优惠政策。", "开展个体工商户“名特优新”认定，给予品牌宣传和融资支持。"),
        industries=("F", "H", "O"), sizes=("micro",), indicator="BE18", tags=("个体工商户", "小微企业", "房租减免"), levels=("national", "city", "district"),
    ),
    Topic(
        "procurement",
        ("{place}关于进一步加大政府采购支持中小企业力度的{doc}", "{place}政府采购促进中小企业发展管理{doc}", "{place}关于优化招标投标营商环境的{doc}"),
        ("超过 200 万元的货物和服务采购项目，适宜由中小企业提供的，预留该部分采购项目预算总额的 {ratio}% 以上专门面向中小企业采购。", "对小微企业报价给予 {ratio2}% 的价格扣除，用扣除后的价格参加评审。", "全面推行投标保证金电子保函替代现金缴纳，政府采购项目免收投标保证金。", "采购人应当在收到发票后 {days} 日内支付款项，不得以机构变动等理由拖延付款。"),
        sizes=("medium", "small", "micro"), indicator="BE13", tags=("政府采购", "招标投标", "中小企业"), levels=("national", "provincial", "city"),
    ),
    Topic(
        "ip_finance",
        ("{place}知识产权质押融资入园惠企行动{doc}", "{place}关于促进知识产权质押融资的{doc}"),
        ("对以专利、商标等知识产权质押获得贷款的企业，按实际支付利息的 {ratio}% 给予贴息，单家企业年度最高 {amount} 万元。", "对知识产权质押融资产生的评估、担保费用给予 50% 的补助。", "建立知识产权质押融资风险补偿资金池，对合作银行的不良贷款损失给予补偿。"),
        industries=("C", "I", "M", "R"), indicator="BE16", tags=("知识产权质押", "融资"), levels=("provincial", "city", "district"),
    ),
    Topic(
        "credit",
        ("{place}关于推行轻微违法行为首违不罚的{doc}", "{place}信用修复“一件事”办理{doc}", "{place}关于实施包容审慎监管的{doc}"),
        ("对首次出现、危害后果轻微并及时改正的违法行为，依法不予行政处罚（首违不罚），并制定不予处罚事项清单。", "企业行政处罚信息公示期满后可申请信用修复，信用修复实行“一件事一次办”，{days} 个工作日内办结。", "推行“双随机、一公开”监管，对信用良好的企业降低抽查比例。", "涉企行政检查实行计划备案，同一部门对同一企业年度检查原则上不超过一次。"),
        indicator="BE17", tags=("首违不罚", "信用修复", "包容审慎监管"), levels=("provincial", "city"), general=True,
    ),
    Topic(
        "talent",
        ("{place}关于加快集聚高层次人才的{doc}", "{place}企业人才安家补贴实施{doc}"),
        ("企业新引进的博士、硕士研究生分别给予每月 {amount2} 千元、2 千元的生活补贴，期限三年。", "对企业引进的高层次人才给予最高 {amount} 万元安家补贴，优先配租人才公寓。", "人才子女入学、配偶就业由人才服务专员一对一协调。"),
        indicator="BE12", tags=("人才引进", "安家补贴"), levels=("city", "district"),
    ),
    Topic(
        "services",
        ("{place}关于深化“高效办成一件事”改革的{doc}", "{place}惠企政策“免申即享”工作{doc}", "{place}关于建立政策找人机制的{doc}"),
        ("梳理惠企政策清单，对可通过数据比对确定享受对象的政策实行“免申即享”，资金直达企业。", "依托企业画像推行“政策找人”，在政务服务网向符合条件的企业精准推送政策。", "企业诉求实行“接诉即办”，一般诉求 {days} 个工作日内答复。", "设立营商环境监督员，定期开展营商环境满意度调查。"),
        indicator="BE15", tags=("免申即享", "政策找人", "政务服务"), levels=("provincial", "city", "district"), general=True,
    ),
)  # fmt: skip

_INTRO = (
    "为深入贯彻党中央、国务院关于优化营商环境的决策部署，进一步激发市场主体活力，"
    "结合{where}实际，现就有关事项{verb}如下。"
)
_CLOSING = "本{doc}自{effective}起施行，有效期至{expires}。{previous}各有关单位要加强组织领导，确保政策落地见效。"
_NUMERALS = "一二三四五六七八九十"


def _body(topic: Topic, issuer: Issuer, rng: Any, effective: dt.date, expires: dt.date | None,
          previous: str) -> str:  # fmt: skip
    values = {
        "place": issuer.place or "全国",
        "amount": rng.choice((20, 30, 50, 100, 200)),
        "amount2": rng.choice((3, 5, 10)),
        "ratio": rng.choice((10, 20, 30, 40, 50)),
        "ratio2": rng.choice((6, 10, 15)),
        "days": rng.choice((1, 2, 3, 5, 7, 10, 15)),
        "months": rng.choice((3, 6)),
    }
    measures = list(topic.measures)
    rng.shuffle(measures)
    paragraphs = [
        _INTRO.format(
            where=issuer.place or "当前经济形势", verb="通知" if issuer.doc == "通知" else "提出"
        )
    ]
    for index, measure in enumerate(measures[: rng.randint(3, len(measures))]):
        paragraphs.append(f"{_NUMERALS[index]}、{measure.format(**values)}")
    paragraphs.append(
        _CLOSING.format(
            doc=issuer.doc if len(issuer.doc) <= 4 else "文件",
            effective=f"{effective.year}年{effective.month}月{effective.day}日",
            expires=f"{expires.year}年{expires.month}月{expires.day}日" if expires else "长期",
            previous=previous,
        )
    )
    return "\n\n".join(paragraphs)


@dataclass
class _Planned:
    data: PolicyData
    topic: Topic
    issuer: Issuer
    year: int


def _plan(ctx: Any, today: dt.date) -> list[list[_Planned]]:
    """The policies by year, oldest year first (a later version names an earlier one)."""
    # Separate streams, so that the structure (how many policies, by whom) is the same whatever
    # today's date makes the date ranges.
    rng = ctx.rng("policies")
    dates = ctx.rng("policy-dates")
    text = ctx.rng("policy-texts")
    indicators = {
        i.code: i for i in Indicator.objects.filter(code__in={t.indicator for t in TOPICS})
    }
    regions = {code: region for code, region in ctx.regions.items()}
    numbers: dict[tuple[str, int], int] = {}
    latest: dict[tuple[str, str], Policy | _Planned] = {}
    years = range(today.year - 5, today.year + 1)
    plan: list[list[_Planned]] = []
    for year in years:
        batch: list[_Planned] = []
        last_month = 12 if year < today.year else max(1, today.month - 1)
        for topic in TOPICS:
            candidates = [i for i in ISSUERS if i.level in topic.levels]
            chosen = rng.sample(candidates, k=min(len(candidates), rng.choice((2, 3, 3))))
            if topic.general and year == today.year - 1:
                # The city's general policy of last year stays in force for everyone.
                city = next(i for i in ISSUERS if i.name == "示范市人民政府办公室")
                chosen = [city, *[i for i in chosen if i != city]]
            for issuer in chosen:
                published = dt.date(year, dates.randint(1, last_month), dates.randint(1, 28))
                effective = published + dt.timedelta(days=dates.choice((0, 0, 10, 30)))
                general = topic.general and issuer.name == "示范市人民政府办公室"
                expires = None if general else rng.choice(
                    (None, dt.date(year + 2, 12, 31), dt.date(year + 3, 12, 31))
                )  # fmt: skip
                sequence = numbers.get((issuer.prefix, year), rng.randint(1, 9)) + rng.randint(1, 6)
                numbers[(issuer.prefix, year)] = sequence
                doc_number = f"{issuer.prefix}〔{year}〕{sequence}号"
                title = rng.choice(topic.titles).format(place=issuer.place, doc=issuer.doc)
                earlier = latest.get((topic.key, issuer.name))
                previous = ""
                if isinstance(earlier, _Planned):
                    previous = f"《{earlier.data.title}》（{earlier.data.doc_number}）同时废止。"
                    title = title if title != earlier.data.title else f"{title}（修订）"
                data = PolicyData(
                    title=title,
                    issuer=issuer.name,
                    level=issuer.level,
                    doc_number=doc_number,
                    published_on=published,
                    effective_on=effective,
                    expires_on=expires,
                    body=_body(topic, issuer, text, effective, expires, previous),
                    industries=list(topic.industries),
                    sizes=list(topic.sizes),
                    regions=[regions[issuer.region]] if issuer.region in regions else [],
                    indicators=[indicators[topic.indicator]]
                    if topic.indicator in indicators
                    else [],
                    tags=list(topic.tags),
                )
                planned = _Planned(data, topic, issuer, year)
                batch.append(planned)
                latest[(topic.key, issuer.name)] = planned
        plan.append(batch)
    return plan


def build_policies(ctx: Any) -> int:
    today = timezone.localdate()
    coordinator = ctx.users["coordinator"]
    plan = _plan(ctx, today)
    # The newest three stay drafts (征求意见稿) for the office to publish.
    drafts = plan[-1][-3:]
    for planned in drafts:
        planned.data.title = f"{planned.data.title}（征求意见稿）"
    created: list[Policy] = []
    by_key: dict[tuple[str, str], Policy] = {}
    amended: list[Policy] = []
    for batch in plan:
        for planned in batch:
            planned.data.supersedes = by_key.get((planned.topic.key, planned.issuer.name))
        policies = create_policies_in_bulk(
            [p.data for p in batch], actor=coordinator, publish=False
        )
        for planned, policy in zip(batch, policies, strict=True):
            if planned.data.supersedes is not None and planned not in drafts:
                amended.append(planned.data.supersedes)
            by_key[(planned.topic.key, planned.issuer.name)] = policy
        created.extend(policies)
    execute_transitions(created[: len(created) - len(drafts)], "publish", actor=coordinator)
    execute_transitions(amended, "amend", actor=coordinator, note="已被新版本修订")
    # One in seven of the amended versions was repealed outright when its successor came.
    repealed = [p for index, p in enumerate(amended) if index % 7 == 3]
    execute_transitions(repealed, "repeal", actor=coordinator, note="已被新文件废止")
    _redemptions(ctx, today)
    return len(created)


def _redemptions(ctx: Any, today: dt.date) -> None:
    """What enterprises received under a few city policies (兑现金额, 件数)."""
    rng = ctx.rng("policy-redemptions")
    matcher = Matcher.today(today)
    enterprises: Sequence[Enterprise] = ctx.enterprises
    rows = [(e.pk, e.industry_code, e.size, e.region.path) for e in enterprises]
    city_policies = [p for p in matcher.policies if p.level == "city" and (p.industries or p.sizes)]
    records = []
    for policy in city_policies[:12]:
        found = matcher.enterprises_of(policy, rows)
        for pk in rng.sample(found, k=min(len(found), rng.randint(3, 8))):
            records.append(
                Redemption(
                    policy=policy,
                    enterprise_id=pk,
                    amount=Decimal(rng.randint(5, 500) * 1000),
                    cases=rng.randint(1, 3),
                    redeemed_on=max(
                        policy.effective_on or today, today - dt.timedelta(days=rng.randint(1, 300))
                    ),
                    recorded_by_label="营商办（演示）",
                )
            )
    Redemption.objects.bulk_create(records)


def wipe_policies(city_path: str) -> None:
    """The demo's policy library (a demo database only), with its history rows and index."""
    Redemption.objects.all().delete()
    ids = [str(pk) for pk in Policy.objects.values_list("pk", flat=True)]
    TransitionHistory.objects.filter(
        object_type=Policy._meta.label_lower, object_id__in=ids
    ).delete()
    Policy.objects.update(supersedes=None)
    Policy.objects.all().delete()
    clear_index()
