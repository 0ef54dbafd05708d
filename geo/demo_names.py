"""Names and place tables for the demo city of Wuhai (乌海市).

Streets are listed north to south, the order in which the demo lays them out; each carries
its code suffix (街道 001–099, 镇 100–199) and the names its communities take from north
to south. In a town (镇) the first is the town-seat 社区 and the rest are villages (村).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StreetSpec:
    suffix: str
    name: str
    communities: tuple[str, ...]


@dataclass(frozen=True)
class DistrictSpec:
    """A district's place on the map (an ellipse in metres) and what lies inside it."""

    code: str
    name: str
    lon: float
    lat: float
    half_width_m: float
    half_height_m: float
    tilt_deg: float  # clockwise, as the Yellow River leans north-north-east
    spacing_m: float  # between grid seeds, so about the width of a grid
    streets: tuple[StreetSpec, ...]
    dedicated: tuple[str, ...]  # schools, parks, hospitals that get their own grid
    driver_homes: int


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _street(suffix: str, name: str, communities: str) -> StreetSpec:
    return StreetSpec(suffix, name, _words(communities))


CITY_CODE = "150300"
CITY_NAME = "乌海市"
CITY_SEAT = "150302"  # 海勃湾区, where the city's own offices are
AREA_PHONE_PREFIX = "0473-"

DISTRICTS = (
    DistrictSpec(
        code="150302",
        name="海勃湾区",
        lon=106.825,
        lat=39.68,
        half_width_m=2500,
        half_height_m=6000,
        tilt_deg=8,
        spacing_m=600,
        streets=(
            _street("004", "海北街道", "海北社区 北环社区 兴业社区 繁荣社区 新风社区 祥和社区"),
            _street("003", "凤凰岭街道", "凤凰岭社区 胜利社区 青山社区 长青社区 春华社区 振兴社区"),
            _street("001", "新华街道", "团结社区 幸福社区 新华社区 人民社区 友谊社区 和平社区"),
            _street("002", "新华西街道", "林荫社区 康乐社区 育才社区 文化社区 光明社区 建设社区"),
            _street("005", "滨河街道", "滨河社区 黄河社区 金沙社区 公园社区 阳光社区 安康社区"),
            _street("100", "千里山镇", "千里山社区 千里山村 王元地村 新地村 联合村 东风村"),
        ),
        dedicated=("乌海市第一中学", "乌海职业技术学院", "乌海市人民医院"),
        driver_homes=2,
    ),
    DistrictSpec(
        code="150304",
        name="乌达区",
        lon=106.72,
        lat=39.505,
        half_width_m=2000,
        half_height_m=2500,
        tilt_deg=-5,
        spacing_m=560,
        streets=(
            _street("003", "五虎山街道", "五虎山社区 新城社区 朝阳社区 东山社区 永安社区 和谐社区"),
            _street("001", "三道坎街道", "三道坎社区 民主社区 铁路社区 新星社区 福安社区 花园社区"),
            _street("002", "梁家沟街道", "梁家沟社区 前进社区 矿区社区 红旗社区 向阳社区 丰收社区"),
            _street("100", "乌兰淖尔镇", "乌兰淖尔社区 乌兰淖尔村 赛汗村 北渠村 苏海图村 巴音赛村"),
        ),
        dedicated=("乌达工业园区",),
        driver_homes=2,
    ),
    DistrictSpec(
        code="150303",
        name="海南区",
        lon=106.89,
        lat=39.44,
        half_width_m=2000,
        half_height_m=2000,
        tilt_deg=0,
        spacing_m=540,
        streets=(
            _street(
                "001",
                "西卓子山街道",
                "西卓子山社区 海南社区 卓子山社区 东方红社区 民族社区 平安社区",
            ),
            _street("100", "拉僧庙镇", "拉僧庙社区 拉僧庙村 巴音乌素村 团结渠村 新民村 西来峰村"),
            _street("101", "巴音陶亥镇", "巴音陶亥社区 巴音陶亥村 万亩滩村 东红村 永胜村 黄河村"),
        ),
        dedicated=("海南工业园区",),
        driver_homes=1,
    ),
)

# The villages of the towns' countryside (geo.demo_rural), handed out north to south.
COUNTRY_VILLAGES = _words(
    "甘德尔村 卡布其村 桌子山村 摩尔沟村 黄白茨村 温都尔村 五星村 红星村 "
    "胜利村 向阳村 新建村 联丰村 永丰村 丰收村 三合村 四合村 民生村 草原村 "
    "沙湾村 滩地村 乌素图村 包尔汉村 哈达图村 察汗村 苏木图村 巴彦村 公乌素村 "
    "呼和村 塔拉村 宝日村 查干村 布日嘎斯村 敖包村 好来沟村 吉兰泰村 骆驼山村 "
    "石嘴村 渠口村 碱柜村 红柳村 沙枣村 白音村 千里沟村 长胜村 双河村 太平村 "
    "兴旺村 富民村 团结村 和顺村"
)

PARTY_CENTRE_HOURS = {
    "city": "08:30-17:30",
    "district": "08:30-17:30",
    "street": "08:30-18:00",
    "community": "08:00-20:00",
}

COMPOUND_STEMS = _words(
    "金地 银河 阳光 锦绣 华城 丽景 翠园 紫荆 海韵 星光 明珠 东方 西城 南湖 北湖 怡和 兴隆 嘉禾 "
    "瑞丰 鑫源 恒泰 万达 碧水 蓝天 绿洲 清华 雅颂 书香 御景 龙城 凤栖 海景 河畔 湖滨 山水 新世纪 "
    "世纪 景泰 富康 永安 吉祥 如意 春晖 秋实 润泽 泰和 安居 乐业 美林 桃源 枫林 松涛 柳岸 梧桐 "
    "银杏 桂花 丁香 玫瑰 蔷薇 紫薇"
)
COMPOUND_SUFFIXES = _words("小区 花园 家园 苑 新村 佳苑 公寓 名都")

ROADS = _words(
    "人民路 海拉路 黄河街 新华大街 滨河大道 北环路 甘德尔街 林荫路 青山路 凤凰岭路 团结路 建设路 "
    "解放路 胜利街 友谊街 民族街 振兴路 文化路 育才路 光明路 兴业路 公园路 乌达大街 五虎山路"
)

SURNAMES = list(  # most common first: names draw them with falling weights
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾"
    "彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛"
    "邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔"
)
GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志文辉红亮成春梅海燕"
    "波斌宇浩鹏飞欣婷雪晨佳琳博凯峰慧丹萍鑫瑞宁新荣德振东"
)
MONGOLIAN_NAMES = _words(
    "巴特尔 其其格 乌云 额尔敦 萨仁 斯琴 阿拉坦 苏和 朝鲁 娜仁 宝音 图雅 格日勒 孟和 敖登 哈斯 "
    "额日和 通拉嘎 乌兰 布和"
)


def numeral(n: int) -> str:
    """Chinese numeral for 1–99, as in 第十二网格.

    >>> numeral(3), numeral(10), numeral(12), numeral(40)
    ('三', '十', '十二', '四十')
    """
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if not tens:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def person_names(n: int, rng: np.random.Generator) -> np.ndarray:
    """n Han names (surname + one or two given characters), about 6% Mongolian names.

    >>> len(person_names(5, np.random.default_rng(1)))
    5
    """
    weights = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.8
    surname = rng.choice(SURNAMES, n, p=weights / weights.sum())
    first, second = rng.choice(GIVEN_CHARS, (2, n))
    given = np.where(rng.random(n) < 0.3, first, np.char.add(first, second))
    han = np.char.add(surname, given)
    return np.where(rng.random(n) < 0.06, rng.choice(MONGOLIAN_NAMES, n), han)
