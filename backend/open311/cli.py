"""``wangge open311-key create|list|revoke NAME``: the city admin's Open311 api_keys from the
command line, as ``/api/open311/keys`` serves them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from backend.core.db import make_engine, migrate
from backend.core.errors import ApiError
from backend.core.settings import Settings
from backend.open311 import keys


async def _create(args: argparse.Namespace) -> None:
    made = await keys.create(args.name)
    print(f"api_key for {made.name} (shown this once; only its hash is kept):")
    print(made.api_key)


async def _list(_: argparse.Namespace) -> None:
    for k in await keys.listed():
        state = f"revoked {k.revoked_at}" if k.revoked_at else "live"
        print(f"{k.name}\tcreated {k.created_at}\tlast used {k.last_used_at or 'never'}\t{state}")


async def _revoke(args: argparse.Namespace) -> None:
    await keys.revoke(args.name)
    print(f"revoked the api_key of {args.name}")


def _run(
    action: Callable[[argparse.Namespace], Awaitable[None]],
) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        async def main() -> None:
            await migrate(make_engine(Settings.from_env().database_url))
            await action(args)

        try:
            asyncio.run(main())
        except ApiError as exc:
            sys.exit(f"{exc.reason} [{exc.code}]")

    return run


def add_commands(sub: argparse._SubParsersAction) -> None:
    key = sub.add_parser(
        "open311-key",
        help="issue, list and revoke the api_keys city systems POST Open311 requests with",
    )
    actions = key.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="issue a key to the system NAME (printed once)")
    create.add_argument("name", help="the system's name, shown on its cases as source_system")
    create.set_defaults(func=_run(_create))
    actions.add_parser("list", help="every key: name, created, last used, revoked").set_defaults(
        func=_run(_list)
    )
    revoke = actions.add_parser("revoke", help="revoke the live key of the system NAME")
    revoke.add_argument("name")
    revoke.set_defaults(func=_run(_revoke))
