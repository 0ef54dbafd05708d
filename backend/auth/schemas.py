from typing import Annotated

import msgspec

from backend.people.schemas import Me

Phone = Annotated[str, msgspec.Meta(min_length=5, max_length=20, pattern=r"^\+?[0-9-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    phone: Phone
    password: Password


class SignedIn(msgspec.Struct):
    token: str
    token_type: str
    expires_at: int
    person: Me
    # Signed in with a one-time password: change it (POST /api/auth/password) before anything.
    must_change_password: bool = False


# At least 8 characters, as NIST SP 800-63B asks of a password a person chooses.
NewPasswordText = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]


class NewPassword(msgspec.Struct, forbid_unknown_fields=True):
    old_password: Password
    new_password: NewPasswordText
