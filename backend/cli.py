"""The ``wangge`` command: serve, migrate, load the demo city, import and export."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
from pathlib import Path

from backend.cases.categories import seed_categories
from backend.core.db import make_engine, migrate
from backend.core.roles import Role
from backend.core.settings import Settings

ROLE_ORDER = [
    (Role.city_admin, "市管理员"),
    (Role.district_admin, "区管理员 (海勃湾区)"),
    (Role.street_staff, "街道工作人员"),
    (Role.community_staff, "社区工作人员"),
    (Role.grid_leader, "网格长"),
    (Role.grid_police, "网格警"),
    (Role.grid_worker, "专职网格员"),
    (Role.department, "职能部门工作人员 (海勃湾区 城管)"),
    (Role.resident, "居民"),
]


async def _prepare(settings: Settings, *, demo: bool, reset: bool = False) -> None:
    from backend import demo as demo_data

    engine = make_engine(settings.database_url)
    # Seeded under the migration lock too: processes starting together add each category once.
    await migrate(engine, after=[seed_categories])
    if reset:
        await demo_data.clear_city()
    if demo and await demo_data.is_empty():
        from geo.demo import build_demo_city

        print("building the demo city of 乌海市 …", flush=True)
        counts = await demo_data.load_city(build_demo_city())
        print("loaded: " + ", ".join(f"{v} {k}" for k, v in counts.items()), flush=True)


def _print_welcome(settings: Settings) -> None:
    from backend.demo import DEMO_PASSWORD
    from geo.demo import DEMO_ACCOUNTS

    url = f"http://{settings.host}:{settings.port}"
    print(f"\nWangge is starting on {url}  (API docs: {url}/schema)\n")
    print(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for role, label in ROLE_ORDER:
        print(f"  {DEMO_ACCOUNTS[role]}  {role:<16} {label}")
    print(flush=True)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from backend.core.logs import uvicorn_log_config

    settings = Settings.from_env()
    if args.workers > 1 and settings.is_sqlite:
        sys.exit(
            "several workers need PostgreSQL (DATABASE_URL=postgresql://…): SQLite has one writer"
        )
    asyncio.run(_prepare(settings, demo=args.demo))
    if args.demo:
        _print_welcome(settings)
    if args.workers > 1 and settings.metrics_dir is None:
        # Workers share the port, so a scrape reaches any one of them: their figures go to a
        # folder they all write and any one answers for all (backend/core/metrics.py). Set
        # before the workers start; emptied of a previous run's dead processes.
        folder = settings.data_dir / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(mode=0o700, parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())
    json_logs = settings.log_format == "json"
    uvicorn.run(
        "backend.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=args.workers,
        # Forwarded headers are read by the app from WANGGE_TRUSTED_PROXIES only
        # (backend/core/client.py); uvicorn's own reading trusts loopback by default.
        proxy_headers=False,
        log_level="info",
        # JSON lines from the first one; the access lines, with durations, come from the app.
        log_config=uvicorn_log_config() if json_logs else LOGGING_CONFIG,
        access_log=not json_logs,
        # Small JSON messages to thousands of sockets: per-socket deflate cost ~5x the fan-out
        # CPU (bench/positions.py) for a few bytes saved. Pings stay on: they find dead phones.
        ws_per_message_deflate=False,
        # On SIGTERM live sockets are closed with 1012 at once (clients resume elsewhere); the
        # requests in hand get this long to finish.
        timeout_graceful_shutdown=settings.shutdown_timeout_s,
    )


def cmd_migrate(_: argparse.Namespace) -> None:
    asyncio.run(_prepare(Settings.from_env(), demo=False))
    print("schema is up to date")


def cmd_init(args: argparse.Namespace) -> None:
    from backend.people.founding import NotEmpty, check_founding, found_city

    settings = Settings.from_env()
    name = args.city_name or args.city_code

    async def init() -> str:
        await _prepare(settings, demo=False)
        return await found_city(args.city_code, name, args.admin_phone, args.admin_name)

    try:
        check_founding(args.city_code, args.admin_phone, args.admin_name)
        password = asyncio.run(init())
    except (ValueError, NotEmpty) as exc:
        print(f"wangge init: {exc}", file=sys.stderr)
        sys.exit(2)
    print(f"city {args.city_code} ({name}) is ready; its city admin {args.admin_name}")
    print(f"  signs in with phone {args.admin_phone} and the one-time password {password}")
    print("  (shown this once; it must be changed at the first sign-in)")


def cmd_demo(args: argparse.Namespace) -> None:
    asyncio.run(_prepare(Settings.from_env(), demo=True, reset=args.reset))


def cmd_backup(args: argparse.Namespace) -> None:
    from backend.ops.backup import BackupError, backup

    try:
        manifest = backup(Settings.from_env(), args.path)
    except BackupError as exc:
        sys.exit(f"wangge backup: {exc}")
    print(f"backed up the {manifest['database']} database and the data folder to {args.path}")


def cmd_restore(args: argparse.Namespace) -> None:
    from backend.ops.backup import BackupError, restore

    try:
        manifest = asyncio.run(restore(Settings.from_env(), args.path, force=args.force))
    except BackupError as exc:
        sys.exit(f"wangge restore: {exc}")
    print(f"restored the backup of {manifest['created']}; `wangge migrate` brings it up to date")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wangge", description="Wangge (网格) grid governance platform")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the API and the field app")
    serve.add_argument(
        "--demo", action="store_true", help="load the demo city if the database is empty"
    )
    serve.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL only)")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )

    backup = sub.add_parser(
        "backup", help="the database, photos and secret key into one archive (while serving)"
    )
    backup.add_argument("path", type=Path, help="the archive to write: wangge-2026-12-07.tar")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="a backup's database and files, servers stopped")
    restore.add_argument("path", type=Path, help="an archive written by wangge backup")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds a city"
    )
    restore.set_defaults(func=cmd_restore)

    init = sub.add_parser(
        "init", help="a real city from nothing: its area and its first city admin"
    )
    init.add_argument("--city-code", required=True, help="the city's GB/T 2260 code: 150300")
    init.add_argument("--city-name", default="", help="乌海市 (the areas import may rename it)")
    init.add_argument("--admin-phone", required=True, help="the city admin's mobile")
    init.add_argument("--admin-name", required=True, help="the city admin's name")
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="load the demo city into the configured database")
    demo.add_argument("--reset", action="store_true", help="remove the city's rows first")
    demo.set_defaults(func=cmd_demo)

    from backend.imports.cli import add_commands

    add_commands(sub)
    from backend.open311.cli import add_commands as add_open311_commands

    add_open311_commands(sub)
    sub.choices["import"].epilog = "Staff rosters: wangge import people FILE (see its --help)."
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["import", "people"]:
        # A roster is no layer: its own options, beside the layer kinds of `wangge import`.
        from backend.people.cli import main as import_people

        sys.exit(import_people(argv[2:]))
    args = parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
