"""Piccolo's PostgreSQL engine, with a transaction that always gives its connection back.

Piccolo's transaction keeps its pooled connection when BEGIN, COMMIT or ROLLBACK fails, which
is what happens when the server drops the connection (a restart, a failover, a terminated
backend). Each such failure took one connection out of the pool for good; once all were taken,
every request waited forever, and closing the pool at shutdown did too. Here the connection
goes back to the pool whatever fails (asyncpg closes a broken one and opens a new one later).
"""

from __future__ import annotations

import logging
from typing import Any

from piccolo.engine import PostgresEngine
from piccolo.engine.postgres import PostgresTransaction

log = logging.getLogger("wangge.db")


class _Transaction(PostgresTransaction):
    """Piccolo's transaction, but its connection goes back to the pool whatever fails.

    One inside another joins it, as Piccolo's do; one committed or rolled back by hand is not
    ended again."""

    def __init__(self, engine: PostgresEngine, allow_nested: bool = True) -> None:
        super().__init__(engine, allow_nested=allow_nested)
        self.outer = engine.current_transaction.get()
        self.ended = False

    async def __aenter__(self) -> PostgresTransaction:
        if self.outer is not None:
            return self.outer
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self.outer is not None:
            return exception is None
        try:
            if not self.ended:
                await self._end(exception)
        finally:
            try:
                await self._give_back()
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _end(self, exception: BaseException | None) -> None:
        if exception is None:
            await self.commit()
            return
        try:
            await self.rollback()
        except Exception as exc:
            # Most likely the connection is gone, and the server has rolled back with it; the
            # failure that ended the transaction is the one to report.
            log.warning("rollback failed after %r: %r", exception, exc)

    async def commit(self) -> None:
        await super().commit()
        self.ended = True

    async def rollback(self) -> None:
        await super().rollback()
        self.ended = True

    async def _give_back(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception as exc:
            # asyncpg has closed a connection it could not reset, and its place in the pool is
            # free again: nothing for the request to answer about (it may have committed).
            log.warning("a connection could not be given back cleanly: %r", exc)


class SafePostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _Transaction(engine=self, allow_nested=allow_nested)
