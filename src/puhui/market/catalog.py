"""Fixed reference data of the market: industries, regions, seasonality, name vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Industry:
    group: str
    section: str
    divisions: tuple[str, ...]
    weight: float
    """Share among borrowers (market-facts.md section 7: wholesale/retail 35-40%,
    manufacturing 25-45%, construction 5-10%, services the rest)."""
    median_revenue_yuan: float
    revenue_per_employee_yuan: float
    micro_employees: int
    micro_revenue_yuan: float
    kwh_per_yuan: float
    health_offset: float
    b2b_share: float
    """Share of sales invoiced to other enterprises (retail and catering sell to consumers)."""
    season: str


INDUSTRIES: tuple[Industry, ...] = (
    Industry(
        "manufacturing",
        "C",
        ("C13", "C18", "C29", "C33", "C34", "C38", "C39"),
        0.33,
        2_400_000,
        350_000,
        20,
        3_000_000,
        0.09,
        0.0,
        0.95,
        "industrial",
    ),
    Industry(
        "wholesale",
        "F",
        ("F51",),
        0.15,
        3_000_000,
        900_000,
        5,
        10_000_000,
        0.008,
        0.0,
        0.85,
        "industrial",
    ),
    Industry(
        "retail",
        "F",
        ("F52",),
        0.22,
        700_000,
        250_000,
        10,
        1_000_000,
        0.02,
        -0.05,
        0.15,
        "consumer",
    ),
    Industry(
        "catering",
        "H",
        ("H62",),
        0.07,
        600_000,
        150_000,
        10,
        1_000_000,
        0.06,
        -0.2,
        0.05,
        "consumer",
    ),
    Industry(
        "accommodation",
        "H",
        ("H61",),
        0.02,
        900_000,
        200_000,
        10,
        1_000_000,
        0.07,
        -0.15,
        0.1,
        "consumer",
    ),
    Industry(
        "construction",
        "E",
        ("E47", "E48", "E50"),
        0.07,
        2_500_000,
        400_000,
        20,
        3_000_000,
        0.01,
        -0.15,
        0.95,
        "industrial",
    ),
    Industry(
        "transport",
        "G",
        ("G54",),
        0.04,
        1_300_000,
        300_000,
        20,
        2_000_000,
        0.02,
        -0.05,
        0.9,
        "industrial",
    ),
    Industry(
        "business_services",
        "L",
        ("L72",),
        0.05,
        800_000,
        250_000,
        10,
        1_000_000,
        0.01,
        0.0,
        0.9,
        "flat",
    ),
    Industry(
        "it_services", "I", ("I65",), 0.03, 700_000, 300_000, 10, 500_000, 0.01, 0.05, 0.95, "flat"
    ),
    Industry(
        "agriculture",
        "A",
        ("A01", "A03"),
        0.02,
        600_000,
        150_000,
        10,
        500_000,
        0.03,
        -0.05,
        0.7,
        "industrial",
    ),
)
INDUSTRY_GROUPS: tuple[str, ...] = tuple(i.group for i in INDUSTRIES)

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "manufacturing": ("机械", "电子", "五金", "塑料制品", "服装", "食品", "精密部件"),
    "wholesale": ("贸易", "商贸", "供应链", "批发"),
    "retail": ("便利店", "超市", "百货", "水果店", "五金店"),
    "catering": ("餐饮", "小吃", "火锅", "面馆"),
    "accommodation": ("酒店", "宾馆", "民宿"),
    "construction": ("建筑工程", "装饰工程", "安装工程"),
    "transport": ("物流", "运输", "货运"),
    "business_services": ("商务咨询", "企业管理", "广告"),
    "it_services": ("信息技术", "软件", "网络科技"),
    "agriculture": ("农业", "种植", "养殖"),
}


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    weight: float


# GB/T 2260 codes of prefecture-level cities; weights lean east (top five provinces hold
# about 44% of small/micro loans, CBRC 2013).
REGIONS: tuple[Region, ...] = (
    Region("330100", "杭州", 6),
    Region("330200", "宁波", 4),
    Region("330300", "温州", 4),
    Region("330700", "金华", 3),
    Region("320500", "苏州", 5),
    Region("320100", "南京", 3),
    Region("320200", "无锡", 3),
    Region("440300", "深圳", 5),
    Region("440100", "广州", 5),
    Region("441900", "东莞", 4),
    Region("440600", "佛山", 3),
    Region("370200", "青岛", 3),
    Region("370100", "济南", 2),
    Region("310115", "上海浦东", 4),
    Region("110105", "北京朝阳", 3),
    Region("510100", "成都", 4),
    Region("500112", "重庆渝北", 3),
    Region("420100", "武汉", 3),
    Region("430100", "长沙", 3),
    Region("350200", "厦门", 2),
    Region("410100", "郑州", 3),
    Region("340100", "合肥", 3),
    Region("610100", "西安", 2),
    Region("130100", "石家庄", 2),
    Region("210200", "大连", 2),
    Region("450100", "南宁", 2),
    Region("530100", "昆明", 2),
    Region("360100", "南昌", 2),
)

# Spring Festival (春节) month per year: the dominant seasonal shock.
SPRING_FESTIVAL_MONTH: dict[int, int] = {
    2015: 2,
    2016: 2,
    2017: 1,
    2018: 2,
    2019: 2,
    2020: 1,
    2021: 2,
    2022: 2,
    2023: 1,
    2024: 2,
    2025: 1,
    2026: 2,
    2027: 2,
    2028: 1,
    2029: 2,
    2030: 2,
    2031: 1,
    2032: 2,
    2033: 1,
    2034: 2,
    2035: 2,
    2036: 1,
    2037: 2,
    2038: 2,
    2039: 1,
    2040: 2,
}


# Multipliers by calendar month, then the Spring Festival overrides (festival month, month after).
_SEASON_BY_MONTH: dict[str, dict[int, float]] = {
    "industrial": {12: 1.15},
    "consumer": {7: 0.92, 8: 0.92, 9: 0.92, 10: 1.12, 11: 1.12, 12: 1.12},
}
_FESTIVAL: dict[str, tuple[float, float]] = {"industrial": (0.65, 1.1), "consumer": (1.3, 0.8)}


def season_factor(kind: str, year: int, month: int) -> float:
    """Monthly revenue multiplier (market-facts.md 2.4).

    Industrial: the Spring Festival month about 0.65, the month after about 1.1, December 1.15.
    Consumer: the festival month about 1.3, the month after 0.8, Q4 1.1-1.15, Q3 0.92.
    """
    cny = SPRING_FESTIVAL_MONTH.get(year, 2)
    festival, after = _FESTIVAL.get(kind, (1.0, 1.0))
    if month == cny:
        return festival
    if month == cny + 1:
        return after
    return _SEASON_BY_MONTH.get(kind, {}).get(month, 1.0)


def season_matrix(months: list[tuple[int, int]]) -> npt.NDArray[np.float64]:
    """(industry, month) multipliers, normalised so each calendar year averages about one."""
    raw = np.array(
        [[season_factor(ind.season, y, m) for (y, m) in months] for ind in INDUSTRIES],
        dtype=np.float64,
    )
    # Normalise by the 12-month mean of a typical year so that annual revenue is unchanged.
    typical = np.array(
        [[season_factor(ind.season, 2023, m) for m in range(1, 13)] for ind in INDUSTRIES]
    ).mean(axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = raw / typical
    return out


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN_CHARS = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力宇鑫浩峰凯琳晨雪梅"
BRAND_CHARS = "鑫盛华利达兴隆源泰恒丰瑞祥宏德福顺安正信昌发龙腾嘉和金通汇博创佳永新宝"
ROADS = (
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "工业路",
    "新华路",
    "滨江路",
    "创业路",
    "商贸街",
    "文化路",
)
PARK_SUFFIXES = (
    "经济开发区",
    "高新区",
    "工业园",
    "商贸城",
    "科技园",
    "物流园",
    "小微企业园",
    "步行街商圈",
)
EDUCATION = ("primary", "junior_high", "senior_high", "college", "bachelor", "postgraduate")
EDUCATION_WEIGHTS = (0.08, 0.3, 0.27, 0.18, 0.14, 0.03)
