"""Steps shared by the case tests that go through HTTP: signing the demo accounts in, a
department officer to sign in as, and driving a case into a given status with the actions a
real grid would take."""

from __future__ import annotations

import functools
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.areas.tables import Area
from backend.auth.passwords import hash_password
from backend.cases.tables import Department, DepartmentMember
from backend.demo import DEMO_PASSWORD
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

DEPARTMENT_PHONE = "13900000010"  # a 城管 officer of 海勃湾区, made by add_department_officer
DISTRICT = DEMO_GRID_CODE[:6]
STREET = DEMO_GRID_CODE[:9]
COMMUNITY = DEMO_GRID_CODE[:12]
ROLES = (
    "resident",
    "grid_worker",
    "grid_police",
    "grid_leader",
    "community_staff",
    "street_staff",
    "district_admin",
    "city_admin",
    "department",
)
REVIEW = (date.today() + timedelta(days=30)).isoformat()


@functools.cache
def demo_password_hash() -> str:
    """The demo password's hash, made once: Argon2id costs tens of milliseconds a time."""
    return hash_password(DEMO_PASSWORD)


def demo_spot(demo_city: Any, code: str = DEMO_GRID_CODE) -> tuple[float, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[code].geometry)
    return p.x, p.y


async def add_department_officer(
    code: str | None = "cg", area: str | None = DISTRICT, phone: str = DEPARTMENT_PHONE
) -> int:
    """A person with the role ``department`` serving ``code`` (in ``area``; of no department
    if ``code`` is None), before the app that will sign them in starts."""
    area_id = None
    if area is not None:
        area_id = (await Area.select(Area.id).where(Area.code == area).first())["id"]
    person = Person(
        name="城管执法队员",
        phone=phone,
        role="department",
        area=area_id,
        password_hash=demo_password_hash(),
        active=True,
        created_at=datetime.now(UTC),
    )
    await person.save()
    if code is None:
        return person.id
    department = await Department.select(Department.id).where(Department.code == code).first()
    await DepartmentMember.insert(DepartmentMember(person=person.id, department=department["id"]))
    return person.id


@dataclass
class Session:
    headers: dict[str, str]
    person_id: int


async def sign_in(client: AsyncTestClient, role: str, phone: str | None = None) -> Session:
    """Sign in as the demo account of ``role`` (the officer of add_department_officer for
    "department"), or as the person with ``phone``."""
    phone = phone or (DEPARTMENT_PHONE if role == "department" else DEMO_ACCOUNTS[role])
    r = await client.post("/api/auth/sign-in", json={"phone": phone, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    return Session({"Authorization": f"Bearer {body['token']}"}, body["person"]["id"])


def report_body(spot: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "3号楼前路灯不亮",
        "lon": spot[0],
        "lat": spot[1],
        "contact_phone": "13812345678",
        **extra,
    }


# The steps from a new case to each status: (who, action, body). "@role" in a body is that
# role's person id. "extension" is handling with an extension request pending.
_TO_HANDLING = [
    ("grid_leader", "accept", {}),
    ("grid_leader", "dispatch", {"assignee": "@grid_worker"}),
    ("grid_worker", "start", {}),
]
PATHS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "submitted": [],
    "accepted": _TO_HANDLING[:1],
    "dispatched": _TO_HANDLING[:2],
    "handling": _TO_HANDLING,
    "extension": [
        *_TO_HANDLING,
        ("grid_worker", "request_extension", {"extension_hours": 24, "reason": "等配件"}),
    ],
    "handled": [*_TO_HANDLING, ("grid_worker", "handle", {"result": "已更换灯泡"})],
    "verified": [
        *_TO_HANDLING,
        ("grid_worker", "handle", {"result": "已更换灯泡"}),
        ("grid_leader", "verify", {}),
    ],
    "closed": [
        *_TO_HANDLING,
        ("grid_worker", "handle", {"result": "已更换灯泡"}),
        ("grid_leader", "verify", {}),
        ("grid_leader", "close", {}),
    ],
    "shelved": [
        *_TO_HANDLING[:1],
        ("grid_leader", "request_shelve", {"reason": "需立项改造", "review_date": REVIEW}),
        ("community_staff", "approve", {}),
    ],
    # Handling, with the worker's request to return it waiting for the owner's decision.
    "return_requested": [
        *_TO_HANDLING,
        ("grid_worker", "request_return", {"reason": "不属于本网格"}),
    ],
    # Accepted, with the grid leader's request to void it waiting for a level above.
    "void_requested": [
        *_TO_HANDLING[:1],
        ("grid_leader", "request_void", {"reason": "重复上报"}),
    ],
    # Accepted by the grid, then sent to its community (移交), which has yet to answer.
    "transfer_requested": [
        *_TO_HANDLING[:1],
        ("grid_leader", "transfer", {"reason": "不属于本网格", "target_code": COMMUNITY}),
    ],
    # Handling, then paused (挂起) at the worker's request with the leader's approval.
    "paused": [
        *_TO_HANDLING,
        ("grid_worker", "pause", {"reason": "等待配件到货"}),
        ("grid_leader", "approve", {}),
    ],
    # Up to the street, then to the district's 城管 (a department is a street's to call).
    "department": [
        ("grid_leader", "accept", {}),
        ("grid_leader", "escalate", {"reason": "需社区协调"}),
        ("community_staff", "escalate", {"reason": "需街道协调"}),
        ("street_staff", "dispatch", {"department": "cg"}),
    ],
    "department_handling": [
        ("grid_leader", "accept", {}),
        ("grid_leader", "escalate", {"reason": "需社区协调"}),
        ("community_staff", "escalate", {"reason": "需街道协调"}),
        ("street_staff", "dispatch", {"department": "cg"}),
        ("department", "start", {}),
    ],
}


class Driver:
    """Takes cases through the workflow over HTTP as the demo accounts."""

    def __init__(self, client: AsyncTestClient, sessions: dict[str, Session]) -> None:
        self.client = client
        self.sessions = sessions

    def body(self, template: dict[str, Any]) -> dict[str, Any]:
        return {
            k: self.sessions[v[1:]].person_id if isinstance(v, str) and v.startswith("@") else v
            for k, v in template.items()
        }

    async def report(self, spot: tuple[float, float], role: str = "resident", **extra: Any) -> int:
        r = await self.client.post(
            "/api/cases", json=report_body(spot, **extra), headers=self.sessions[role].headers
        )
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def act(self, role: str, case_id: int, action: str, **template: Any):
        """``action`` as ``role``, from the case's current version unless one is given."""
        if "version" not in template:
            template["version"] = await self.version(case_id)
        return await self.client.post(
            f"/api/cases/{case_id}/transitions",
            json={"action": action, **self.body(template)},
            headers=self.sessions[role].headers,
        )

    async def version(self, case_id: int) -> int:
        """The case's version, read by whoever of the driver's people may read it (a role
        that may not act on it is refused by the transition itself)."""
        roles = sorted(self.sessions, key=lambda role: role != "city_admin")
        for role in roles:
            r = await self.client.get(f"/api/cases/{case_id}", headers=self.sessions[role].headers)
            if r.status_code == 200:
                return r.json()["version"]
        return 1

    async def drive(self, case_id: int, status: str) -> None:
        for role, action, template in PATHS[status]:
            r = await self.act(role, case_id, action, **template)
            assert r.status_code == 200, (status, role, action, r.text)

    async def photo(self, role: str, case_id: int) -> str:
        """A photo taken on the spot by ``role``, added to the case: its id."""
        out = io.BytesIO()
        Image.effect_noise((64, 48), 64).convert("RGB").save(out, "JPEG")
        r = await self.client.post(
            f"/api/cases/{case_id}/photos",
            files={"file": ("spot.jpg", out.getvalue(), "image/jpeg")},
            headers=self.sessions[role].headers,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def case(self, case_id: int, role: str = "city_admin") -> dict[str, Any]:
        r = await self.client.get(f"/api/cases/{case_id}", headers=self.sessions[role].headers)
        assert r.status_code == 200, r.text
        return r.json()
