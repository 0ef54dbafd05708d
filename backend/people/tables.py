from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.areas.tables import Area
from backend.core.roles import Role


class Person(Table, tablename="person"):
    id: Serial  # the primary key Piccolo adds
    name = Varchar(length=64)
    phone = Varchar(length=20, unique=True)
    role = Varchar(length=32, choices=Role, index=True)
    # The area the person works for (staff, admins) or lives in (residents).
    area = ForeignKey(Area, null=True, on_delete=OnDelete.set_null, index=True)
    password_hash = Varchar(length=200, secret=True)
    active = Boolean(default=True)
    created_at = Timestamptz()
    # Tokens carry the generation they were issued in; raising it (a new password, a
    # deactivation) voids every token of the person at once (backend/auth/revocation.py).
    token_generation = Integer(default=0)
    # Set with a password someone else chose (an admin's create or reset, a roster import):
    # until the person picks their own, the API answers them nothing else (backend/auth/).
    must_change_password = Boolean(default=False)


class RevokedToken(Table, tablename="revoked_token"):
    """A token signed out before its expiry; the row is useless, and deleted, after it."""

    id: Serial  # the primary key Piccolo adds

    jti = Varchar(length=32, unique=True)
    person = ForeignKey(Person, null=False, on_delete=OnDelete.cascade)
    expires_at = Timestamptz()
