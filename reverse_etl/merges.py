"""Re-point confirmed contact state at the contact HubSpot merged it into.

HubSpot merges remove the secondary contact; its id only lives on in the survivor's
hs_merged_object_ids (dbt: intermediate.int_contact_merges, chains resolved). sync_state
still names the old id, and it confirmed our properties on a record that is gone: the
survivor kept its own values where it had any. So a re-pointed record is treated as never
confirmed there, and the next run sends the survivor one full copy of our properties.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from lmsbridge_core.warehouse import table_exists
from reverse_etl.plan import ConfirmedState

MERGES_SCHEMA = "intermediate"
MERGES_TABLE = "int_contact_merges"


def load_merges(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """merged-away contact id -> survivor id; empty before the first dbt build."""
    if not table_exists(con, MERGES_SCHEMA, MERGES_TABLE):
        return {}
    rows = con.execute(
        f'select merged_contact_id, survivor_contact_id from "{MERGES_SCHEMA}"."{MERGES_TABLE}"'
    ).fetchall()
    return {str(merged): str(survivor) for merged, survivor in rows}


def repoint(
    state: Mapping[str, ConfirmedState], merges: Mapping[str, str]
) -> tuple[dict[str, ConfirmedState], int]:
    """(state with merged-away hubspot ids replaced by their survivor, how many moved).

    A moved record keeps no row hash or properties: what we confirmed was on the merged-away
    record, and the survivor's values are not known to match it."""
    moved = 0
    result: dict[str, ConfirmedState] = {}
    for key, confirmed in state.items():
        survivor = merges.get(confirmed.hubspot_id) if confirmed.hubspot_id else None
        if survivor is None:
            result[key] = confirmed
            continue
        result[key] = ConfirmedState(survivor, "", {})
        moved += 1
    return result, moved
