"""The reference of bench/cases.py: a bare Litestar endpoint that writes one SQLite row.

Same durability as the product's writes (WAL, ``synchronous=NORMAL``, see
backend/core/sqlite_engine.py) and the same uvicorn settings as ``wangge serve`` (backend/cli.py),
so the two differ only by what the product does per request.
"""

from __future__ import annotations

import os
import sqlite3
import uuid

import uvicorn
from litestar import Litestar, post

DB = os.environ["BARE_DB"]


def _connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS row (id INTEGER PRIMARY KEY, client_id TEXT, body TEXT)")
    return db


DATABASE = _connect()


@post("/rows", status_code=201, sync_to_thread=True)
def write_row(data: dict) -> dict:
    client_id = str(data.get("client_id") or uuid.uuid4())
    cursor = DATABASE.execute(
        "INSERT INTO row (client_id, body) VALUES (?, ?)", (client_id, data.get("description", ""))
    )
    return {"id": cursor.lastrowid, "client_id": client_id}


app = Litestar([write_row])

if __name__ == "__main__":
    # As cmd_serve runs the product: one process, proxy headers, info logging (access log on).
    uvicorn.run(
        "bench._bare_app:app",
        host="127.0.0.1",
        port=int(os.environ["BARE_PORT"]),
        proxy_headers=True,
        log_level="info",
    )
