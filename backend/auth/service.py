"""What other features use of sign-in: the person behind a token (the live socket reads them
when it connects and again before it subscribes; a grid's page tells staff from visitors), a
person read as a principal (whose patrol log is asked for), passwords and revocations for the
staff import, and the revocation events the live hub follows to close sockets."""

from backend.auth.passwords import hash_password as hash_password
from backend.auth.principal import authenticate as authenticate
from backend.auth.principal import bearer_token as bearer_token
from backend.auth.principal import forget_people as forget_people
from backend.auth.principal import forget_token as forget_token
from backend.auth.principal import forgets as forgets
from backend.auth.principal import principal_for as principal_for
from backend.auth.principal import principal_from_token as principal_from_token
from backend.auth.principal import principal_of as principal_of
from backend.auth.revocation import Revoked as Revoked
from backend.auth.revocation import forget as forget
from backend.auth.revocation import raise_generations as raise_generations
from backend.auth.tokens import TokenClaims as TokenClaims
