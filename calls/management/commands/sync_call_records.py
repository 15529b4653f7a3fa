"""`python manage.py sync_call_records [--from "YYYY-MM-DD HH:MM:SS"] [--to ...]`."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from calls.models import CallRecordSyncRunStatus
from calls.records_selectors import parse_bound
from calls.services.records import SyncError, SyncProgress, call_records_sync
from contactcenter.smartflo import SmartfloError


class Command(BaseCommand):
    help = (
        "Pull call records from Smartflo (GET /call/records) into the local table, with a progress bar. "
        "Without --from: the incremental sync the beat runs (from the watermark, minus the overlap). "
        "With --from: a backfill of [--from, --to or now]. Times are in the display time zone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", metavar='"YYYY-MM-DD HH:MM:SS"', help="start (inclusive)")
        parser.add_argument("--to", dest="end", metavar='"YYYY-MM-DD HH:MM:SS"', help="end (inclusive; default now)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for cron logs)")

    def handle(self, *args, start=None, end=None, no_progress=False, **options):
        start_at = self._bound(start, "--from", end=False)
        end_at = self._bound(end, "--to", end=True)
        if start_at and end_at and start_at > end_at:
            raise CommandError("--from is after --to.")
        what = f"{start_at:%Y-%m-%d %H:%M:%S} .. {end_at or timezone.localtime():%Y-%m-%d %H:%M:%S}" if start_at else ""
        self.stdout.write(f"Syncing call records from Smartflo {what or '(incremental, from the watermark)'}")
        bar = tqdm(total=0, unit=" records", desc="records", file=sys.stderr, disable=no_progress, dynamic_ncols=True)
        windows_done = {"index": 0, "before": 0}

        def progress(step: SyncProgress) -> None:
            if step.window_index != windows_done["index"]:
                windows_done["before"] = bar.n
                windows_done["index"] = step.window_index
                bar.total += step.window_expected
            bar.n = windows_done["before"] + step.window_stored
            bar.set_postfix(pages=step.pages, window=f"{step.window_index}/{step.windows}", refresh=False)
            bar.refresh()

        try:
            run = call_records_sync(start=start_at, end=end_at, trigger="command", on_progress=progress)
        except (SmartfloError, SyncError) as exc:
            raise CommandError(f"Sync failed: {exc}. Records stored so far are kept; run it again to finish.") from exc
        finally:
            bar.close()
        if run.status == CallRecordSyncRunStatus.SKIPPED:
            self.stdout.write(self.style.WARNING(f"Nothing done: {run.error}."))
            return
        watermark = timezone.localtime(run.watermark_after) if run.watermark_after else None
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {run.records_received} records received, {run.records_stored} stored, "
                f"in {run.pages} pages. Watermark: {watermark or 'unchanged'}."
            )
        )

    @staticmethod
    def _bound(value: str | None, name: str, *, end: bool):
        if not value:
            return None
        try:
            return parse_bound(value, end=end)
        except ValueError:
            raise CommandError(f'{name} must look like "YYYY-MM-DD HH:MM:SS" (or YYYY-MM-DD).') from None
