"""Calendar arithmetic for periods counted in years and months.

Japanese civil law (民法143条) counts a period of years or months to the corresponding day
of the last month; where that month has no such day (29 February in a common year, the
31st of a short month) the period ends on the month's last day. The Institute's specimen
follows the corresponding-day reading: valid 2015-10-16 to 2065-10-16.
"""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day `months` later (or earlier), clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def add_years(day: dt.date, years: int) -> dt.date:
    """The corresponding day `years` later; 29 February falls back to the 28th."""
    return add_months(day, 12 * years)


def full_years(start: dt.date, end: dt.date) -> int:
    """Completed years from `start` to `end` (a building's age, 築年数); 0 if end < start."""
    if end < start:
        return 0
    years = end.year - start.year
    if add_years(start, years) > end:
        years -= 1
    return years
