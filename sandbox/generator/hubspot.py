"""HubSpot records (owners, property definitions, companies, contacts, deals, associations)
in the shape the CRM v3 API returns them; engagements around deals are in engagements.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.generator import profiles
from sandbox.generator.clock import DAY, hubspot_time
from sandbox.generator.context import Context
from sandbox.generator.engagements import write_deal_engagements

LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
)
_LIFECYCLE_WEIGHTS = (10, 35, 20, 10, 10, 15)
OPEN_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
)
# associationTypeIds HubSpot defines (direction matters).
CONTACT_TO_COMPANY_PRIMARY = 1
CONTACT_TO_COMPANY = 279
DEAL_TO_CONTACT = 3
DEAL_TO_COMPANY_PRIMARY = 5
DEAL_TO_COMPANY = 341


@dataclass
class Company:
    id: str
    name: str
    domain: str
    owner_id: str


def _record(rid: str, props: dict[str, Any], created: float, modified: float) -> dict[str, Any]:
    props["hs_object_id"] = rid
    return {
        "id": rid,
        "properties": props,
        "createdAt": hubspot_time(created),
        "updatedAt": hubspot_time(modified),
        "archived": False,
    }


def _assoc(
    ctx: Context, from_type: str, from_id: str, to_type: str, to_id: str, type_id: int
) -> None:
    ctx.files["hubspot/associations.jsonl"].write(
        {
            "from_type": from_type,
            "from_id": from_id,
            "to_type": to_type,
            "to_id": to_id,
            "type_id": type_id,
            "category": "HUBSPOT_DEFINED",
        }
    )


def write_owners(ctx: Context, count: int) -> None:
    rng = ctx.rng
    for n in range(count):
        oid = str(41_000_000 + n * 7919)
        first, last = rng.choice(ctx.pools.first_names), rng.choice(ctx.pools.last_names)
        created = ctx.as_of - rng.uniform(400, 2000) * DAY
        ctx.files["hubspot/owners.jsonl"].write(
            {
                "id": oid,
                "email": f"{first}.{last}@school-sales.biz".lower().replace(" ", ""),
                "type": "PERSON",
                "firstName": first,
                "lastName": last,
                "userId": 9_500_000 + n,
                "userIdIncludingInactive": 9_500_000 + n,
                "createdAt": hubspot_time(created),
                "updatedAt": hubspot_time(created + rng.uniform(0, 300) * DAY),
                "archived": False,
                "teams": [{"id": "368389", "name": "Sales Team", "primary": True}],
            }
        )
        ctx.owner_ids.append(oid)


def write_properties(ctx: Context) -> None:
    stamp = hubspot_time(ctx.as_of - 500 * DAY)
    ctx.files["hubspot/properties.jsonl"].write(
        {
            "objectType": "contacts",
            "name": "lms_user_id",
            "label": "LMS user id",
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
            "description": "The contact's LearnWorlds user id, set by earlier syncs.",
            "displayOrder": -1,
            "options": [],
            "hasUniqueValue": False,
            "hidden": False,
            "formField": False,
            "calculated": False,
            "externalOptions": False,
            "hubspotDefined": False,
            "archived": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "modificationMetadata": {
                "archivable": True,
                "readOnlyDefinition": False,
                "readOnlyValue": False,
                "readOnlyOptions": False,
            },
        }
    )


def write_company(ctx: Context, name: str, domain: str) -> Company:
    rng = ctx.rng
    company = Company(ctx.company_ids.new(), name, domain, rng.choice(ctx.owner_ids))
    created = ctx.as_of - rng.uniform(30, 5 * 365) * DAY
    modified = created + rng.random() * (ctx.as_of - created)
    props = {
        "name": name,
        "domain": domain,
        "industry": rng.choice(ctx.pools.industries),
        "city": rng.choice(ctx.pools.cities),
        "country": rng.choice(ctx.pools.countries),
        "numberofemployees": str(rng.choice((10, 25, 50, 120, 300, 800, 2500))),
        "hubspot_owner_id": company.owner_id,
        "createdate": hubspot_time(created),
        "hs_lastmodifieddate": hubspot_time(modified),
    }
    ctx.files["hubspot/companies.jsonl"].write(_record(company.id, props, created, modified))
    return company


def write_contact(
    ctx: Context,
    first: str,
    last: str,
    email: str,
    *,
    company: Company | None,
    additional: list[str] | None = None,
    lms_user_id: str | None = None,
    near: float | None = None,
) -> str:
    """Write a contact (and its primary company association); return its id."""
    rng = ctx.rng
    cid = ctx.contact_ids.new()
    if near is None:
        created = ctx.as_of - rng.uniform(1, 4 * 365) * DAY
    else:
        created = min(ctx.as_of - 3600, near + rng.uniform(-200, 60) * DAY)
    modified = created + rng.random() * (ctx.as_of - created)
    owner = company.owner_id if company else rng.choice(ctx.owner_ids)
    props: dict[str, Any] = {
        "email": email,
        "firstname": first,
        "lastname": last,
        "lifecyclestage": rng.choices(LIFECYCLE, _LIFECYCLE_WEIGHTS)[0],
        "hubspot_owner_id": owner,
        "createdate": hubspot_time(created),
        "lastmodifieddate": hubspot_time(modified),
    }
    props.update(profiles.hubspot_properties(ctx.profile_seed, email))
    if additional:
        props["hs_additional_emails"] = ";".join(additional)
    if lms_user_id:
        props["lms_user_id"] = lms_user_id
    ctx.files["hubspot/contacts.jsonl"].write(_record(cid, props, created, modified))
    if company is not None:
        # HubSpot stores a primary company as both the Primary label and the unlabeled type.
        _assoc(ctx, "contacts", cid, "companies", company.id, CONTACT_TO_COMPANY_PRIMARY)
        _assoc(ctx, "contacts", cid, "companies", company.id, CONTACT_TO_COMPANY)
    return cid


def write_deal(
    ctx: Context, company: Company, contacts: list[str], anchor: float | None, product: str
) -> None:
    rng = ctx.rng
    did = ctx.deal_ids.new()
    if anchor is None:
        created = ctx.as_of - rng.uniform(5, 300) * DAY
    else:
        # Deals follow learning: opened some days after a contact's activity.
        created = min(anchor + rng.uniform(0.5, 30) * DAY, ctx.as_of - rng.uniform(0.1, 3) * DAY)
    roll = rng.random()
    closedate: float | None = None
    stage = rng.choice(OPEN_STAGES)
    if roll < 0.5:
        close = created + rng.uniform(7, 120) * DAY
        if close < ctx.as_of:
            closedate = close
            stage = "closedwon" if roll < 0.3 else "closedlost"
    modified = max(created, closedate or created) + rng.uniform(0, 2) * DAY
    modified = min(modified, ctx.as_of)
    props: dict[str, Any] = {
        "dealname": f"{company.name} - {product.title()} {rng.choice(('expansion', 'new seats', 'renewal', 'pilot'))}",
        "dealstage": stage,
        "pipeline": "default",
        "createdate": hubspot_time(created),
        "hs_lastmodifieddate": hubspot_time(modified),
        "hubspot_owner_id": company.owner_id,
    }
    if rng.random() < 0.85:
        props["amount"] = str(rng.randint(4, 240) * 500)
    if closedate is not None:
        props["closedate"] = hubspot_time(closedate)
    ctx.files["hubspot/deals.jsonl"].write(_record(did, props, created, modified))
    for contact_id in contacts:
        _assoc(ctx, "deals", did, "contacts", contact_id, DEAL_TO_CONTACT)
    _assoc(ctx, "deals", did, "companies", company.id, DEAL_TO_COMPANY_PRIMARY)
    _assoc(ctx, "deals", did, "companies", company.id, DEAL_TO_COMPANY)
    write_deal_engagements(ctx, contacts, created, closedate, company.owner_id)
