from piccolo.columns import Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.areas.tables import Area
from backend.people.roles import Role


class Person(Table, tablename="person"):
    name = Varchar(length=64)
    phone = Varchar(length=20, unique=True)
    role = Varchar(length=32, choices=Role, index=True)
    # The area the person works for (staff, admins) or lives in (residents).
    area = ForeignKey(Area, null=True, on_delete=OnDelete.set_null, index=True)
    password_hash = Varchar(length=200, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
