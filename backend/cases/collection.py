"""Cases as an OGC API – Features collection, so that a GIS office can map them: anonymous
askers get the public cases (``PUBLIC``: what Open311 publishes too, from here), a signed-in person
also every case they may see in the app (``listing.matching``: their own, their territory's,
their department's). Who reported or handles a case is never served, and mobile numbers in
its text are masked, as for Open311.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.cases.listing import Filters, matching
from backend.cases.public import PRIVATE_GROUPS as PRIVATE_GROUPS
from backend.cases.public import PUBLIC as PUBLIC
from backend.cases.public import STATUS_LABELS
from backend.cases.tables import Case
from backend.core.geojson import Collection
from backend.core.phones import masked_text
from backend.core.principal import Principal


def _scope(asker: Principal | None) -> list[Any]:
    if asker is None:
        return [PUBLIC]
    # The territory as read with the principal: department staff whom no department lists
    # still see the public cases (the app's list refuses them outright).
    (seen,) = matching(Filters(), asker, asker.territory, datetime.now(UTC))
    return [PUBLIC | seen]


def _present(row: dict[str, Any]) -> dict[str, Any]:
    row["description"] = masked_text(row["description"])
    row["address"] = masked_text(row["address"])
    row["status_label"] = STATUS_LABELS.get(row["status"], row["status"])
    return row


CASES = Collection(
    name="cases",
    title="案件 Cases",
    description=(
        "Reported cases at their WGS 84 point: public ones for anyone, and those the asker may "
        "see when signed in (Authorization: Bearer). `datetime` filters by the time reported."
    ),
    table=Case,
    id_column=Case.id,
    properties=(
        Case.id,
        Case.kind,
        Case.category,
        Case.status,
        Case.priority,
        Case.description,
        Case.address,
        Case.grid_code,
        Case.owner_code,
        Case.department,
        Case.created_at,
        Case.updated_at,
        Case.due_at,
        Case.closed_at,
    ),
    geometry="point",
    filters={
        "kind": Case.kind,
        "category": Case.category,
        "status": Case.status,
        "grid_code": Case.grid_code,
        "owner_code": Case.owner_code,
    },
    scope=_scope,
    time_column=Case.created_at,
    present=_present,
)
