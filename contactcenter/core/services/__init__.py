"""Writes that span the apps: erasure of one person's data and the retention purge."""

from contactcenter.core.services.erasure import (
    ErasureLine,
    ErasureRefused,
    ErasureReport,
    personal_data_erase,
)
from contactcenter.core.services.retention import personal_data_purge_expired

__all__ = [
    "ErasureLine",
    "ErasureRefused",
    "ErasureReport",
    "personal_data_erase",
    "personal_data_purge_expired",
]
