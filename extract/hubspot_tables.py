"""Table hints for raw_hubspot (docs/contracts.md section 3), the one place they are written.

Object tables (contacts, companies, deals) get their columns from HubSpot's property
definitions at run time; what is fixed is declared here: the record fields every object has,
and the contract properties, in HubSpot's own type vocabulary, so they are requested and
typed even when a portal (or a generated dataset) sends no definition for them.
"""

from __future__ import annotations

from typing import Any

from dlt.common.schema.typing import TColumnSchema

# Nested lists deeper than this stay JSON (owners' teams land as a child table, nothing more).
MAX_TABLE_NESTING = 1
OBJECTS = ("contacts", "companies", "deals", "calls", "emails", "meetings")
# Engagements (CRM touches): only their contract properties are requested, never the whole
# portal's list. Their other properties are bodies, notes, recordings and email content:
# personal data the warehouse does not need (email content also needs the sales-email-read
# scope; without it HubSpot redacts it anyway).
CONTRACT_ONLY = frozenset({"calls", "emails", "meetings"})

# HubSpot property type -> dlt data type; everything else (string, enumeration...) is text.
DLT_TYPE = {"number": "double", "bool": "bool", "datetime": "timestamp", "date": "date"}

# Always requested, hidden or not: the contract columns and the cursor fields.
CONTRACT_PROPERTIES: dict[str, dict[str, str]] = {
    "contacts": {
        "email": "string",
        "firstname": "string",
        "lastname": "string",
        "lifecyclestage": "enumeration",
        "hubspot_owner_id": "enumeration",
        "hs_additional_emails": "enumeration",
        "lms_user_id": "string",
        "hs_merged_object_ids": "enumeration",
        "createdate": "datetime",
        "lastmodifieddate": "datetime",
    },
    "companies": {
        "name": "string",
        "domain": "string",
        "createdate": "datetime",
        "hs_lastmodifieddate": "datetime",
    },
    "deals": {
        "hs_is_closed_won": "bool",
        "hs_is_closed_lost": "bool",
        "hs_is_closed": "bool",
        "deal_currency_code": "enumeration",
        "dealname": "string",
        "amount": "number",
        "dealstage": "enumeration",
        "pipeline": "enumeration",
        "closedate": "datetime",
        "createdate": "datetime",
        "hs_lastmodifieddate": "datetime",
        "hubspot_owner_id": "enumeration",
    },
    "calls": {
        "hs_timestamp": "datetime",
        "hubspot_owner_id": "enumeration",
        "hs_call_direction": "enumeration",
        "hs_call_status": "enumeration",
        "hs_call_duration": "number",
        "hs_call_disposition": "enumeration",
        "hs_createdate": "datetime",
        "hs_lastmodifieddate": "datetime",
    },
    "emails": {
        "hs_timestamp": "datetime",
        "hubspot_owner_id": "enumeration",
        "hs_email_direction": "enumeration",
        "hs_email_status": "enumeration",
        "hs_createdate": "datetime",
        "hs_lastmodifieddate": "datetime",
    },
    "meetings": {
        "hs_timestamp": "datetime",
        "hubspot_owner_id": "enumeration",
        "hs_meeting_outcome": "enumeration",
        "hs_meeting_start_time": "datetime",
        "hs_meeting_end_time": "datetime",
        "hs_createdate": "datetime",
        "hs_lastmodifieddate": "datetime",
    },
}

RECORD_COLUMNS: dict[str, TColumnSchema] = {
    "id": {"data_type": "text", "nullable": False},
    "archived": {"data_type": "bool"},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp"},
    "archived_at": {"data_type": "timestamp"},
}


def property_columns(kinds: dict[str, str], names: list[str]) -> dict[str, TColumnSchema]:
    """dlt hints for property columns typed by their HubSpot definition, plus the record's."""
    cols: dict[str, TColumnSchema] = {
        n: {"data_type": DLT_TYPE.get(kinds.get(n, ""), "text")}  # type: ignore[typeddict-item]
        for n in names
    }
    return {**cols, **RECORD_COLUMNS}


PROPERTY_COLUMNS: dict[str, TColumnSchema] = {
    "object_type": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text", "nullable": False},
    "label": {"data_type": "text"},
    "type": {"data_type": "text"},
    "field_type": {"data_type": "text"},
    "group_name": {"data_type": "text"},
    "has_unique_value": {"data_type": "bool"},
    "calculated": {"data_type": "bool"},
    "hidden": {"data_type": "bool"},
}
OWNER_COLUMNS: dict[str, TColumnSchema] = {
    "id": {"data_type": "text", "nullable": False},
    "email": {"data_type": "text"},
    "first_name": {"data_type": "text"},
    "last_name": {"data_type": "text"},
    "user_id": {"data_type": "bigint"},
    "type": {"data_type": "text"},
    "archived": {"data_type": "bool"},
}
ASSOC_COLUMNS: dict[str, TColumnSchema] = {
    "from_object_type": {"data_type": "text", "nullable": False},
    "from_id": {"data_type": "text", "nullable": False},
    "to_object_type": {"data_type": "text", "nullable": False},
}
# Declared so `label` exists even when no association carries one (unlabeled edges send null,
# and dlt creates no column for a field that was only ever null).
EDGE_COLUMNS: dict[str, TColumnSchema] = {
    "to_id": {"data_type": "text"},
    "type_id": {"data_type": "bigint"},
    "category": {"data_type": "text"},
    "label": {"data_type": "text"},
}

# Same shape as extract.lms_tables.LMS_TABLES; `nested` hints dlt's child tables.
HUBSPOT_TABLES: dict[str, dict[str, Any]] = {
    **{
        object_type: {
            "primary_key": "id",
            "columns": property_columns(props, list(props)),
        }
        for object_type, props in CONTRACT_PROPERTIES.items()
    },
    "owners": {"primary_key": "id", "columns": OWNER_COLUMNS},
    "properties": {"primary_key": ["object_type", "name"], "columns": PROPERTY_COLUMNS},
    "associations": {
        "primary_key": ["from_object_type", "from_id", "to_object_type"],
        "columns": ASSOC_COLUMNS,
        "nested": {"edges": EDGE_COLUMNS},
    },
}
