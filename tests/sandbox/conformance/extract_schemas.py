"""Refresh `hubspot-openapi/`: the parts of HubSpot's OpenAPI specs the conformance tests use.

HubSpot publishes an OpenAPI 3 description per CRM API. `test_hubspot_conformance.py` checks
the emulator's responses against the response schemas of a few operations; this keeps, per
spec, only those operations' `responses` and the components they reference (transitively),
so the tests run from the repository alone.

    uv run --frozen python -m tests.sandbox.conformance.extract_schemas SPEC_DIR

SPEC_DIR holds the full specs (`contacts.json`, `objects.json`, ...). A test that checks a
new operation needs it added to OPERATIONS and this script rerun.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent / "hubspot-openapi"

CONTACTS = "/crm/v3/objects/contacts"
PROPERTIES = "/crm/v3/properties/{objectType}"
PIPELINES = "/crm/v3/pipelines/{objectType}"
TIMELINE = "/integrators/timeline/v3"
TEMPLATES = TIMELINE + "/{appId}/event-templates"

# spec name -> (path, method) whose responses the tests validate against.
OPERATIONS: dict[str, list[tuple[str, str]]] = {
    "contacts": [
        (CONTACTS, "get"),
        (CONTACTS, "post"),
        (CONTACTS + "/{contactId}", "get"),
        (CONTACTS + "/{contactId}", "patch"),
        (CONTACTS + "/merge", "post"),
        (CONTACTS + "/search", "post"),
        (CONTACTS + "/batch/read", "post"),
        (CONTACTS + "/batch/create", "post"),
        (CONTACTS + "/batch/update", "post"),
        (CONTACTS + "/batch/upsert", "post"),
    ],
    "objects": [
        ("/crm/v3/objects/{objectType}", "get"),
        ("/crm/v3/objects/{objectType}/{objectId}", "get"),
    ],
    "deals": [("/crm/v3/objects/0-3/{dealId}", "get")],
    "companies": [("/crm/v3/objects/companies", "get")],
    "tasks": [("/crm/v3/objects/tasks", "get")],
    "notes": [("/crm/v3/objects/notes", "get")],
    "properties": [
        (PROPERTIES, "get"),
        (PROPERTIES, "post"),
        (PROPERTIES + "/{propertyName}", "get"),
        (PROPERTIES + "/groups", "get"),
        (PROPERTIES + "/groups", "post"),
        (PROPERTIES + "/batch/read", "post"),
    ],
    "associations-v4": [
        ("/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read", "post"),
        ("/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}", "get"),
    ],
    "associations-schema-v4": [
        ("/crm/v4/associations/{fromObjectType}/{toObjectType}/labels", "get"),
    ],
    "owners": [("/crm/v3/owners", "get"), ("/crm/v3/owners/{ownerId}", "get")],
    "pipelines": [
        (PIPELINES, "get"),
        (PIPELINES + "/{pipelineId}", "get"),
        (PIPELINES + "/{pipelineId}/stages", "get"),
    ],
    "timeline": [
        (TIMELINE + "/events", "post"),
        (TIMELINE + "/events/batch/create", "post"),
        (TIMELINE + "/events/{eventTemplateId}/{eventId}", "get"),
        (TEMPLATES, "get"),
        (TEMPLATES, "post"),
        (TEMPLATES + "/{eventTemplateId}", "get"),
        (TEMPLATES + "/{eventTemplateId}", "put"),
        (TEMPLATES + "/{eventTemplateId}/tokens", "post"),
        (TEMPLATES + "/{eventTemplateId}/tokens/{tokenName}", "put"),
    ],
}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def extract(spec: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, Any]:
    """The operations' responses plus every component they reach through `$ref`."""
    paths: dict[str, Any] = {}
    for path, method in operations:
        responses = spec["paths"][path][method]["responses"]
        paths.setdefault(path, {})[method] = {"responses": responses}
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        kind, name = ref.removeprefix("#/components/").split("/", 1)
        if name in components.get(kind, {}):
            continue
        node = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        pending.extend(_refs(node))
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "x-lmsbridge-extract": "responses of the operations the conformance tests check; "
        "see ../extract_schemas.py",
        "paths": paths,
        "components": {kind: dict(sorted(items.items())) for kind, items in components.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, help="directory holding HubSpot's full specs")
    args = parser.parse_args()
    OUT_DIR.mkdir(exist_ok=True)
    for name, operations in OPERATIONS.items():
        spec = json.loads((args.spec_dir / f"{name}.json").read_text())
        out = OUT_DIR / f"{name}.json"
        out.write_text(json.dumps(extract(spec, operations), indent=1, ensure_ascii=False) + "\n")
        print(f"{out.name}: {len(operations)} operations, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
