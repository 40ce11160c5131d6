"""Japanese formats of dates and amounts for documents."""

from __future__ import annotations

import datetime as dt

# (first day, name) of each modern era, newest first.
ERAS = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
)


def date(day: dt.date, era: bool = False) -> str:
    """`2015年10月30日`, or with `era` `平成27年10月30日` (the first year reads 元年)."""
    if not era:
        return f"{day.year}年{day.month}月{day.day}日"
    for start, name in ERAS:
        if day >= start:
            year = day.year - start.year + 1
            return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def yen(amount: int) -> str:
    """`45,000円`."""
    return f"{amount:,}円"


def kin(amount: int) -> str:
    """`金45,000円`, the form written on certificates and notices."""
    return f"金{amount:,}円"
