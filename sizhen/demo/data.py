"""Fixed tables of the demo city 示范市 (code 449900). Every code uses the unassigned 4499xx
range and every name is made up, so demo data can never be mistaken for a real city's."""

from __future__ import annotations

from dataclasses import dataclass

from sizhen.core.roles import Role
from sizhen.organisations.choices import DepartmentType, RegionLevel

CITY_CODE = "449900"
CITY_NAME = "示范市"

#: One password for every demo account: long enough, four character classes, not common, not
#: similar to any demo username — it passes the password policy (checked when loading).
DEMO_PASSWORD = "Sizhen@2026"  # noqa: S105 - published demo password, printed by --logins


@dataclass(frozen=True)
class RegionSpec:
    code: str
    name: str
    level: str
    parent: str  # code of the parent region
    prefix: str  # department-code prefix
    enterprises: int  # how many of the demo enterprises are registered here


REGIONS: tuple[RegionSpec, ...] = (
    RegionSpec("449901", "东湖区", RegionLevel.DISTRICT, CITY_CODE, "DH", 320),
    RegionSpec("449902", "西山区", RegionLevel.DISTRICT, CITY_CODE, "XS", 240),
    RegionSpec("449903", "南湾区", RegionLevel.DISTRICT, CITY_CODE, "NW", 240),
    RegionSpec("449904", "北苑区", RegionLevel.DISTRICT, CITY_CODE, "BY", 200),
    RegionSpec("449921", "松岭县", RegionLevel.COUNTY, CITY_CODE, "SL", 120),
    RegionSpec("449922", "桐溪县", RegionLevel.COUNTY, CITY_CODE, "TX", 100),
    RegionSpec("449981", "云湖市", RegionLevel.COUNTY, CITY_CODE, "YH", 160),
    RegionSpec("449982", "青石市", RegionLevel.COUNTY, CITY_CODE, "QS", 140),
    # Parks (园区) carry project codes; they sit under a district or directly under the city.
    RegionSpec("P449951", "高新区", RegionLevel.PARK, "449901", "GX", 160),
    RegionSpec("P449952", "经济技术开发区", RegionLevel.PARK, CITY_CODE, "JK", 120),
    RegionSpec("P449953", "临港产业园", RegionLevel.PARK, "449903", "LG", 80),
    RegionSpec("P449954", "综合保税区", RegionLevel.PARK, CITY_CODE, "ZB", 60),
    RegionSpec("P449955", "文旅度假区", RegionLevel.PARK, "449921", "WL", 60),
)
ENTERPRISE_COUNT = sum(spec.enterprises for spec in REGIONS)


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    type: str
    short_name: str
    responsibilities: str


def _city(code: str, name: str, short: str, duties: str, kind: str = "") -> DepartmentSpec:
    return DepartmentSpec(f"SZ-{code}", name, kind or DepartmentType.CITY_DEPARTMENT, short, duties)


_U = DepartmentType.UTILITY
_J = DepartmentType.JUDICIAL
_O = DepartmentType.OTHER

CITY_DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    _city(
        "YSB",
        "营商环境建设局",
        "营商局",
        "统筹全市优化营商环境工作，牵头营商环境评价与监测，督办整改任务，受理和协调企业诉求。",
        DepartmentType.OFFICE,
    ),
    _city(
        "FGW",
        "发展和改革委员会",
        "发改委",
        "拟订经济社会发展规划，负责投资项目审批核准、社会信用体系建设和获得电力、招标投标等指标的牵头工作。",
    ),
    _city(
        "GXJ",
        "工业和信息化局",
        "工信局",
        "推进工业和信息化发展，负责中小企业促进、惠企政策兑现和企业梯度培育。",
    ),
    _city("JYJ", "教育局", "教育局", "负责教育事业发展，保障人才子女入学等公共服务。"),
    _city("KJJ", "科学技术局", "科技局", "负责科技创新体系建设、高新技术企业认定和科技成果转化。"),
    _city(
        "GAJ",
        "公安局",
        "公安局",
        "负责社会治安和户籍、出入境、交通管理，保障企业经营秩序，办理公章刻制备案。",
    ),
    _city("MZJ", "民政局", "民政局", "负责社会组织登记、社会救助和地名管理。"),
    _city(
        "SFJ",
        "司法局",
        "司法局",
        "负责法治政府建设、行政执法监督和公共法律服务，推进涉企行政执法规范化。",
    ),
    _city("CZJ", "财政局", "财政局", "负责财政预算管理、政府采购监管和惠企资金拨付。"),
    _city(
        "RSJ",
        "人力资源和社会保障局",
        "人社局",
        "负责就业创业、社会保险、劳动关系和人才服务，牵头劳动力市场监管相关指标。",
    ),
    _city(
        "ZRZY",
        "自然资源和规划局",
        "自然资源局",
        "负责国土空间规划、用地审批、不动产登记和工程建设项目规划许可，牵头登记财产指标。",
    ),
    _city(
        "STHJ", "生态环境局", "生态环境局", "负责生态环境监管、建设项目环境影响评价审批和排污许可。"
    ),
    _city(
        "ZJJ",
        "住房和城乡建设局",
        "住建局",
        "负责建筑市场监管、施工许可、竣工验收和工程建设项目审批制度改革，牵头办理建筑许可指标。",
    ),
    _city("JTJ", "交通运输局", "交通局", "负责交通运输行业管理、道路运输许可和物流降本增效。"),
    _city("SLJ", "水利局", "水利局", "负责水资源管理、取水许可和水土保持方案审批。"),
    _city("NYJ", "农业农村局", "农业农村局", "负责农业产业发展、农产品质量安全和涉农企业服务。"),
    _city("SWJ", "商务局", "商务局", "负责内外贸易和招商引资促进，牵头跨境贸易和外商投资服务。"),
    _city("WGLT", "文化广电旅游体育局", "文广旅体局", "负责文化、广电、旅游和体育行业管理与许可。"),
    _city("WJW", "卫生健康委员会", "卫健委", "负责医疗卫生服务和公共卫生许可管理。"),
    _city("TYJR", "退役军人事务局", "退役军人局", "负责退役军人就业创业扶持和权益保障。"),
    _city("YJJ", "应急管理局", "应急局", "负责安全生产监管、危险化学品经营许可和应急救援。"),
    _city("SJJ", "审计局", "审计局", "负责财政财务收支审计和政策落实跟踪审计。"),
    _city(
        "GZW",
        "国有资产监督管理委员会",
        "国资委",
        "负责市属国有企业监管，督促国有企业清理拖欠民营企业账款。",
    ),
    _city(
        "SCJG",
        "市场监督管理局",
        "市场监管局",
        "负责市场主体登记注册、市场秩序监管、质量和知识产权工作，牵头开办企业、知识产权创造保护和运用等指标。",
    ),
    _city("TJJ", "统计局", "统计局", "负责统计调查和统计数据发布，提供营商环境监测基础数据。"),
    _city("YBJ", "医疗保障局", "医保局", "负责医疗保险参保登记和医保服务。"),
    _city("CGJ", "城市管理局", "城管局", "负责市政设施、城市管理综合执法和户外广告设置许可。"),
    _city(
        "ZWFW",
        "政务服务管理局",
        "政务服务局",
        "负责政务服务中心运行、一网通办和 12345 政务服务便民热线，牵头政务服务指标。",
    ),
    _city("SJZY", "数据局", "数据局", "负责政务数据资源统筹、共享交换和公共数据开放。"),
    _city(
        "JRJ",
        "地方金融管理局",
        "金融局",
        "负责地方金融监管、融资服务和企业上市培育，牵头获得信贷指标。",
    ),
    _city("XFJ", "信访局", "信访局", "负责信访事项受理、转送和督办。"),
    _city("RFB", "人民防空办公室", "人防办", "负责人防工程建设审批和防空地下室易地建设审批。"),
    _city("LYJ", "林业局", "林业局", "负责林业资源保护和使用林地审核。"),
    _city("SW", "税务局", "税务局", "负责税费征收管理和纳税服务，牵头纳税指标。"),
    _city("HG", "海关", "海关", "负责进出口监管、通关便利化和跨境贸易指标数据。"),
    _city("RMYH", "人民银行分行", "人民银行", "负责货币信贷政策执行、企业银行账户和征信服务。"),
    _city("JRJG", "金融监管分局", "金融监管分局", "负责银行保险机构监管，推动普惠金融服务。"),
    _city(
        "XFJY", "消防救援支队", "消防支队", "负责消防安全检查和公众聚集场所投入使用前消防安全检查。"
    ),
    _city("QXJ", "气象局", "气象局", "负责防雷装置设计审核和竣工验收。"),
    _city("GJJ", "住房公积金管理中心", "公积金中心", "负责住房公积金缴存、提取和贷款服务。"),
    _city("BDC", "不动产登记中心", "不动产中心", "负责不动产登记办理和登记信息查询。"),
    _city("GGZY", "公共资源交易中心", "交易中心", "负责工程建设、政府采购等公共资源交易平台运行。"),
    _city("TCJ", "投资促进局", "投促局", "负责招商引资项目跟踪服务和重大项目落地协调。"),
    _city(
        "ZXQY", "中小企业服务中心", "中小企业中心", "负责中小企业公共服务平台运行和惠企政策咨询。"
    ),
    _city("ZSCQ", "知识产权保护中心", "知识产权中心", "负责专利快速预审、知识产权维权援助。"),
    _city("GSL", "工商业联合会", "工商联", "负责联系服务民营企业，收集反映企业诉求。", _O),
    _city("YZ", "邮政管理局", "邮政局", "负责邮政和快递业监管。"),
    _city("TXB", "通信管理办公室", "通信办", "负责通信行业管理和信息通信基础设施建设协调。"),
    _city("RL", "热力公司", "热力公司", "负责城市集中供热、热力接入服务。", _U),
    _city(
        "GDGS", "供电公司", "供电公司", "负责电网建设运行和用电报装服务，提供获得电力指标数据。", _U
    ),
    _city("SWJT", "水务集团", "水务集团", "负责城市供水、排水接入服务，提供获得用水指标数据。", _U),
    _city(
        "RQGS", "燃气公司", "燃气公司", "负责城市燃气供应和用气报装服务，提供获得用气指标数据。", _U
    ),
    _city(
        "DX",
        "电信分公司",
        "电信公司",
        "负责通信网络接入和企业宽带报装服务，提供获得网络指标数据。",
        _U,
    ),
    _city("FY", "人民法院", "法院", "负责商事案件审判和执行，提供执行合同、办理破产指标数据。", _J),
    _city("JCY", "人民检察院", "检察院", "负责法律监督，依法保护企业合法权益。", _J),
    _city("ZCW", "仲裁委员会", "仲裁委", "负责商事仲裁案件受理和裁决。", _O),
    _city("GLJ", "公路管理局", "公路局", "负责公路养护和涉路施工许可。"),
)

#: Departments every district and county has: (code suffix, name suffix, duties).
DISTRICT_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("YSB", "营商环境建设办公室", "统筹本辖区优化营商环境工作，承接市级任务和企业诉求。"),
    ("FGJ", "发展和改革局", "负责本辖区投资项目管理和社会信用建设。"),
    ("SCJG", "市场监督管理局", "负责本辖区市场主体登记和市场监管。"),
    ("SW", "税务局", "负责本辖区税费征管和纳税服务。"),
    ("RSJ", "人力资源和社会保障局", "负责本辖区就业、社保和劳动关系。"),
    ("ZRZY", "自然资源和规划分局", "负责本辖区用地、规划和不动产登记受理。"),
    ("ZJJ", "住房和城乡建设局", "负责本辖区建筑许可和工程质量安全监管。"),
    ("ZWFW", "政务服务中心", "负责本辖区政务服务大厅运行和一窗受理。"),
    ("STHJ", "生态环境分局", "负责本辖区生态环境监管和环评审批受理。"),
)

#: The city department leading each district department's line of work, where its code suffix
#: differs from the district's (发展和改革局 answers to the city's 发展和改革委员会); the other
#: suffixes name the same line in the city and the districts.
SUPERIOR_SUFFIX: dict[str, str] = {"FGJ": "FGW", "JFJ": "FGW", "QFZX": "ZXQY", "YSB": "YSB"}

#: Departments every park has.
PARK_DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    ("JFJ", "管委会经济发展局", "负责园区产业发展、项目服务和统计。"),
    ("QFZX", "企业服务中心", "负责园区企业代办帮办和诉求受理。"),
)

#: GB/T 4754-2017 classes the demo enterprises belong to, with a word for their names.
INDUSTRIES: tuple[tuple[str, str], ...] = (
    ("A0141", "农业科技"),
    ("C1391", "食品"),
    ("C1811", "服饰"),
    ("C2669", "化工"),
    ("C3311", "钢结构"),
    ("C3484", "机械"),
    ("C3670", "汽车部件"),
    ("C3841", "新能源"),
    ("C3971", "电子"),
    ("E4710", "建设工程"),
    ("F5123", "贸易"),
    ("F5271", "商贸"),
    ("G5430", "物流"),
    ("H6110", "酒店管理"),
    ("H6210", "餐饮管理"),
    ("I6450", "数据科技"),
    ("I6510", "软件"),
    ("K7010", "置业"),
    ("L7251", "广告"),
    ("M7320", "技术研究"),
    ("O8010", "家政服务"),
    ("R8710", "文化传媒"),
)

BRANDS: tuple[str, ...] = (
    "华瑞", "恒通", "鼎盛", "嘉禾", "永安", "海川", "启明", "瑞丰", "天成", "金桥",
    "宏远", "博源", "润泽", "德信", "星辰", "新元", "远航", "立达", "和泰", "兴业",
    "长青", "锦程", "佳和", "安捷", "明辉", "汇通", "昌盛", "丰泽", "凯达", "信诺",
    "众联", "智远", "云帆", "绿源", "蓝海", "春晖", "聚力", "同创", "恒基", "盛景",
)  # fmt: skip

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
GIVEN_NAMES: tuple[str, ...] = (
    "伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "勇", "军", "杰", "涛", "明",
    "超", "霞", "平", "刚", "桂英", "建华", "志强", "秀兰", "海燕", "晓东", "丽娟", "文博",
    "雨欣", "子涵", "俊杰", "思远",
)  # fmt: skip
ROADS: tuple[str, ...] = (
    "人民路", "建设大道", "科技路", "解放路", "滨江路", "创新大道", "工业园路", "新华街",
    "迎宾大道", "学府路", "长兴路", "朝阳街",
)  # fmt: skip
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "158", "159", "177", "180", "182", "185", "186", "187", "188", "199",
)  # fmt: skip
SIZES: tuple[tuple[str, int], ...] = (("micro", 55), ("small", 30), ("medium", 12), ("large", 3))


@dataclass(frozen=True)
class ShowcaseEnterprise:
    """Enterprises with fixed names that the demo enterprise accounts belong to."""

    key: str
    region: str
    organisation_code: str
    name: str
    industry_code: str
    size: str
    contact_name: str
    contact_phone: str


SHOWCASE_ENTERPRISES: tuple[ShowcaseEnterprise, ...] = (
    ShowcaseEnterprise(
        "donghu",
        "449901",
        "MA0000011",
        "东湖示范科技有限公司",
        "I6510",
        "small",
        "张明",
        "13800001111",
    ),
    ShowcaseEnterprise(
        "xishan",
        "449902",
        "MA0000033",
        "西山示范物流有限公司",
        "G5430",
        "micro",
        "郑华",
        "13900003333",
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    department: str = ""  # department code
    region: str = ""  # region code (district officers)
    enterprise: str = ""  # key of a showcase enterprise
    phone: str = ""
    #: The head of the department (单位负责人): requests escalate to this account first.
    unit_leader: bool = False


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("leader", "李明远", Role.LEADER, phone="13700000001"),
    DemoAccount(
        "coordinator", "王晓燕", Role.COORDINATOR, department="SZ-YSB", phone="13700000002"
    ),
    DemoAccount(
        "lead_dept", "陈建国", Role.LEAD_DEPARTMENT, department="SZ-SCJG", unit_leader=True
    ),
    DemoAccount("resp_dept", "刘芳", Role.RESPONSIBLE_DEPARTMENT, department="DH-SCJG"),
    DemoAccount("resp_city", "黄志强", Role.RESPONSIBLE_DEPARTMENT, department="SZ-RSJ"),
    DemoAccount("district_dh", "赵磊", Role.DISTRICT_OFFICER, region="449901"),
    DemoAccount("district_xs", "孙静", Role.DISTRICT_OFFICER, region="449902"),
    DemoAccount("park_gx", "周涛", Role.DISTRICT_OFFICER, region="P449951"),
    DemoAccount("enterprise", "张明", Role.ENTERPRISE, enterprise="donghu"),
    DemoAccount("enterprise_xs", "郑华", Role.ENTERPRISE, enterprise="xishan"),
    DemoAccount("sysadmin", "何强", Role.SYSADMIN, department="SZ-YSB"),
)
