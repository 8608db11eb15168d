"""One chunk of enterprise slots simulated month by month into every table of the market."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import schema
from puhui.market.catalog import (
    BRAND_CHARS,
    EDUCATION,
    EDUCATION_WEIGHTS,
    GIVEN_CHARS,
    INDUSTRIES,
    INDUSTRY_WORDS,
    PARK_SUFFIXES,
    REGIONS,
    ROADS,
    SPRING_FESTIVAL_MONTH,
    SURNAMES,
    season_matrix,
)
from puhui.market.hashing import Streams
from puhui.market.identifiers import hex_ids, id_numbers, mobile_numbers, uscc_codes
from puhui.market.params import MarketParams
from puhui.market.population import (
    CORE_OFFSET,
    CORE_STRIDE,
    NO_MONTH,
    circle_member_slot,
    org_numbers,
    ring_member_slots,
    statics,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

BURN_IN_MONTHS = 12
"""Months simulated before the start so the first observed months are in steady state."""

# Default hazard of the pre-default decline ("distress onset"): monthly logit a + b * health.
# Calibrated so the annual default rate of the baseline sits in 2-3.5% (market-facts.md s7).
HAZARD_INTERCEPT = -6.9
HAZARD_SLOPE = -1.25
DISTRESS_DROP = 2.5
"""How far latent health falls over the lead months between onset and default."""
CLOSE_AFTER_DEFAULT = 2
"""An enterprise keeps filing for this many months after its default month, then closes."""
N_INTERMEDIARY_AGENTS_PER = 5_000
IP_FIRST_OCTETS = np.array(
    [
        36,
        39,
        42,
        58,
        60,
        101,
        106,
        111,
        112,
        113,
        114,
        115,
        116,
        117,
        118,
        119,
        120,
        121,
        122,
        123,
        124,
        125,
        180,
        182,
        183,
        202,
        218,
        219,
        220,
        221,
        222,
        223,
    ],
    dtype=np.int64,
)
"""First octets of mainland ISP address blocks."""
PROVINCE_ABBR = {
    "11": "京",
    "13": "冀",
    "21": "辽",
    "31": "沪",
    "32": "苏",
    "33": "浙",
    "34": "皖",
    "35": "闽",
    "36": "赣",
    "37": "鲁",
    "41": "豫",
    "42": "鄂",
    "43": "湘",
    "44": "粤",
    "45": "桂",
    "50": "渝",
    "51": "川",
    "53": "滇",
    "61": "陕",
}


class Ev:
    """Stream ids of monthly draws (never renumber)."""

    EPS = 101
    X0 = 102
    MACRO = 103
    INDUSTRY = 104
    REGION = 105
    CIRCLE = 106
    ONSET = 107
    REV = 110
    LATE = 111
    MISSED = 112
    UNPAID = 113
    CLEAR = 114
    GRADE = 115
    KWH = 116
    WATER = 117
    UTIL_LATE = 118
    INFLOW = 119
    MARGIN = 120
    RELATED = 121
    BAL0 = 122
    CPTY = 123
    LOANS = 124
    OVERDUE = 125
    DPD = 126
    ENQ = 127
    NEED = 130
    NEED_AMT = 131
    NEED_DUR = 132
    APPLY = 133
    CHANNEL = 134
    REQ = 135
    DAY = 136
    DEVICE = 137
    IP = 138
    APP_ID = 139
    SHELL_SECOND = 140
    APPROVE = 141
    LOAN_SHARE = 142
    RATE = 143
    TECH_DPD = 144
    LOAN_ID = 145
    CASE = 150
    CASE_ROLE = 151
    CASE_TYPE = 152
    CASE_AMT = 153
    CASE_LAG = 154
    CASE_NO = 155
    CASE_DAY = 156
    INV_K = 160
    INV_CORE = 161
    INV_BUYER = 162
    INV_W = 163
    INV_AMT = 164
    INV_SIZE = 165
    INV_VOID = 166
    INV_RED = 167
    INV_B2B = 168
    GUAR = 170
    GUAR_START = 171
    OWNER = 180
    NAME = 190


def sigmoid(x: F64) -> F64:
    out: F64 = 1.0 / (1.0 + np.exp(-x))
    return out


@dataclass(frozen=True)
class Calendar:
    """The simulated months: index k = 0..T-1 is month ``k - BURN_IN_MONTHS``."""

    params: MarketParams

    @property
    def months(self) -> I64:
        return np.arange(-BURN_IN_MONTHS, self.params.months, dtype=np.int64)

    def year_month(self, t: int) -> tuple[int, int]:
        d = self.params.month_date(t)
        return d.year, d.month

    def days(self, t: I64) -> I64:
        """Days since 1970-01-01 of the first day of each month offset."""
        base = np.datetime64(self.params.start.strftime("%Y-%m"), "M")
        out: I64 = (base + t.astype("timedelta64[M]")).astype("datetime64[D]").astype(np.int64)
        return out


def date_series(name: str, days: I64) -> pl.Series:
    return pl.Series(name, np.asarray(days, dtype=np.int32)).cast(pl.Date)


def common_factors(params: MarketParams) -> tuple[F64, F64, F64]:
    """Macro, industry and region factors over the whole calendar: seed and month only."""
    s = Streams(params.seed)
    tt = Calendar(params).months
    n_t = len(tt)
    macro_eps = s.normal(Ev.MACRO, 0, tt)
    ind_eps = s.normal(Ev.INDUSTRY, np.arange(len(INDUSTRIES))[:, None], tt[None, :])
    reg_eps = s.normal(Ev.REGION, np.arange(len(REGIONS))[:, None], tt[None, :])
    macro = np.zeros(n_t)
    ind = np.zeros((len(INDUSTRIES), n_t))
    reg = np.zeros((len(REGIONS), n_t))
    m, i_, r_ = 0.0, np.zeros(len(INDUSTRIES)), np.zeros(len(REGIONS))
    for k in range(n_t):
        m = 0.85 * m + 0.08 * macro_eps[k]
        i_ = 0.85 * i_ + 0.08 * ind_eps[:, k]
        r_ = 0.85 * r_ + 0.05 * reg_eps[:, k]
        macro[k], ind[:, k], reg[:, k] = m, i_, r_
    if params.profile == "downturn":
        # A recession: the macro factor slides from month 6 to month 12, stays down until
        # month 24 and recovers by month 30; industrial groups are hit harder.
        shock = np.interp(tt, [5, 12, 24, 30], [0.0, -0.9, -0.9, 0.0])
        macro = macro + shock
        for j, industry in enumerate(INDUSTRIES):
            if industry.season == "industrial":
                ind[j] = ind[j] + 0.35 * shock
    return macro, ind, reg


def _concat(parts: list[pl.Series], separator: str = "") -> pl.Series:
    return pl.select(pl.concat_str(parts, separator=separator)).to_series()


def _masked(values: pl.Series | npt.NDArray[np.generic], keep: BOOL, name: str = "") -> pl.Series:
    """``values`` where ``keep``, null elsewhere."""
    series = values if isinstance(values, pl.Series) else pl.Series(values)
    frame = pl.DataFrame({"v": series, "k": np.asarray(keep, dtype=bool)})
    return frame.select(pl.when(pl.col("k")).then(pl.col("v")).alias(name)).to_series()


def _gather(values: list[str] | tuple[str, ...] | str, index: I64) -> pl.Series:
    return pl.Series(list(values)).gather(np.asarray(index, dtype=np.int64))


@dataclass
class Owners:
    id_number: pl.Series
    frame: pl.DataFrame


def owner_rows(
    params: MarketParams, owner_slot: I64, represented: I64, phone_override: pl.Series | None
) -> Owners:
    """Legal representatives: identity, age, schooling, experience; unique ID numbers."""
    s = Streams(params.seed)
    # Unique ID numbers by construction: within a block of 365,000 owners, the slot decides
    # the (birth day-of-year, sequence) pair and the block shifts the region of birth.
    inner, block = owner_slot % 365_000, owner_slot // 365_000
    region_idx = (s.integers(Ev.OWNER, 0, len(REGIONS), inner) + block) % len(REGIONS)
    region_code = np.array([int(r.code) for r in REGIONS])[region_idx]
    age = np.clip(np.round(42 + 9 * s.normal(Ev.OWNER + 1, owner_slot)), 23, 68).astype(np.int64)
    birth_year = params.start.year - age - 1
    doy = inner // 1000
    seq = inner % 1000
    birth = np.array([f"{y}-01-01" for y in birth_year], dtype="datetime64[D]") + doy.astype(
        "timedelta64[D]"
    )
    ymd = birth.astype(object)
    birth_ymd = np.array([d.year * 10000 + d.month * 100 + d.day for d in ymd], dtype=np.int64)
    age_years = np.array(
        [params.start.year - d.year - ((params.start.month, 1) < (d.month, d.day)) for d in ymd],
        dtype=np.int32,
    )
    ids = id_numbers(region_code, birth_ymd, seq)
    surname = s.integers(Ev.OWNER + 2, 0, len(SURNAMES), owner_slot)
    g1 = s.integers(Ev.OWNER + 3, 0, len(GIVEN_CHARS), owner_slot)
    g2 = s.integers(Ev.OWNER + 4, 0, len(GIVEN_CHARS), owner_slot)
    two = s.uniform(Ev.OWNER + 5, owner_slot) < 0.6
    name = _concat(
        [
            _gather(SURNAMES, surname),
            _gather(GIVEN_CHARS, g1),
            pl.Series(np.where(two, np.array(list(GIVEN_CHARS))[g2], "")),
        ]
    )
    education = s.choice(Ev.OWNER + 6, EDUCATION_WEIGHTS, owner_slot)
    years = np.clip(np.round((age - 20) * s.uniform(Ev.OWNER + 7, owner_slot)), 0, age - 18).astype(
        np.int32
    )
    phone = mobile_numbers(s.bits(Ev.OWNER + 8, owner_slot), "phone")
    if phone_override is not None:
        phone = pl.Series(
            "phone",
            np.where(
                phone_override.is_null().to_numpy(),
                phone.to_numpy(),
                phone_override.fill_null("").to_numpy(),
            ),
        )
    frame = pl.DataFrame(
        {
            "id_number": ids,
            "name": name,
            "gender": np.where(seq % 2 == 1, "M", "F"),
            "birth_date": date_series("birth_date", birth.astype(np.int64)),
            "age_years": age_years,
            "education": _gather(EDUCATION, education),
            "years_in_trade": years,
            "phone": phone,
            "enterprises_represented": represented.astype(np.int32),
        },
        schema=schema.OWNERS.polars_schema(),
    )
    return Owners(ids, frame)


def simulate_chunk(params: MarketParams, lo: int, hi: int) -> dict[str, pl.DataFrame]:
    """Every table's rows for enterprise slots [lo, hi). Pure: same inputs, same rows."""
    return _Chunk(params, lo, hi).run()


class _Chunk:
    def __init__(self, params: MarketParams, lo: int, hi: int) -> None:
        self.p = params
        self.s = Streams(params.seed)
        self.N = params.enterprises
        self.slot = np.arange(lo, hi, dtype=np.int64)
        self.st = statics(params.seed, self.N, self.slot)
        self.cal = Calendar(params)
        self.M = params.months
        self.lo = lo

    # ---------------------------------------------------------------- latent dynamics
    def _health(self) -> F64:
        """Latent health over the calendar (burn-in included), before any distress decline."""
        st, s, slot = self.st, self.s, self.slot
        tt = self.cal.months
        n, n_t = len(slot), len(tt)
        macro, ind, reg = common_factors(self.p)
        self.macro, self.ind, self.reg = macro, ind, reg
        common = macro[None, :] + ind[st.industry] + reg[st.region]
        # Guarantee circles (互保圈) share a factor: their members fall together.
        circle = np.zeros((n, n_t))
        members = st.circle_gid >= 0
        if members.any():
            ce = s.normal(Ev.CIRCLE, st.circle_gid[members][:, None], tt[None, :])
            c = np.zeros(members.sum())
            for k in range(n_t):
                c = 0.85 * c + 0.2 * ce[:, k]
                circle[members, k] = c
        eps = s.normal(Ev.EPS, slot[:, None], tt[None, :])
        x = 0.5 * s.normal(Ev.X0, slot)
        h = np.empty((n, n_t))
        for k in range(n_t):
            x = 0.9 * x + 0.22 * eps[:, k]
            h[:, k] = st.base_health + x + common[:, k] + 0.5 * circle[:, k]
        return h

    def _latent(self) -> None:
        st, s, slot = self.st, self.s, self.slot
        n_months = self.M
        tt = self.cal.months
        n_t = len(tt)
        h = self._health()
        lam = sigmoid(HAZARD_INTERCEPT + HAZARD_SLOPE * h)
        allowed = (tt[None, :] >= -st.lead_months[:, None]) & (tt[None, :] >= st.reg_month[:, None])
        hit = (s.uniform(Ev.ONSET, slot[:, None], tt[None, :]) < lam) & allowed
        hit &= ~st.is_shell[:, None]
        any_hit = hit.any(axis=1)
        onset = np.where(any_hit, tt[np.argmax(hit, axis=1)], NO_MONTH)
        lead = np.where(st.is_shell, st.default_lag, st.lead_months)
        onset = np.where(st.is_shell, st.attack_month, onset)
        default = np.where(onset < NO_MONTH, onset + lead, NO_MONTH)
        close = np.where(default < NO_MONTH, default + CLOSE_AFTER_DEFAULT, NO_MONTH)
        in_dist = (tt[None, :] >= onset[:, None]) & (tt[None, :] < default[:, None])
        post = tt[None, :] >= default[:, None]
        decline = np.where(
            in_dist,
            DISTRESS_DROP * (tt[None, :] - onset[:, None] + 1) / np.maximum(lead, 1)[:, None],
            np.where(post, DISTRESS_DROP + 1.0, 0.0),
        )
        h_eff = np.where(st.is_shell[:, None], -2.0, h - decline)
        lam_now = sigmoid(HAZARD_INTERCEPT + HAZARD_SLOPE * h)
        pd = 1.0 - (1.0 - lam_now) ** np.maximum(13 - lead, 1)[:, None]
        soon = default[:, None] <= tt[None, :] + 12
        pd = np.where(in_dist | post, np.where(soon, 1.0, pd), pd)
        pd = np.where(st.is_shell[:, None], np.where(soon, 1.0, 0.05), pd)

        self.tt, self.T = tt, n_t
        self.onset, self.default, self.close, self.lead = onset, default, close, lead
        self.h_full = h_eff
        w = slice(BURN_IN_MONTHS, n_t)
        self.t = np.arange(n_months, dtype=np.int64)
        self.h = h_eff[:, w]
        self.dist = in_dist[:, w]
        self.post = post[:, w]
        self.pd = pd[:, w]
        self.alive = (self.t[None, :] >= st.reg_month[:, None]) & (
            self.t[None, :] <= close[:, None]
        )
        self.registered = st.reg_month <= n_months - 1
        self.month_days = self.cal.days(self.t)

    def run(self) -> dict[str, pl.DataFrame]:
        self._latent()
        self._identity()
        self._activity()
        out: dict[str, pl.DataFrame] = {}
        out["enterprises"] = self._enterprises()
        out["owners"] = self._owners()
        out["tax_monthly"] = self._tax()
        out["utilities_monthly"] = self._utilities()
        out["settlement_monthly"] = self._settlement()
        out["bureau"] = self._bureau()
        need, need_truth = self._needs()
        out["need_events"] = need_truth
        apps, apps_truth, app_meta = self._applications(need)
        out["applications"] = apps
        out["applications_truth"] = apps_truth
        out["loan_history"] = self._loans(app_meta)
        rows_i, rows_t = self._bureau_rows
        out["bureau"] = out["bureau"].with_columns(
            hard_enquiries=pl.Series(self.enquiries[rows_i, rows_t].astype(np.int32))
        )
        out["court_cases"] = self._court()
        out["invoices"] = self._invoices()
        out["guarantees"] = self._guarantees()
        out["enterprises_truth"] = self._enterprise_truth()
        out["monthly_truth"] = self._monthly_truth()
        out["macro"] = self._macro() if self.lo == 0 else _empty(schema.TRUTH_MACRO)
        for name, frame in out.items():
            out[name] = frame.select(schema.TABLES[name].column_names).cast(
                schema.TABLES[name].polars_schema()  # type: ignore[arg-type]
            )
        return out

    # ---------------------------------------------------------------- identity
    def _identity(self) -> None:
        st, s, slot, p = self.st, self.s, self.slot, self.p
        region_code = np.array([int(r.code) for r in REGIONS])[st.region]
        self.uscc = uscc_codes(region_code, st.is_company, org_numbers(p.seed, slot))
        n_reps = 1 + (s.uniform(Ev.OWNER + 20, st.ring_gid) < 0.5).astype(np.int64)
        self.rep_slot = np.where(
            st.is_shell, self.N + st.ring_gid * 2 + st.ring_pos % n_reps, st.owner_slot
        )
        self.n_reps = n_reps
        self.ring_phone = mobile_numbers(s.bits(Ev.OWNER + 21, st.ring_gid), "ring_phone")

    def _uscc_of(self, slots: I64) -> pl.Series:
        other = statics(self.p.seed, self.N, slots)
        region_code = np.array([int(r.code) for r in REGIONS])[other.region]
        return uscc_codes(region_code, other.is_company, org_numbers(self.p.seed, slots))

    def _rep_ids(self, rep_slots: I64) -> pl.Series:
        """ID numbers of legal representatives (ring fronts live past the slot range)."""
        uniq, inv = np.unique(rep_slots, return_inverse=True)
        ids = owner_rows(self.p, uniq, np.ones(len(uniq), dtype=np.int64), None).id_number
        return ids.gather(inv)

    # ---------------------------------------------------------------- monthly activity
    def _activity(self) -> None:
        st, s, slot, t = self.st, self.s, self.slot, self.t
        ind_season = season_matrix([self.cal.year_month(int(k)) for k in self.t])
        sea = ind_season[st.industry]
        self.season = sea
        mu = st.base_health[:, None]
        act = np.exp(0.3 * (self.h - mu))
        self.act = act
        trend = np.exp(st.growth[:, None] * t[None, :] / 12.0)
        noise = np.exp(0.12 * s.normal(Ev.REV, slot[:, None], t[None, :]) - 0.0072)
        rev = st.revenue_yuan[:, None] / 12.0 * sea * act * trend * noise
        rev = np.where(self.post, 0.3 * rev, rev)
        shell_active = (t[None, :] > st.reg_month[:, None]) & (
            t[None, :] <= st.attack_month[:, None] + 1
        )
        shell_rev = st.ring_amount_yuan[:, None] * (
            1.0 + 0.05 * s.normal(Ev.REV + 1, slot[:, None], t[None, :])
        )
        rev = np.where(st.is_shell[:, None], np.where(shell_active, shell_rev, 0.0), rev)
        self.rev = np.where(self.alive, rev, 0.0)
        self.shell_active = shell_active & st.is_shell[:, None]
        self.shell_gone = st.is_shell[:, None] & (t[None, :] > st.attack_month[:, None] + 1)

    def _monthly_keys(self) -> tuple[I64, I64, pl.Series, pl.Series]:
        rows_i, rows_t = np.nonzero(self.alive)
        return (
            rows_i,
            rows_t,
            self.uscc.gather(rows_i).alias("uscc"),
            date_series("month", self.month_days[rows_t]),
        )

    def _u(self, stream: int) -> F64:
        return self.s.uniform(stream, self.slot[:, None], self.t[None, :])

    # ---------------------------------------------------------------- tables
    def _enterprises(self) -> pl.DataFrame:
        st, s, slot = self.st, self.s, self.slot
        keep = self.registered
        ind_groups = np.array([i.group for i in INDUSTRIES])[st.industry]
        divisions = np.array(
            [INDUSTRIES[i].divisions[d] for i, d in zip(st.industry, st.division, strict=True)]
        )
        city = np.array([r.name for r in REGIONS])[st.region]
        brand1 = s.integers(Ev.NAME, 0, len(BRAND_CHARS), np.where(st.is_shell, st.ring_gid, slot))
        brand2 = s.integers(Ev.NAME + 1, 0, len(BRAND_CHARS), slot)
        words = np.array(
            [
                INDUSTRY_WORDS[g][k % len(INDUSTRY_WORDS[g])]
                for g, k in zip(ind_groups, s.integers(Ev.NAME + 2, 0, 1000, slot), strict=True)
            ]
        )
        chars = np.array(list(BRAND_CHARS))
        suffix = np.where(
            st.is_company,
            "有限公司",
            np.where(np.isin(ind_groups, ["retail", "catering", "accommodation"]), "店", "经营部"),
        )
        name = np.char.add(
            np.char.add(np.char.add(np.char.add(city, chars[brand1]), chars[brand2]), words),
            suffix,
        )
        road = np.array(ROADS)[s.integers(Ev.NAME + 3, 0, len(ROADS), slot)]
        number = s.integers(Ev.NAME + 4, 1, 999, slot)
        ring_road = np.array(ROADS)[s.integers(Ev.NAME + 3, 0, len(ROADS), st.ring_gid)]
        ring_no = s.integers(Ev.NAME + 4, 1, 999, st.ring_gid)
        ring_room = 1001 + (st.ring_pos % 2) * 100
        address = np.where(
            st.is_shell,
            np.char.add(
                np.char.add(np.char.add(city, ring_road), ring_no.astype(str)),
                np.char.add(np.char.add("号", ring_room.astype(str)), "室"),
            ),
            np.char.add(np.char.add(np.char.add(city, road), number.astype(str)), "号"),
        )
        in_park = s.uniform(Ev.NAME + 5, slot) < np.where(st.is_shell, 0.9, 0.5)
        park_idx = s.integers(
            Ev.NAME + 6, 0, len(PARK_SUFFIXES), np.where(st.is_shell, st.ring_gid, slot)
        )
        park = np.char.add(city, np.array(PARK_SUFFIXES)[park_idx])
        own_phone = mobile_numbers(s.bits(Ev.OWNER + 8, self.rep_slot), "p").to_numpy()
        biz_phone = mobile_numbers(s.bits(Ev.NAME + 7, slot), "p").to_numpy()
        phone = np.where(st.is_company, biz_phone, own_phone)
        phone = np.where(st.is_shell, self.ring_phone.to_numpy(), phone)
        account = (
            pl.Series((s.bits(Ev.NAME + 8, slot) >> np.uint64(4)).astype(np.int64) % 10**15)
            .cast(pl.String)
            .str.zfill(15)
        )
        micro_emp = np.array([i.micro_employees for i in INDUSTRIES])[st.industry]
        micro_rev = np.array([i.micro_revenue_yuan for i in INDUSTRIES])[st.industry]
        micro = (st.employees < micro_emp) | (st.revenue_yuan < micro_rev)
        size_band = np.where(
            micro, "micro", np.where(st.revenue_yuan > 40_000_000, "medium", "small")
        )
        reg_days = self.cal.days(st.reg_month) + s.integers(Ev.NAME + 9, 0, 28, slot)
        frame = pl.DataFrame(
            {
                "uscc": self.uscc,
                "name": name,
                "legal_form": np.where(st.is_company, "company", "individual_business"),
                "industry_code": divisions,
                "industry_section": np.array([i.section for i in INDUSTRIES])[st.industry],
                "industry_group": ind_groups,
                "region_code": np.array([r.code for r in REGIONS])[st.region],
                "registration_date": date_series("registration_date", reg_days),
                "registered_capital_fen": np.round(st.capital_yuan * 100).astype(np.int64),
                "taxpayer_type": np.where(st.is_general, "general", "small_scale"),
                "employees": st.employees.astype(np.int32),
                "size_band": size_band,
                "park": _masked(park, in_park),
                "phone": phone,
                "address": address,
                "settlement_account": "6217" + account,
                "legal_rep_id_number": self._rep_ids(self.rep_slot),
            }
        )
        return frame.filter(pl.Series(keep))

    def _owners(self) -> pl.DataFrame:
        st = self.st
        own = ~st.is_shell & self.registered & (st.owner_slot == self.slot)
        nxt = np.minimum(self.slot + 1, self.N - 1)
        second = (statics(self.p.seed, self.N, nxt).owner_slot == self.slot) & (nxt != self.slot)
        regular = owner_rows(self.p, self.slot[own], 1 + second[own].astype(np.int64), None).frame
        # Ring fronts: emitted by the chunk holding the ring's lowest slot, once registered.
        firsts = []
        for gid in np.unique(st.ring_gid[st.is_shell & self.registered]):
            members = ring_member_slots(self.p.seed, self.N, int(gid))
            if members.min() >= self.slot[0] and members.min() <= self.slot[-1]:
                firsts.append(int(gid))
        if not firsts:
            return regular
        gids = np.array(firsts, dtype=np.int64)
        n_reps = 1 + (self.s.uniform(Ev.OWNER + 20, gids) < 0.5).astype(np.int64)
        rep_gid = np.repeat(gids, n_reps)
        rep_no = np.concatenate([np.arange(k) for k in n_reps])
        ring_slots = [ring_member_slots(self.p.seed, self.N, int(g)) for g in rep_gid]
        sizes = np.array([len(m) for m in ring_slots])
        k_reps = np.repeat(n_reps, n_reps)
        represented = (sizes - rep_no + k_reps - 1) // k_reps
        phones = mobile_numbers(self.s.bits(Ev.OWNER + 21, rep_gid), "phone")
        rings = owner_rows(self.p, self.N + rep_gid * 2 + rep_no, represented, phones).frame
        # Order: a ring's fronts follow the owner of the slot just before its first member,
        # so the row order does not depend on where chunks are cut.
        position = np.concatenate(
            [self.slot[own] * 4, np.array([m.min() for m in ring_slots]) * 4 + 1 + rep_no]
        )
        both = pl.concat([regular, rings])
        return both[np.argsort(position, kind="stable")]

    def _tax(self) -> pl.DataFrame:
        st = self.st
        h, dist, post = self.h, self.dist, self.post
        late = self._u(Ev.LATE) < sigmoid(-4.2 - 0.8 * h + 2.2 * dist + 3.0 * post)
        late = np.where(st.is_shell[:, None], self.shell_gone, late)
        missed = late & (self._u(Ev.MISSED) < 0.4)
        declared = np.where(missed, 0, np.round(self.rev * st.report_ratio[:, None] * 100))
        declared = declared.astype(np.int64)
        small = ~st.is_general[:, None]
        exempt = small & (declared <= 10_000_000)
        vat = np.where(
            small,
            np.where(exempt, 0, np.round(declared * 0.01)),
            np.round(declared * 0.13 * st.va_share[:, None]),
        ).astype(np.int64)
        unpaid = self._u(Ev.UNPAID) < sigmoid(-5.0 - 0.8 * h + 2.5 * dist + 4.0 * post)
        clear = self._u(Ev.CLEAR) < 0.5
        arrears = np.zeros_like(declared)
        prev = np.zeros(len(self.slot), dtype=np.int64)
        for k in range(self.M):
            prev = np.where(unpaid[:, k], prev + vat[:, k], np.where(clear[:, k], 0, prev))
            arrears[:, k] = prev
        self.late_filing, self.declared = late, declared
        grade = self._grades()
        self.grade = grade
        rows_i, rows_t, uscc, month = self._monthly_keys()
        return pl.DataFrame(
            {
                "uscc": uscc,
                "month": month,
                "declared_sales_fen": declared[rows_i, rows_t],
                "vat_payable_fen": vat[rows_i, rows_t],
                "vat_exempt": exempt[rows_i, rows_t],
                "late_filing": late[rows_i, rows_t],
                "arrears_fen": arrears[rows_i, rows_t],
                "tax_credit_grade": _gather("ABMCD", grade[rows_i, rows_t]),
            }
        )

    def _grades(self) -> I64:
        """Annual tax credit grade (0..4 = A, B, M, C, D) from health at the previous December."""
        st = self.st
        years = np.array([self.cal.year_month(int(k))[0] for k in self.t])
        months = np.array([self.cal.year_month(int(k))[1] for k in self.t])
        dec_prev = self.t - months  # month offset of December of the previous year
        jan = self.t - months + 1
        idx = np.clip(dec_prev + BURN_IN_MONTHS, 0, self.T - 1)
        score = self.h_full[:, idx] + 0.3 * self.s.normal(
            Ev.GRADE, self.slot[:, None], years[None, :]
        )
        grade = np.select([score > 0.9, score > -0.7, score > -1.7], [0, 1, 3], default=4)
        young = (jan[None, :] - st.reg_month[:, None]) < 12
        out: I64 = np.where(young, 2, grade).astype(np.int64)
        return out

    def _utilities(self) -> pl.DataFrame:
        st, slot, t = self.st, self.slot, self.t
        kwh_rate = np.array([i.kwh_per_yuan for i in INDUSTRIES])[st.industry]
        trend = np.exp(st.growth[:, None] * t[None, :] / 12.0)
        kwh = (
            st.revenue_yuan[:, None]
            / 12.0
            * kwh_rate[:, None]
            * np.sqrt(self.season)
            * self.act**1.3
            * trend
            * np.exp(0.08 * self.s.normal(Ev.KWH, slot[:, None], t[None, :]))
        )
        kwh = np.where(self.post, 0.25 * kwh, kwh)
        kwh = np.where(st.is_shell[:, None], 80 + 200 * self._u(Ev.KWH + 1), kwh)
        water_ratio = 0.003 + 0.01 * self.s.uniform(Ev.WATER, slot)
        water = (
            kwh
            * water_ratio[:, None]
            * np.exp(0.1 * self.s.normal(Ev.WATER, slot[:, None], t[None, :]))
        )
        late = self._u(Ev.UTIL_LATE) < sigmoid(
            -4.0 - 0.7 * self.h + 2.0 * self.dist + 3.0 * self.post
        )
        self.kwh = np.round(kwh).astype(np.int64)
        rows_i, rows_t, uscc, month = self._monthly_keys()
        return pl.DataFrame(
            {
                "uscc": uscc,
                "month": month,
                "electricity_kwh": self.kwh[rows_i, rows_t],
                "water_tonnes": np.round(water).astype(np.int64)[rows_i, rows_t],
                "late_payment": late[rows_i, rows_t],
            }
        )

    def _settlement(self) -> pl.DataFrame:
        st, slot, t, s = self.st, self.slot, self.t, self.s
        n = len(slot)
        inflow = (
            self.rev
            * st.settle_share[:, None]
            * np.exp(0.05 * s.normal(Ev.INFLOW, slot[:, None], t[None, :]))
        )
        margin = (
            0.05
            + 0.04 * (self.h - st.base_health[:, None])
            + 0.03 * s.normal(Ev.MARGIN, slot[:, None], t[None, :])
            - 0.08 * self.dist
        )
        outflow = inflow * (1.0 - margin)
        related = np.where(
            self._u(Ev.RELATED) < np.where(self.dist, 0.3, 0.05),
            inflow * np.where(self.dist, 0.3, 0.1),
            0.0,
        )
        # Packaging (养流水): money cycled through the account in the four months before the
        # application, so turnover looks two to three times bigger than the business.
        pm = st.packaged_month[:, None]
        pumping = (t[None, :] >= pm - 4) & (t[None, :] < pm) & self.alive
        pumped = 2.5 * st.revenue_yuan[:, None] / 12.0 * st.settle_share[:, None]
        inflow = np.where(pumping, inflow + pumped, inflow)
        outflow = np.where(pumping, outflow + 0.98 * pumped, outflow)
        related = np.where(pumping, related + 0.8 * pumped, related)
        shell = st.is_shell[:, None]
        inflow = np.where(shell, self.rev, inflow)
        outflow = np.where(shell, 0.99 * self.rev, outflow)
        related = np.where(shell, 0.9 * self.rev, related)
        inflow_f = np.round(inflow * 100).astype(np.int64)
        outflow_f = np.round(outflow * 100).astype(np.int64)
        balance = np.zeros((n, self.M), dtype=np.int64)
        b = np.round(st.revenue_yuan / 12.0 * (0.3 + 1.2 * s.uniform(Ev.BAL0, slot)) * 100)
        b = np.where(st.is_shell, 1_000_000, b).astype(np.int64)
        for k in range(self.M):
            # After default the owner drains the account: outflows take half the balance.
            drain = np.where(self.post[:, k], b // 2, 0)
            outflow_f[:, k] = np.where(self.post[:, k], inflow_f[:, k] + drain, outflow_f[:, k])
            b = np.maximum(0, b + inflow_f[:, k] - outflow_f[:, k])
            outflow_f[:, k] = np.minimum(outflow_f[:, k], b + outflow_f[:, k])
            balance[:, k] = b
        self.balance = balance
        surplus = np.maximum(0, inflow_f - outflow_f)
        cash = np.where(
            self.post | self.shell_gone | ~self.alive, 0, balance // 2 + surplus
        ).astype(np.int64)
        self.cash = cash
        self.inflow = inflow_f
        lam = np.where(self.rev > 0, 2.0 + 3.0 * np.log1p(self.rev / 50_000.0), 0.0)
        cpty = s.poisson(Ev.CPTY, np.minimum(lam, 25.0), slot[:, None], t[None, :])
        rows_i, rows_t, uscc, month = self._monthly_keys()
        return pl.DataFrame(
            {
                "uscc": uscc,
                "month": month,
                "inflow_fen": inflow_f[rows_i, rows_t],
                "outflow_fen": outflow_f[rows_i, rows_t],
                "balance_fen": balance[rows_i, rows_t],
                "counterparties": cpty[rows_i, rows_t].astype(np.int32),
                "related_party_transfer_fen": np.round(related * 100).astype(np.int64)[
                    rows_i, rows_t
                ],
            }
        )

    def _bureau(self) -> pl.DataFrame:
        st, slot, t, s = self.st, self.slot, self.t, self.s
        pm = st.packaged_month[:, None]
        packaging = (t[None, :] >= pm - 3) & (t[None, :] <= pm + 6)
        loans = (
            st.loans_base[:, None]
            + (self.dist & (self._u(Ev.LOANS) < 0.6)).astype(np.int64)
            + packaging.astype(np.int64)
        )
        balance = loans * np.round(
            st.revenue_yuan[:, None]
            * 0.12
            * np.exp(0.1 * s.normal(Ev.LOANS, slot[:, None], t[None, :])),
            -3,
        )
        since_onset = t[None, :] - self.onset[:, None] + 1
        ramp = since_onset / np.maximum(self.lead, 1)[:, None]
        u = self._u(Ev.OVERDUE)
        overdue_d = self.dist & (u < 0.8 * ramp)
        overdue_n = ~self.dist & ~self.post & (u < sigmoid(-5.5 - 1.0 * self.h))
        overdue = np.where(
            self.post, np.maximum(loans, 1), (overdue_d | overdue_n).astype(np.int64)
        )
        loans = np.maximum(loans, overdue)
        du = self._u(Ev.DPD)
        dpd = np.where(
            self.post,
            30 * (t[None, :] - self.default[:, None] + 1),
            np.where(
                overdue_d, 1 + np.floor(29 * du), np.where(overdue_n, 1 + np.floor(20 * du), 0)
            ),
        ).astype(np.int64)
        self.overdue = overdue
        shell_attack = (
            st.is_shell[:, None]
            & (t[None, :] >= st.attack_month[:, None] - 1)
            & (t[None, :] <= st.attack_month[:, None] + 1)
        )
        pack_window = (t[None, :] >= pm - 2) & (t[None, :] <= pm)
        enq_lam = 0.08 + 0.5 * self.dist + 2.5 * pack_window + 3.0 * shell_attack
        self.enq_lam = enq_lam
        rows_i, rows_t, uscc, month = self._monthly_keys()
        self._bureau_rows = (rows_i, rows_t)
        return pl.DataFrame(
            {
                "uscc": uscc,
                "month": month,
                "other_lender_loans": loans[rows_i, rows_t].astype(np.int32),
                "other_lender_balance_fen": (balance * 100).astype(np.int64)[rows_i, rows_t],
                "overdue_loans": overdue[rows_i, rows_t].astype(np.int32),
                "max_days_past_due": dpd[rows_i, rows_t].astype(np.int32),
                "hard_enquiries": np.zeros(len(rows_i), dtype=np.int32),  # filled after needs
            }
        )

    def _needs(self) -> tuple[dict[str, npt.NDArray[np.generic]], pl.DataFrame]:
        st, slot, _t, s = self.st, self.slot, self.t, self.s
        months = np.array([self.cal.year_month(int(k)) for k in self.t])
        cal_m = months[:, 1]
        cny = np.array([SPRING_FESTIVAL_MONTH.get(int(y), 2) for y in months[:, 0]])
        consumer = np.array([i.season == "consumer" for i in INDUSTRIES])[st.industry][:, None]
        seasonal_c = (cal_m == np.where(cny == 1, 12, cny - 1)) | (cal_m == 9) | (cal_m == 10)
        seasonal_i = (cal_m == 11) | (cal_m == 12) | (cal_m == cny + 1)
        seasonal = np.where(consumer, seasonal_c[None, :], seasonal_i[None, :])
        thriving = self.h > st.base_health[:, None] + 0.3
        p = 0.022 * np.where(seasonal, 1.9, 1.0) * np.where(thriving, 1.4, 1.0) + 0.15 * self.dist
        eligible = self.alive & ~self.post & ~st.is_shell[:, None]
        need = eligible & (self._u(Ev.NEED) < p)
        reason = np.where(
            self.dist, 3, np.where(seasonal, 0, np.where(thriving, 1, 2))
        )  # seasonal_stock, expansion, receivable_gap, distress
        monthly_rev = st.revenue_yuan[:, None] / 12.0
        amount = monthly_rev * (0.8 + 2.2 * self._u(Ev.NEED_AMT)) * np.where(reason == 1, 1.6, 1.0)
        amount = np.maximum(10_000.0, np.round(amount, -3))
        du = self._u(Ev.NEED_DUR)
        lo = np.array([3, 12, 3, 6])[reason]
        hi = np.array([6, 36, 9, 12])[reason]
        duration = (lo + np.floor(du * (hi - lo + 1))).astype(np.int64)
        rows_i, rows_t = np.nonzero(need)
        need_bits = s.bits(Ev.NEED + 50, slot[rows_i], rows_t)
        need_id = hex_ids("ND", need_bits, "need_id")
        truth = pl.DataFrame(
            {
                "need_id": need_id,
                "uscc": self.uscc.gather(rows_i),
                "month": date_series("month", self.month_days[rows_t]),
                "amount_fen": (amount[rows_i, rows_t] * 100).astype(np.int64),
                "duration_months": duration[rows_i, rows_t].astype(np.int32),
                "reason": np.array(["seasonal_stock", "expansion", "receivable_gap", "distress"])[
                    reason[rows_i, rows_t]
                ],
            }
        )
        apply = self._u(Ev.APPLY)[rows_i, rows_t] < np.where(self.dist[rows_i, rows_t], 0.7, 0.45)
        self.need_count = np.zeros_like(self.alive, dtype=np.int64)
        np.add.at(self.need_count, (rows_i[apply], rows_t[apply]), 1)
        return (
            {
                "i": rows_i[apply],
                "t": rows_t[apply],
                "amount": amount[rows_i, rows_t][apply],
                "duration": duration[rows_i, rows_t][apply],
                "need_id": need_id.to_numpy()[apply],
            },
            truth,
        )

    def _applications(
        self, need: dict[str, npt.NDArray[np.generic]]
    ) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, npt.NDArray[np.generic]]]:
        st, s, slot, n_months = self.st, self.s, self.slot, self.M
        ni = need["i"].astype(np.int64)
        nt = need["t"].astype(np.int64)
        # Packaged applicants apply in their packaging month through an intermediary.
        pk = np.nonzero((st.packaged_month < n_months) & ~st.is_shell)[0]
        pk_t = st.packaged_month[pk]
        ok = (
            self.alive[pk, np.minimum(pk_t, n_months - 1)]
            & ~self.post[pk, np.minimum(pk_t, n_months - 1)]
        )
        pk, pk_t = pk[ok], pk_t[ok]
        # Shells apply in the attack month, some again the month after.
        sh = np.nonzero(st.is_shell & (st.attack_month < n_months))[0]
        sh_t = st.attack_month[sh]
        second = sh[(s.uniform(Ev.SHELL_SECOND, slot[sh]) < 0.4) & (sh_t + 1 < n_months)]
        sh = np.concatenate([sh, second])
        sh_t = np.concatenate([sh_t, st.attack_month[second] + 1])
        kind = np.concatenate(
            [np.zeros(len(ni), np.int64), np.ones(len(pk), np.int64), np.full(len(sh), 2)]
        )
        ai = np.concatenate([ni, pk, sh])
        at = np.concatenate([nt, pk_t, sh_t])
        order = np.lexsort((kind, at, ai))
        ai, at, kind = ai[order], at[order], kind[order]
        need_ids = np.concatenate([need["need_id"].astype(str), np.full(len(pk) + len(sh), "")])[
            order
        ]
        amount = np.concatenate([need["amount"].astype(np.float64), np.zeros(len(pk) + len(sh))])[
            order
        ]
        duration = np.concatenate(
            [need["duration"].astype(np.int64), np.zeros(len(pk) + len(sh), np.int64)]
        )[order]
        n_app = len(ai)
        key = slot[ai] * 8 + kind
        u = s.uniform(Ev.REQ, key, at)
        monthly_rev = st.revenue_yuan[ai] / 12.0
        terms = np.array([3, 6, 12, 24, 36])
        need_term = terms[np.minimum(np.searchsorted(terms, duration), 4)]
        requested = np.select(
            [kind == 0, kind == 1],
            [
                np.maximum(10_000.0, np.round(amount * (0.9 + 0.4 * u), -4)),
                np.round(4.0 * monthly_rev * (0.8 + 0.4 * u), -4),
            ],
            default=np.round(300_000 + 700_000 * u, -5),
        )
        requested = np.maximum(requested, 10_000.0)
        term = np.select([kind == 0, kind == 1], [need_term, 12], default=np.where(u < 0.5, 12, 24))
        cu = s.uniform(Ev.CHANNEL, key, at)
        channel_regular = np.searchsorted(np.cumsum([0.36, 0.27, 0.30, 0.07]), cu, side="right")
        channel = np.select(
            [kind == 0, kind == 1],
            [np.minimum(channel_regular, 3), np.where(cu < 0.85, 3, 2)],
            default=np.where(cu < 0.65, 3, 2),
        )
        day = s.integers(Ev.DAY, 0, 28, key, at)
        app_days = self.month_days[at] + day
        rep_slot = self.rep_slot[ai]
        device, ip = self._devices_and_ips(kind, ai, at, key, rep_slot)
        owner_phone = mobile_numbers(s.bits(Ev.OWNER + 8, rep_slot), "phone").to_numpy()
        ring_phone = self.ring_phone.to_numpy()[ai]
        phone = np.where(kind == 2, ring_phone, owner_phone)
        app_id = hex_ids("AP", s.bits(Ev.APP_ID, key, at), "application_id")
        apps = pl.DataFrame(
            {
                "application_id": app_id,
                "uscc": self.uscc.gather(ai),
                "month": date_series("month", self.month_days[at]),
                "application_date": date_series("application_date", app_days),
                "legal_rep_id_number": self._rep_ids(rep_slot)
                if n_app
                else pl.Series([], dtype=pl.String),
                "phone": pl.Series(phone, dtype=pl.String),
                "device_id": device,
                "ip_address": ip,
                "channel": np.array(["qr", "branch", "partner", "intermediary"])[channel],
                "requested_amount_fen": (requested * 100).astype(np.int64),
                "requested_term_months": term.astype(np.int32),
            }
        )
        truth = pl.DataFrame(
            {
                "application_id": app_id,
                "is_fraud": kind == 2,
                "fraud_ring_id": _masked(np.char.add("R", st.ring_gid[ai].astype(str)), kind == 2),
                "is_packaged": kind == 1,
                "need_id": _masked(need_ids.astype(str), need_ids != ""),
            }
        )
        # Hard enquiries at other lenders follow applications (shopping around) and stress.
        enq_extra = np.zeros_like(self.alive, dtype=np.float64)
        np.add.at(enq_extra, (ai, at), 1.0)
        enq = s.poisson(
            Ev.ENQ, np.minimum(self.enq_lam + 0.8 * enq_extra, 20.0), slot[:, None], self.t[None, :]
        )
        self.enquiries = enq
        meta = {
            "i": ai,
            "t": at,
            "kind": kind,
            "key": key,
            "app_id": app_id.to_numpy(),
            "requested": requested,
            "term": term,
        }
        return apps, truth, meta

    def _devices_and_ips(
        self, kind: I64, ai: I64, at: I64, key: I64, rep_slot: I64
    ) -> tuple[pl.Series, pl.Series]:
        """Devices and networks: people use their own phone; ring members share the ring's
        two devices and subnet; an intermediary agent applies for most packaged clients."""
        st, s = self.st, self.s
        n_agents = max(3, self.N // N_INTERMEDIARY_AGENTS_PER)
        agent = s.integers(Ev.DEVICE + 1, 0, n_agents, self.slot[ai])
        du = s.uniform(Ev.DEVICE, key, at)
        dev_key = np.select(
            [kind == 2, (kind == 1) & (du < 0.7), du < 0.05],
            [
                (1 << 40) + st.ring_gid[ai] * 2 + (st.ring_pos[ai] % 2),
                (1 << 41) + agent,
                (1 << 42) + key * 64 + at,
            ],
            default=rep_slot,
        )
        device = hex_ids("DV", s.bits(Ev.DEVICE + 2, dev_key), "device_id", 16)
        ip_key = np.select(
            [kind == 2, (kind == 1) & (du < 0.6)],
            [(1 << 40) + st.ring_gid[ai], (1 << 41) + agent],
            default=(1 << 42) + key * 64 + at,
        )
        ip_bits = s.bits(Ev.IP, ip_key)
        last = np.where(
            kind == 2,
            2 + (s.bits(Ev.IP + 1, key, at) % np.uint64(250)).astype(np.int64),
            1 + (ip_bits >> np.uint64(40)).astype(np.int64) % 254,
        )
        octets = [
            IP_FIRST_OCTETS[(ip_bits % np.uint64(len(IP_FIRST_OCTETS))).astype(np.int64)],
            (ip_bits >> np.uint64(8)).astype(np.int64) % 256,
            (ip_bits >> np.uint64(16)).astype(np.int64) % 256,
            last,
        ]
        ip = _concat([pl.Series(o.astype(np.int64)).cast(pl.String) for o in octets], separator=".")
        return device, ip.alias("ip_address")

    def _loans(self, meta: dict[str, npt.NDArray[np.generic]]) -> pl.DataFrame:
        """The legacy lender: a naive rule on observables; outcomes follow the truth."""
        st, s, n_months = self.st, self.s, self.M
        ai = meta["i"].astype(np.int64)
        at = meta["t"].astype(np.int64)
        key = meta["key"].astype(np.int64)
        age_ok = (at - st.reg_month[ai]) >= 6
        grade_ok = self.grade[ai, at] <= 2
        clean = self.overdue[ai, at] == 0
        approve = age_ok & grade_ok & clean & (s.uniform(Ev.APPROVE, key, at) < 0.5)
        li, lt, lk = ai[approve], at[approve], key[approve]
        if len(li) == 0:
            return _empty(schema.LOAN_HISTORY)
        app_id = meta["app_id"][approve]
        principal = np.round(
            meta["requested"].astype(np.float64)[approve]
            * (0.6 + 0.4 * s.uniform(Ev.LOAN_SHARE, lk, lt)),
            -3,
        )
        principal = np.maximum(principal, 10_000.0)
        principal_f = (principal * 100).astype(np.int64)
        term = meta["term"].astype(np.int64)[approve]
        rate_bp = np.round(
            450 + 700 * s.uniform(Ev.RATE, lk, lt) - 150 * np.clip(self.h[li, lt], -1, 1)
        )
        dflt = self.default[li]
        bad = (dflt <= lt + term) & (dflt < NO_MONTH)
        first_bad = np.maximum(dflt, lt + 1)
        last = np.where(bad, first_bad + 5, lt + term)
        last_obs = np.minimum(last, n_months - 1)
        n_rows = last_obs - lt + 1
        loan_rows = np.repeat(np.arange(len(li)), n_rows)
        offs = np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
        m = lt[loan_rows] + offs
        principal_row, term_row = principal_f[loan_rows], term[loan_rows]
        paid_k = np.minimum(offs, term_row)
        is_bad = bad[loan_rows] & (m >= first_bad[loan_rows])
        frozen_k = np.minimum(first_bad[loan_rows] - lt[loan_rows] - 1, term_row)
        balance = principal_row - principal_row * np.where(is_bad, frozen_k, paid_k) // term_row
        dpd = np.where(is_bad, 30 * (m - first_bad[loan_rows] + 1), 0)
        instalment = (
            principal_row // term_row
            + principal_row * rate_bp[loan_rows].astype(np.int64) // 120_000
        )
        cash_m = self.cash[li[loan_rows], np.minimum(m, n_months - 1)]
        short = (~is_bad) & (offs > 0) & (offs < term_row) & (cash_m < instalment)
        dpd = np.where(short, 1 + s.integers(Ev.TECH_DPD, 0, 25, lk[loan_rows], m), dpd)
        status = np.where(
            is_bad,
            np.where(dpd >= 180, "written_off", "overdue"),
            np.where(offs >= term_row, "repaid", np.where(short, "overdue", "current")),
        )
        loan_id = hex_ids("LN", s.bits(Ev.LOAN_ID, lk, lt), "loan_id").gather(loan_rows)
        return pl.DataFrame(
            {
                "loan_id": loan_id,
                "uscc": self.uscc.gather(li[loan_rows]),
                "month": date_series("month", self.cal.days(m)),
                "application_id": pl.Series(app_id.astype(str)).gather(loan_rows),
                "origination_month": date_series("o", self.cal.days(lt[loan_rows])),
                "principal_fen": principal_row,
                "term_months": term_row.astype(np.int32),
                "annual_rate_bp": rate_bp[loan_rows].astype(np.int32),
                "balance_fen": np.where(status == "repaid", 0, balance),
                "days_past_due": dpd.astype(np.int32),
                "status": status,
            }
        )

    def _court(self) -> pl.DataFrame:
        st, s, slot, n_months = self.st, self.s, self.slot, self.M
        p = 0.003 + 0.006 * sigmoid(-self.h) + 0.12 * self.dist + 0.35 * self.post
        p = np.where(st.is_shell[:, None], np.where(self.post, 0.35, 0.0), p)
        hit = self.alive & (self._u(Ev.CASE) < p)
        ci, ct = np.nonzero(hit)
        if len(ci) == 0:
            return _empty(schema.COURT_CASES)
        key = slot[ci]
        stressed = self.dist[ci, ct] | self.post[ci, ct]
        defendant = s.uniform(Ev.CASE_ROLE, key, ct) < np.where(stressed, 0.95, 0.6)
        tu = s.uniform(Ev.CASE_TYPE, key, ct)
        ctype = np.where(
            stressed,
            np.select([tu < 0.6, tu < 0.9], [1, 0], default=2),
            np.select([tu < 0.5, tu < 0.8], [0, 3], default=2),
        )
        amount = (
            np.round(st.revenue_yuan[ci] * 0.08 * np.exp(0.8 * s.normal(Ev.CASE_AMT, key, ct)), -2)
            * 100
        )
        lag = s.uniform(Ev.CASE_LAG, key, ct)
        executed = defendant & stressed & (lag < 0.7)
        exec_t = ct + 1 + (s.integers(Ev.CASE_LAG + 1, 0, 3, key, ct))
        dishonest = executed & (s.uniform(Ev.CASE_LAG + 2, key, ct) < 0.5)
        dish_t = exec_t + 1 + s.integers(Ev.CASE_LAG + 3, 0, 4, key, ct)
        close_t = ct + 2 + s.integers(Ev.CASE_LAG + 4, 0, 7, key, ct)
        ev_t = np.stack([ct, close_t, exec_t, dish_t])
        ev_ok = np.stack([np.ones(len(ci), bool), ~executed, executed, dishonest]) & (
            ev_t < n_months
        )
        region = np.array([r.code for r in REGIONS])[st.region[ci]]
        prov = np.array([PROVINCE_ABBR.get(c[:2], "京") for c in region])
        years = np.array([self.cal.year_month(int(k))[0] for k in range(n_months)])[ct]
        number = s.integers(Ev.CASE_NO, 1, 30_000, key, ct)
        case_id = np.char.add(
            np.char.add(np.char.add(np.char.add("(", years.astype(str)), ")"), prov),
            np.char.add(
                np.char.add(np.char.add(region.astype("U4"), "民初"), number.astype(str)), "号"
            ),
        )
        day = s.integers(Ev.CASE_DAY, 0, 28, key, ct)
        row, ev_idx = np.nonzero(ev_ok.T)  # case by case, events in order
        et = ev_t[ev_idx, row]
        return pl.DataFrame(
            {
                "case_id": case_id[row],
                "uscc": self.uscc.gather(ci[row]),
                "event_date": date_series("event_date", self.cal.days(et) + day[row]),
                "month": date_series("month", self.cal.days(et)),
                "event": np.array(["filed", "closed", "executed_listed", "dishonest_listed"])[
                    ev_idx
                ],
                "role": np.where(defendant[row], "defendant", "plaintiff"),
                "case_type": np.array(
                    ["contract_dispute", "loan_dispute", "labour_dispute", "sales_dispute"]
                )[ctype[row]],
                "amount_fen": amount[row].astype(np.int64),
            }
        )

    def _invoices(self) -> pl.DataFrame:
        st, s, slot, t, n_slots = self.st, self.s, self.slot, self.t, self.N
        b2b = np.array([i.b2b_share for i in INDUSTRIES])[st.industry]
        issues = ~st.is_shell & ((b2b > 0.5) | (s.uniform(Ev.INV_B2B, slot) < 0.1))
        size = np.clip(st.revenue_yuan / 2e6, 0.3, 3.0)
        k = np.where(issues, np.minimum(1 + s.poisson(Ev.INV_K, 0.5 * size, slot), 5), 0)
        seller = np.repeat(np.arange(len(slot)), k)
        j = np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        pair_key = slot[seller] * 8 + j
        n_core = (
            (n_slots - CORE_OFFSET + CORE_STRIDE - 1) // CORE_STRIDE if n_slots > CORE_OFFSET else 0
        )
        to_core = (s.uniform(Ev.INV_CORE, pair_key) < 0.35) & (n_core > 0)
        core_slot = (
            CORE_STRIDE * s.integers(Ev.INV_BUYER, 0, max(n_core, 1), pair_key) + CORE_OFFSET
        )
        rand_slot = s.integers(Ev.INV_BUYER + 1, 0, n_slots, pair_key)
        buyer = np.where(to_core, core_slot, rand_slot)
        weight = -np.log(s.uniform(Ev.INV_W, pair_key))
        wsum = np.zeros(len(slot))
        np.add.at(wsum, seller, weight)
        share = weight / np.maximum(wsum[seller], 1e-12) * b2b[seller]
        # Shell rings: each member invoices the next (a cycle) and one outside company.
        sh = np.nonzero(st.is_shell)[0]
        nxt = np.array(
            [
                ring_member_slots(self.p.seed, n_slots, int(g))[(int(ps) + 1) % int(sz)]
                for g, ps, sz in zip(
                    st.ring_gid[sh], st.ring_pos[sh], st.ring_size[sh], strict=True
                )
            ],
            dtype=np.int64,
        )
        outsider = s.integers(Ev.INV_BUYER + 2, 0, n_slots, slot[sh])
        seller = np.concatenate([seller, sh, sh])
        buyer = np.concatenate([buyer, nxt, outsider])
        share = np.concatenate([share, np.full(len(sh), 0.65), np.full(len(sh), 0.35)])
        pair_key = np.concatenate([pair_key, slot[sh] * 8 + 6, slot[sh] * 8 + 7])
        circular = np.concatenate(
            [np.zeros(len(j), bool), np.ones(len(sh), bool), np.ones(len(sh), bool)]
        )
        keep = buyer != slot[seller]
        seller, buyer, share, pair_key, circular = (
            seller[keep],
            buyer[keep],
            share[keep],
            pair_key[keep],
            circular[keep],
        )
        # Two draws of one seller can name the same buyer: merge them into one relationship.
        pair = seller * np.int64(n_slots + 1) + buyer
        uniq, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
        merged = np.zeros(len(uniq))
        np.add.at(merged, inverse, share)
        seller, buyer, share, pair_key, circular = (
            seller[first],
            buyer[first],
            merged,
            pair_key[first],
            circular[first],
        )
        ub, binv = np.unique(buyer, return_inverse=True)
        bst = statics(self.p.seed, n_slots, ub)
        ok_buyer = ~bst.is_shell[binv] | circular
        seller, buyer, share, pair_key, circular, binv = (
            seller[ok_buyer],
            buyer[ok_buyer],
            share[ok_buyer],
            pair_key[ok_buyer],
            circular[ok_buyer],
            binv[ok_buyer],
        )
        # One row per (pair, month) when the seller sold and the buyer was registered.
        active = (self.rev[seller] > 0) & (t[None, :] >= bst.reg_month[binv][:, None])
        pi, pt = np.nonzero(active)
        pk = pair_key[pi]
        amount = (
            self.rev[seller[pi], pt]
            * share[pi]
            * np.exp(np.where(circular[pi], 0.0, 0.1 * s.normal(Ev.INV_AMT, pk, pt)))
        )
        amount = np.where(circular[pi], np.round(amount, -4), amount)
        avg_inv = np.where(
            circular[pi], 100_000.0, 20_000.0 * np.exp(0.5 * s.normal(Ev.INV_SIZE, pk))
        )
        count = np.maximum(1, np.round(amount / avg_inv)).astype(np.int64)
        stress = self.dist[seller[pi], pt].astype(np.float64)
        void_rate = np.where(circular[pi], 0.08, 0.01 + 0.04 * stress)
        voided = s.poisson(Ev.INV_VOID, np.minimum(count * void_rate, 20.0), pk, pt)
        red = s.poisson(Ev.INV_RED, np.minimum(count * (0.005 + 0.02 * stress), 20.0), pk, pt)
        return pl.DataFrame(
            {
                "seller_uscc": self.uscc.gather(seller[pi]),
                "buyer_uscc": self._uscc_of(ub).gather(binv[pi]),
                "month": date_series("month", self.month_days[pt]),
                "amount_fen": np.round(amount * 100).astype(np.int64),
                "invoice_count": count.astype(np.int32),
                "voided_count": voided.astype(np.int32),
                "red_letter_count": red.astype(np.int32),
            }
        )

    def _guarantees(self) -> pl.DataFrame:
        st, s, slot, n_slots, n_months = self.st, self.s, self.slot, self.N, self.M
        circ = np.nonzero(st.circle_gid >= 0)[0]
        circ_b = circle_member_slot(
            self.p.seed, n_slots, st.circle_gid[circ], (st.circle_pos[circ] + 1) % 3
        )
        rnd = np.nonzero(~st.is_shell & st.is_company & (s.uniform(Ev.GUAR, slot) < 0.04))[0]
        rnd_b = s.integers(Ev.GUAR + 1, 0, n_slots, slot[rnd])
        g = np.concatenate([circ, rnd])
        b = np.concatenate([circ_b, rnd_b])
        ub, binv = np.unique(b, return_inverse=True)
        bst = statics(self.p.seed, n_slots, ub)
        ok = (b != slot[g]) & ~bst.is_shell[binv]
        g, binv = g[ok], binv[ok]
        start = np.maximum(np.maximum(st.reg_month[g], bst.reg_month[binv]), -36) + s.integers(
            Ev.GUAR_START, 0, 12, slot[g]
        )
        keep = start <= n_months - 1
        g, binv, start = g[keep], binv[keep], start[keep]
        order = np.argsort(g, kind="stable")
        g, binv, start = g[order], binv[order], start[order]
        frame = pl.DataFrame(
            {
                "guarantor_uscc": self.uscc.gather(g),
                "borrower_uscc": self._uscc_of(ub).gather(binv),
                "start_month": date_series("start_month", self.cal.days(start)),
                "amount_fen": (np.round(bst.revenue_yuan[binv] * 0.3, -4) * 100).astype(np.int64),
            }
        )
        return frame.unique(["guarantor_uscc", "borrower_uscc"], keep="first", maintain_order=True)

    def _enterprise_truth(self) -> pl.DataFrame:
        st = self.st
        keep = self.registered
        has_default = self.default < NO_MONTH
        dd = self.cal.days(np.where(has_default, self.default, 0))
        od = self.cal.days(np.where(has_default, self.onset, 0))
        cd = self.cal.days(np.where(has_default, self.close, 0))
        pk = st.packaged_month < self.M
        pd_ = self.cal.days(np.where(pk, st.packaged_month, 0))
        frame = pl.DataFrame(
            {
                "uscc": self.uscc,
                "enterprise_index": self.slot,
                "default_month": _masked(date_series("d", dd), has_default),
                "distress_onset_month": _masked(date_series("d", od), has_default),
                "lead_months": _masked(self.lead.astype(np.int32), has_default),
                "close_month": _masked(date_series("d", cd), has_default),
                "fraud_ring_id": _masked(np.char.add("R", st.ring_gid.astype(str)), st.is_shell),
                "is_shell": st.is_shell,
                "packaging_month": _masked(date_series("d", pd_), pk),
                "base_health": st.base_health,
            }
        )
        return frame.filter(pl.Series(keep))

    def _monthly_truth(self) -> pl.DataFrame:
        rows_i, rows_t, uscc, month = self._monthly_keys()
        return pl.DataFrame(
            {
                "uscc": uscc,
                "month": month,
                "latent_health": self.h[rows_i, rows_t],
                "pd_12m": self.pd[rows_i, rows_t],
                "in_distress": self.dist[rows_i, rows_t],
                "in_default": self.post[rows_i, rows_t],
                "cash_available_fen": self.cash[rows_i, rows_t],
            }
        )

    def _macro(self) -> pl.DataFrame:
        w = slice(BURN_IN_MONTHS, self.T)
        names = (
            ["macro"]
            + [f"industry:{i.group}" for i in INDUSTRIES]
            + [f"region:{r.code}" for r in REGIONS]
        )
        values = np.vstack([self.macro[None, w], self.ind[:, w], self.reg[:, w]])
        k, m = np.meshgrid(np.arange(len(names)), np.arange(self.M), indexing="ij")
        return pl.DataFrame(
            {
                "month": date_series("month", self.month_days[m.ravel()]),
                "factor": np.array(names)[k.ravel()],
                "value": values.ravel(),
            }
        ).sort(["month", "factor"])


def _empty(table: schema.Table) -> pl.DataFrame:
    return pl.DataFrame(schema=table.polars_schema())
