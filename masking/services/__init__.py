"""Writes for number masking (the only code that changes masking state)."""

from masking.services.csv_import import CsvFileError, ImportReport, RowError, masking_rules_import_csv
from masking.services.resolution_log import masking_resolution_log_create, masking_resolution_logs_purge
from masking.services.rules import (
    BulkResult,
    masking_number_clean,
    masking_number_create,
    masking_number_lock,
    masking_number_update,
    masking_numbers_update,
    masking_rule_activate,
    masking_rule_clean,
    masking_rule_create,
    masking_rule_deactivate,
    masking_rule_update,
    masking_rules_set_active,
)
from masking.services.sessions import (
    masking_session_clean,
    masking_session_close,
    masking_session_create,
    masking_session_transition,
    masking_sessions_expire_due,
)

__all__ = [
    "BulkResult",
    "CsvFileError",
    "ImportReport",
    "RowError",
    "masking_number_clean",
    "masking_number_create",
    "masking_number_lock",
    "masking_number_update",
    "masking_numbers_update",
    "masking_resolution_log_create",
    "masking_resolution_logs_purge",
    "masking_rule_activate",
    "masking_rule_clean",
    "masking_rule_create",
    "masking_rule_deactivate",
    "masking_rule_update",
    "masking_rules_import_csv",
    "masking_rules_set_active",
    "masking_session_clean",
    "masking_session_close",
    "masking_session_create",
    "masking_session_transition",
    "masking_sessions_expire_due",
]
