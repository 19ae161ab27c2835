"""`generate()`: one streaming pass that writes a whole dataset (docs/contracts.md section 1)."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import orjson
from pydantic import BaseModel

from sandbox.generator.catalog import COURSES
from sandbox.generator.clock import DAY, iso_seconds, lms_time
from sandbox.generator.context import Context
from sandbox.generator.hubspot import write_company, write_owners, write_properties
from sandbox.generator.output import DatasetFiles
from sandbox.generator.people import Block, kind_table
from sandbox.generator.pools import COMPANY_TLDS, build_pools, is_free_or_disposable, slug
from sandbox.generator.rates import MessRates

BAD_ROW_KINDS = ("missing_email", "unknown_event_type", "unparseable_time", "bad_score")
# Share of learners after whom one broken line lands in the history CSV.
BAD_ROW_RATE = 0.004


class Manifest(BaseModel):
    seed: int
    learners: int
    as_of: str
    api_start: str
    counts: dict[str, int]
    bad_csv_rows: int
    bad_csv_reasons: dict[str, int]
    products: dict[str, str]  # certification course id -> product it certifies
    rates: dict[str, float]


def default_as_of() -> datetime:
    """Today's midnight UTC: fresh data for demos, stable within a day for reruns."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _write_courses(ctx: Context) -> None:
    for n, course in enumerate(COURSES):
        created = ctx.as_of - (4 * 365 - n * 20) * DAY
        ctx.files["lms/courses.jsonl"].write(
            {
                "id": course.id,
                "title": course.title,
                "description": f"{course.title}: {', '.join(course.categories)}.",
                "label": None,
                "categories": list(course.categories),
                "access": course.access,
                "author": {"name": "School Team", "image": None},
                "courseImage": None,
                "original_price": course.price,
                "discount_price": 0,
                "final_price": course.price,
                "expires": None,
                "expiresType": None,
                "dripFeed": "none",
                "afterPurchase": {"type": "course", "settings": {"page": None, "url": None}},
                "identifiers": {},
                "created": lms_time(created),
                "modified": lms_time(created + 90 * DAY),
            }
        )


def _bad_history_row(ctx: Context, kind: str) -> None:
    """A deliberately broken history line; the CSV loader must reject exactly these."""
    rng = ctx.rng
    course = rng.choice(COURSES)
    email = f"legacy.user{rng.randrange(10**6)}@example.com"
    when = iso_seconds(ctx.history_start + rng.random() * (ctx.api_start - ctx.history_start))
    row = [email, "", course.id, course.title, "completed", "", when, "learnworlds", ""]
    if kind == "missing_email":
        row[0] = ""
    elif kind == "unknown_event_type":
        row[4] = "teleported"
    elif kind == "unparseable_time":
        row[6] = rng.choice(("last tuesday", "31/02/2021 25:61", "not-a-date"))
    else:
        row[4], row[5] = "assessment_passed", rng.choice(("ninety", "n/a", "8O"))
    ctx.files.history.write(row)
    ctx.bad_csv[kind] = ctx.bad_csv.get(kind, 0) + 1


def _company_name_domain(ctx: Context, used: set[str]) -> tuple[str, str]:
    name = ctx.rng.choice(ctx.pools.company_names)
    base, tld = slug(name)[:30], ctx.rng.choice(COMPANY_TLDS)
    domain, n = f"{base}.{tld}", 1
    while domain in used or is_free_or_disposable(domain):
        n += 1
        domain = f"{base}{n}.{tld}"
    used.add(domain)
    return name, domain


def _clear(out: Path) -> None:
    """Replace an earlier dataset, but never wipe a directory that is something else."""
    if not out.exists():
        return
    if not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists()):
        raise ValueError(f"{out} exists and is not a generated dataset; refusing to overwrite it")
    for sub in ("hubspot", "lms", "history", "ground_truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "manifest.json").unlink(missing_ok=True)


def generate(
    out: Path,
    learners: int,
    seed: int,
    rates: MessRates | None = None,
    as_of: datetime | None = None,
    activity_scale: float = 1.0,
) -> Manifest:
    """Write a dataset of exactly `learners` LMS users into `out` (an earlier dataset there
    is replaced; any other non-empty directory is refused).

    Deterministic for (learners, seed, rates, as_of, activity_scale); as_of defaults to
    today's midnight UTC. activity_scale multiplies each learner's course enrollments (capped
    at the catalogue size), and with them completions, grades, certificates, payments and events.
    """
    if learners < 1:
        raise ValueError("learners must be at least 1")
    if not activity_scale > 0:
        raise ValueError("activity_scale must be greater than 0")
    rates = rates or MessRates()
    as_of = as_of or default_as_of()
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    _clear(out)
    rng = random.Random(seed)
    files = DatasetFiles(out)
    ctx = Context(
        rng=rng,
        pools=build_pools(seed),
        files=files,
        rates=rates,
        as_of=as_of.timestamp(),
        activity_scale=float(activity_scale),
        shapes=random.Random(f"value-shapes-{seed}"),
        profile_seed=str(seed),
        crm=random.Random(f"crm-{seed}"),
    )
    try:
        write_owners(ctx, max(3, learners // 500))
        write_properties(ctx)
        _write_courses(ctx)
        names, cumulative = kind_table(ctx)
        used_domains: set[str] = set()
        written = 0
        while written < learners:
            block = Block(ctx, write_company(ctx, *_company_name_domain(ctx, used_domains)))
            # Company sizes vary a lot; the mean keeps companies near learners / 20.
            size = min(learners - written, 1 + int(rng.expovariate(1 / 19)))
            done = 0
            while done < size:
                kind = rng.choices(names, cum_weights=cumulative)[0]
                done += block.kind(kind)(size - done)
                if rng.random() < BAD_ROW_RATE:
                    _bad_history_row(ctx, rng.choice(BAD_ROW_KINDS))
            written += done
            block.never_learned(int(done * rates.never_learned_contacts + rng.random()))
            block.deals(int(done / 10 + rng.random()))
            if rng.random() < 0.1:
                # A prospect company nobody from has learned yet.
                prospect = Block(ctx, write_company(ctx, *_company_name_domain(ctx, used_domains)))
                prospect.never_learned(rng.randint(1, 3))
                prospect.deals(rng.randint(0, 1))
        for kind in BAD_ROW_KINDS:
            if kind not in ctx.bad_csv:
                _bad_history_row(ctx, kind)
    finally:
        files.close()

    manifest = Manifest(
        seed=seed,
        learners=learners,
        as_of=as_of.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        api_start=iso_seconds(ctx.api_start),
        counts=files.counts(),
        bad_csv_rows=sum(ctx.bad_csv.values()),
        bad_csv_reasons=dict(sorted(ctx.bad_csv.items())),
        products={c.id: c.certifies for c in COURSES if c.certifies},
        rates=rates.model_dump(),
    )
    (out / "manifest.json").write_bytes(
        orjson.dumps(manifest.model_dump(), option=orjson.OPT_INDENT_2)
    )
    return manifest
