"""``wangge import people FILE``: the city's staff from a roster, checked, then written whole."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from backend.core.commands import column_mapping
from backend.core.db import make_engine, migrate
from backend.core.settings import Settings
from backend.people.checks import RowProblem
from backend.people.importer import NewAccount, PeopleImport, import_people
from backend.people.roster import GUESSES, RosterError, read_roster

_HEADER = ("row", "column", "value", "reason")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def problems_table(problems: Sequence[RowProblem]) -> str:
    """Problems as aligned text (Chinese characters take two columns).

    >>> print(problems_table([RowProblem(3, "手机号", "1380000", "not a mobile number")]))
    row  column  value    reason
    ---  ------  -------  -------------------
    3    手机号  1380000  not a mobile number
    <BLANKLINE>
    1 problem
    """
    if not problems:
        return "no problems"
    rows = [(str(p.row), p.column, p.value, p.reason) for p in problems]
    widths = [max(_width(r[i]) for r in [_HEADER, *rows]) for i in range(len(_HEADER))]
    lines = [
        "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths, strict=True))
        for r in [_HEADER, tuple("-" * w for w in widths), *rows]
    ]
    count = f"{len(problems)} problem" + ("s" if len(problems) > 1 else "")
    return "\n".join(line.rstrip() for line in lines) + "\n\n" + count


def _free_path(base: Path) -> Path:
    """``base``, or ``base`` numbered: an earlier file may hold passwords not yet handed out."""
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.stem}-{n}{base.suffix}")
    return path


def _keeper(path: Path) -> Callable[[list[NewAccount]], None]:
    def keep(accounts: list[NewAccount]) -> None:
        # Created readable by its owner only, never wider even for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8-sig", newline="") as out:  # Excel reads the BOM
            writer = csv.writer(out)
            writer.writerow(["姓名", "手机号", "初始密码"])
            writer.writerows([a.name, a.phone, a.password] for a in accounts)

    return keep


async def _run(args: argparse.Namespace, passwords: Path) -> PeopleImport:
    roster = read_roster(
        args.file, column_mapping(args.map, "canonical=column, e.g. phone=联系方式")
    )
    await migrate(make_engine(Settings.from_env().database_url))
    return await import_people(roster, dry_run=args.dry_run, keep_accounts=_keeper(passwords))


def _print(args: argparse.Namespace, result: PeopleImport, passwords: Path) -> int:
    print(problems_table(result.problems))
    report = Path(args.report or f"{args.file}.report.json")
    body = {"problems": [asdict(p) for p in result.problems], **result.summary()}
    body["passwords"] = str(passwords) if result.accounts else None
    report.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"report: {report}")
    if result.problems:
        print(f"NOT imported: {len(result.problems)} problems; nothing was written")
        return 1
    s = result.summary()
    print(
        f"{s['rows']} rows, {s['people']} people: {s['added']} added, "
        f"{s['changed']} changed, {s['unchanged']} unchanged"
    )
    if args.dry_run:
        print("dry run: nothing was written")
        return 0
    print("imported; people not in the file were left as they were")
    if result.accounts:
        print(f"initial passwords of the {len(result.accounts)} people added: {passwords}")
        print("hand each person their password, then delete that file: it is the only copy")
    return 0


def cmd_import_people(args: argparse.Namespace) -> int:
    passwords = _free_path(Path(f"{args.file}.passwords.csv"))
    try:
        result = asyncio.run(_run(args, passwords))
    except RosterError as error:
        raise SystemExit(f"cannot import {args.file}: {error}") from None
    except BaseException:
        passwords.unlink(missing_ok=True)  # written, but the transaction did not commit
        raise
    return _print(args, result, passwords)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wangge import people",
        description="Add or update the city's staff from a roster (.csv in UTF-8 or GBK, "
        ".xlsx), one row per person and post; all or nothing.",
    )
    p.add_argument("file")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CANONICAL=COLUMN",
        help=f"which column holds {', '.join(GUESSES)} (repeatable)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and compare, write nothing")
    p.add_argument("--report", help="where to write the JSON report (default FILE.report.json)")
    return p


def main(argv: list[str]) -> int:
    return cmd_import_people(parser().parse_args(argv))
