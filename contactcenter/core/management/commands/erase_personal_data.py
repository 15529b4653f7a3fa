"""`manage.py erase_personal_data --phone <number> [--dry-run]`: erase one person's data."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contactcenter.core.services import ErasureRefused, personal_data_erase
from contactcenter.phones import InvalidPhoneNumber


class Command(BaseCommand):
    help = (
        "Delete (or, where a row also concerns others, blank) every row that holds a phone number, "
        "in one transaction, and remember the number (as a keyed hash) so the call-record sync does "
        "not import its records again. --dry-run reports the same counts and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--phone", required=True, help="The number, in any usual form: +91 98765 43210, 098765-43210, 9876543210."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; change nothing.")

    def handle(self, *args, phone: str, dry_run: bool, **options) -> None:
        try:
            report = personal_data_erase(phone=phone, dry_run=dry_run)
        except InvalidPhoneNumber as exc:
            raise CommandError(f"Not a phone number: {exc}") from None
        except ErasureRefused as exc:
            raise CommandError(exc.message) from None

        would = "would be " if dry_run else ""
        for line in report.lines:
            self.stdout.write(f"{line.table}: {line.count} {would}{line.action}")
        for note in report.notes:
            self.stdout.write(self.style.WARNING(note))
        if dry_run:
            self.stdout.write(f"Dry run for {report.masked_number}: {report.total} rows, nothing changed.")
        elif report.total:
            self.stdout.write(self.style.SUCCESS(f"Erased {report.masked_number}: {report.total} rows."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Nothing held for {report.masked_number}; erasure recorded."))
