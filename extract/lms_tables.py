"""Table hints for raw_lms (docs/contracts.md section 3).

Declared columns exist even when every value is null, and timestamps are pinned to double so
an integer first page (LearnWorlds sometimes drops the fraction) cannot fix the type to bigint.
Fields the reference documents as strings (the certificate score, "OK" in LearnWorlds' own
example) are text and typed in dbt staging. Documented numbers stay double: a string that
arrives there anyway lands in dlt's `<column>__v_text` variant column, which staging reads
and reports in marts.data_quality_issues rather than ignoring.
"""

from __future__ import annotations

from typing import Any

from dlt.common.schema.typing import TColumnSchema

TEXT, DOUBLE, BOOL, BIGINT, TS = "text", "double", "bool", "bigint", "timestamp"
# Lists nested deeper than this stay JSON instead of becoming child tables.
MAX_TABLE_NESTING = 2


def _cols(**types: str) -> dict[str, TColumnSchema]:
    return {name: {"data_type": t, "nullable": True} for name, t in types.items()}  # type: ignore[misc]


# `nested` hints dlt child tables: {list field: its columns}.
LMS_TABLES: dict[str, dict[str, Any]] = {
    "users": {
        "primary_key": "id",
        "columns": _cols(
            id=TEXT,
            email=TEXT,
            username=TEXT,
            first_name=TEXT,
            last_name=TEXT,
            subscribed_for_marketing_emails=BOOL,
            created=DOUBLE,
            last_login=DOUBLE,
            is_suspended=BOOL,
            fields__company=TEXT,
            # When the extractor read the row (unix seconds): a complete read of the users
            # that started later and did not see the learner means LearnWorlds deleted them.
            seen_at=DOUBLE,
        ),
        # Tags as a child table, declared so the two-way sync can read "no tags" too.
        "nested": {"tags": _cols(value=TEXT)},
    },
    # One row per complete read of /v2/users (a backfill or a profile sweep): LearnWorlds
    # documents no user delete event, so absence from such a read is how deletes are seen.
    "user_sweeps": {
        "primary_key": "sweep_id",
        "columns": _cols(sweep_id=TEXT, started_at=DOUBLE, finished_at=DOUBLE, users_seen=BIGINT),
    },
    # Learners a per-user call answered 404 for: deleted since we last read them.
    "user_not_found": {
        "primary_key": "user_id",
        "columns": _cols(user_id=TEXT, detected_at=DOUBLE),
    },
    "courses": {
        "primary_key": "id",
        "columns": _cols(
            id=TEXT, title=TEXT, access=TEXT, created=DOUBLE, modified=DOUBLE, final_price=DOUBLE
        ),
        "nested": {"categories": _cols(value=TEXT)},
    },
    "enrollments": {
        "primary_key": ["user_id", "course_id"],
        "columns": _cols(user_id=TEXT, course_id=TEXT, created=DOUBLE, expires=DOUBLE),
    },
    "user_progress": {
        "primary_key": ["user_id", "course_id"],
        "columns": _cols(
            user_id=TEXT,
            course_id=TEXT,
            status=TEXT,
            progress_rate=DOUBLE,
            average_score_rate=DOUBLE,
            time_on_course=DOUBLE,
            total_units=BIGINT,
            completed_units=BIGINT,
            completed_at=DOUBLE,
        ),
    },
    "certificates": {
        "primary_key": "id",
        "columns": _cols(
            id=TEXT,
            title=TEXT,
            issued=DOUBLE,
            type=TEXT,
            status=TEXT,
            score=TEXT,
            user__id=TEXT,
            user__email=TEXT,
            course_id=TEXT,
        ),
    },
    "payments": {
        "primary_key": "id",
        "columns": _cols(
            id=TEXT,
            type=TEXT,
            price=DOUBLE,
            discount=DOUBLE,
            refund_at=DOUBLE,
            user_id=TEXT,
            paid_at=DOUBLE,
            created=DOUBLE,
            product__id=TEXT,
            product__type=TEXT,
            product__name=TEXT,
        ),
    },
    "grades": {
        "primary_key": "id",
        "columns": _cols(
            id=TEXT,
            course_id=TEXT,
            user_id=TEXT,
            email=TEXT,
            grade=DOUBLE,
            created=DOUBLE,
            modified=DOUBLE,
            submitted_timestamp=DOUBLE,
            learning_unit__id=TEXT,
            learning_unit__type=TEXT,
        ),
    },
    "event_logs": {
        "primary_key": "event_log_id",
        "columns": _cols(
            event_log_id=TEXT,
            user__id=TEXT,
            created=DOUBLE,
            activity=TEXT,
            description=TEXT,
            type=TEXT,
        ),
    },
    "webhook_events": {
        "primary_key": "delivery_id",
        "columns": _cols(
            delivery_id=TEXT,
            received_at=TS,
            type=TEXT,
            trigger=TEXT,
            school_id=TEXT,
            data__user__id=TEXT,
            data__user__email=TEXT,
            data__course__id=TEXT,
            data__course__title=TEXT,
            data__completed_at=DOUBLE,
            data__date=DOUBLE,
            data__certificate__id=TEXT,
            data__certificate__course_id=TEXT,
            data__certificate__issued=DOUBLE,
            data__certificate__score=TEXT,
            data__payment__id=TEXT,
            data__payment__product__id=TEXT,
            data__payment__product__type=TEXT,
            data__payment__price=DOUBLE,
            data__payment__created=DOUBLE,
            # account events: tag webhooks carry the user at the top of data, unenrolment and
            # subscription ones a product
            data__id=TEXT,
            data__tag=TEXT,
            data__product__id=TEXT,
            data__product__title=TEXT,
            data__product__type=TEXT,
        ),
    },
}
