"""How long a certificate is valid, and whether it is in force on a day."""

from __future__ import annotations

import datetime as dt

from registry.kinds import CertificateStatus, Construction, Kind
from registry.periods import add_years
from registry.settings import Settings


def validity_years(kind: Kind, construction: Construction, settings: Settings) -> int:
    """Years of validity. docs/domain.md: 50 years from the start for new builds; existing homes
    25 years (standard) or 35 years (fixed-floor). The option kind's terms are settings."""
    if kind is Kind.OPTION:
        if construction is Construction.NEW:
            return settings.option_validity_new
        return settings.option_validity_existing
    if construction is Construction.NEW:
        return 50
    return 35 if kind is Kind.FIXED_FLOOR else 25


def valid_until(valid_from: dt.date, years: int) -> dt.date:
    """The last day of validity: the corresponding day `years` later, as on the specimen
    (valid 2015-10-16 to 2065-10-16)."""
    return add_years(valid_from, years)


def status(valid_until_day: dt.date, revoked_on: dt.date | None, on: dt.date) -> CertificateStatus:
    """A certificate's status on a day: revoked wins, then expired after its last day."""
    if revoked_on is not None and revoked_on <= on:
        return CertificateStatus.REVOKED
    if on > valid_until_day:
        return CertificateStatus.EXPIRED
    return CertificateStatus.ACTIVE
