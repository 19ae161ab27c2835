"""Unit checks of the store's lazily patched sort indexes against a fresh rebuild."""

from __future__ import annotations

import random

from sandbox.hubspot.propdefs import PropertyRegistry
from sandbox.hubspot.store import Store


def test_patched_index_matches_a_full_rebuild() -> None:
    rng = random.Random(3)
    store = Store(PropertyRegistry())
    recs = [store.create("contacts", {"firstname": f"n{rng.randint(0, 50)}"}) for _ in range(300)]
    store.ordered("contacts", "firstname", descending=False)  # build once
    for _ in range(400):
        rec = rng.choice(recs)
        action = rng.random()
        if action < 0.6:
            store.update("contacts", rec, {"firstname": rng.choice(["", f"n{rng.randint(0, 50)}"])})
        elif action < 0.8 and not rec.archived:
            store.archive("contacts", rec)
        else:
            recs.append(store.create("contacts", {"firstname": f"n{rng.randint(0, 50)}"}))
    patched = store.ordered("contacts", "firstname", descending=False)
    table = store.tables["contacts"]
    table._sorts.clear()  # force a rebuild from the records themselves
    assert patched == store.ordered("contacts", "firstname", descending=False)
    assert len(patched) == len(table.records)
    low = store.range_ids("contacts", "firstname", "n10", "n20")
    expected = sorted(
        (r for r in table.records.values() if "n10" <= r.props.get("firstname", "") <= "n20"),
        key=lambda r: (r.props["firstname"], int(r.id)),
    )
    assert low == [r.id for r in expected]
