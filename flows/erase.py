"""`lmsbridge erase --email X`: remove one person from the warehouse folder (every table,
the BI snapshot, dlt's load packages, webhook landings, logs) and, when asked, from HubSpot.

Runs under the run lock, so no run writes the warehouse meanwhile. Leaves one line in the
erasure log (`erasure_log.jsonl` beside the warehouse): a random erasure id, the time,
counts and which systems were called. No email, id or hash of them: a hash of an email is
re-identifiable by hashing guesses, so the log carries nothing derived from the person.
"""

from __future__ import annotations

import json
import logging
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx

from flows import erase_files, erase_warehouse
from flows.pipeline import run_lock
from flows.publish import publish_snapshot
from lmsbridge_core.errors import AuthenticationError, ConfigurationError, LmsbridgeError
from lmsbridge_core.settings import Settings

log = logging.getLogger("lmsbridge.erase")

ERASURE_LOG = "erasure_log.jsonl"
LMS_DELETE = "not available: the LearnWorlds API has no user delete; delete the user in the school"


@dataclass
class ErasureReport:
    erasure_id: str
    at: str
    dry_run: bool
    rows: dict[str, int] = field(default_factory=dict)
    load_packages_removed: int = 0
    lines_removed: int = 0
    files_rewritten: int = 0
    snapshot_republished: bool = False
    hubspot: str = "not asked"
    lms: str = LMS_DELETE
    # Customer input outside the warehouse folder: named, never edited.
    source_csv_files_holding: list[str] = field(default_factory=list)
    files_still_holding: list[str] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return sum(self.rows.values())


def normalize_email(raw: str) -> str:
    """As the identity rules normalize (int_emails_normalized): NFKC, trimmed, lowercased."""
    email = unicodedata.normalize("NFKC", raw).strip().lower()
    if "@" not in email or any(c.isspace() for c in email):
        raise ConfigurationError("--email is not an email address")
    return email


def erase(settings: Settings, raw_email: str, *, dry_run: bool, hubspot: bool) -> ErasureReport:
    email = normalize_email(raw_email)
    report = ErasureReport(
        erasure_id=uuid.uuid4().hex[:12], at=datetime.now(UTC).isoformat(), dry_run=dry_run
    )
    if hubspot and not dry_run:
        settings.require_hubspot_token()
    warehouse = settings.warehouse_path.resolve()
    with run_lock(settings, wait=True):
        person = erase_warehouse.Person(email)
        if warehouse.exists():
            with duckdb.connect(str(warehouse)) as con:
                person = erase_warehouse.identify(con, email)
                report.rows = erase_warehouse.count_or_delete(con, person, delete=not dry_run)
                if not dry_run:
                    con.execute("checkpoint")
            if not dry_run:
                erase_warehouse.rewrite(warehouse)
        log.info(
            "erasure %s: %s rows in %s tables",
            report.erasure_id,
            report.rows_total,
            len(report.rows),
        )
        patterns = erase_files.needles(email, person.long_ids)
        published = settings.published_warehouse_path.resolve()
        if not dry_run and warehouse.exists() and published.exists():
            publish_snapshot(warehouse, published, include_raw=settings.publish_raw)
            report.snapshot_republished = True
        skip = {warehouse, Path(f"{warehouse}.wal"), published, Path(f"{published}.wal")}
        _clean_files(settings, report, patterns, skip)
        report.source_csv_files_holding = _csv_holding(settings, patterns)
        report.files_still_holding = _still_holding(warehouse.parent, email)
        if dry_run:
            if hubspot:
                report.hubspot = (
                    f"would delete by email and {len(person.contact_ids)} contact id(s)"
                )
            return report
        try:
            if hubspot:
                report.hubspot = _hubspot_gdpr_delete(settings, email, person.contact_ids)
        except Exception as exc:
            report.hubspot = f"failed: {type(exc).__name__}"
            raise
        finally:
            # Also when HubSpot failed: the warehouse part is done and must be on record.
            _append_log(settings, report)
    return report


def _clean_files(
    settings: Settings, report: ErasureReport, patterns: list[bytes], skip: set[Path]
) -> None:
    folders = {settings.warehouse_path.resolve().parent, settings.landing_dir.resolve()}
    for folder in folders:
        if not folder.is_dir():
            continue
        result = erase_files.clean(folder, patterns, skip=skip, apply=not report.dry_run)
        report.load_packages_removed += result.packages_removed
        report.lines_removed += result.lines_removed
        report.files_rewritten += result.files_rewritten


def _still_holding(folder: Path, email: str) -> list[str]:
    """The final check: every file under the warehouse folder, databases included, read as
    bytes (gzip decompressed). Names relative to the folder, never content."""
    if not folder.is_dir():
        return []
    pattern = [email.encode()]
    return sorted(
        str(p.relative_to(folder))
        for p in erase_files.files(folder)
        if erase_files.holds(p, pattern)
    )


def _csv_holding(settings: Settings, patterns: list[bytes]) -> list[str]:
    if settings.lms_csv_dir is None or not settings.lms_csv_dir.is_dir():
        return []
    return sorted(
        p.name for p in erase_files.files(settings.lms_csv_dir) if erase_files.holds(p, patterns)
    )


def _hubspot_gdpr_delete(settings: Settings, email: str, contact_ids: set[str]) -> str:
    """HubSpot's permanent delete: by email (HubSpot also blocklists an email it does not
    know), then any contact that holds it only as an additional email, by id."""
    base = str(settings.hubspot_base_url).rstrip("/")
    headers = {"Authorization": f"Bearer {settings.require_hubspot_token()}"}
    bodies = [{"objectId": email, "idProperty": "email"}]
    bodies += [{"objectId": cid} for cid in sorted(contact_ids)]
    deleted = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30.0) as client:
        for body in bodies:
            response = client.post("/crm/v3/objects/contacts/gdpr-delete", json=body)
            if response.status_code == 404:  # the id was the email's contact, gone already
                continue
            # Status only: HubSpot's error text may quote the email we sent.
            if response.status_code in (401, 403):
                raise AuthenticationError(
                    f"HubSpot GDPR delete refused: HTTP {response.status_code} (the token needs"
                    " crm.objects.contacts.write)",
                    api="hubspot",
                    status=response.status_code,
                )
            if response.status_code >= 400:
                raise LmsbridgeError(
                    f"HubSpot GDPR delete failed: HTTP {response.status_code}"
                    f" (erasure of the warehouse is done; run erase --hubspot again)"
                )
            deleted += 1
    return f"deleted ({deleted} calls)"


def _append_log(settings: Settings, report: ErasureReport) -> None:
    path = settings.warehouse_path.resolve().parent / ERASURE_LOG
    record = asdict(report)
    # File names of the customer's CSVs are theirs, not the person's: counts are enough.
    record["source_csv_files_holding"] = len(report.source_csv_files_holding)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
