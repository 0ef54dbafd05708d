from piccolo.columns import Serial, Timestamptz, Varchar
from piccolo.table import Table


class Open311Key(Table, tablename="open311_key"):
    """The api_key of one other city system that may POST service requests (GeoReport v2).

    Only the key's SHA-256 is kept: a key is 32 random bytes, so its hash cannot be searched
    back, and a copy of the database hands out no key. A revoked key stays, so that the cases
    it made keep naming their system; a system's new key is a new row under the same name.
    """

    id: Serial  # the primary key Piccolo adds

    name = Varchar(length=64, index=True)  # the system's name, set on its cases as source_system
    key_hash = Varchar(length=64, unique=True)  # hex SHA-256 of the key
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
