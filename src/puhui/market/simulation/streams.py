"""Stream ids of the monthly draws of the simulation (never renumber: it would change markets)."""

from __future__ import annotations


class MonthlyStream:
    """Stream ids of draws made per enterprise and month (or per application, case, pair).

    A new concern takes new ids; an existing id keeps its number for ever, so adding a draw
    leaves every existing value of every market unchanged.
    """

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
    FUND_LAG = 200
    FUND_MISUSE = 201
    FUND_TYPE = 202
    FUND_SHARE = 203
    FUND_DISGUISE = 204
    FUND_DISGUISED_PART = 205
    FUND_OWNER = 206
    FUND_OWNER_SHARE = 207
    FUND_ELSEWHERE = 208
    FUND_ELSEWHERE_SHARE = 209
    FUND_WAGES = 210
    FUND_TIMING = 211
    FUND_DIVERT_TIMING = 212
    FUND_USUAL_WAGES = 213
    FUND_LUMP = 214
    FUND_LUMP_SIZE = 215
    FUND_SECURITIES = 216
    FUND_SECURITIES_SHARE = 217
    ROUND_TRIP = 300
    ROUND_TRIP_LEG = 301
    ENV_GREEN = 400
    ENV_RISK = 401
    ENV_PENALTY = 402
    ENV_SOURCE = 403
    ENV_KIND = 404
    ENV_SEVERITY = 405
    ENV_AMOUNT = 406
    ENV_NUMBER = 407
    ENV_DAY = 408
