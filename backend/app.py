"""The one app factory: settings → engine, routes, error table, lifespan."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.types import (
    ASGIApp,
    LifeSpanReceive,
    LifeSpanScope,
    LifeSpanSend,
    Receive,
    Scope,
    Send,
)

from backend.areas.routes import AreasController
from backend.assessment.routes import AssessmentController
from backend.auth.principal import provide_principal
from backend.auth.routes import AuthController
from backend.auth.sign_up import SignUpController
from backend.calendar.routes import CalendarController
from backend.cases.anonymous_routes import AnonymousCasesController
from backend.cases.category_routes import CategoriesController
from backend.cases.claim_routes import CaseClaimController
from backend.cases.departments import departments
from backend.cases.list_routes import CaseListController
from backend.cases.photo_routes import PhotosController
from backend.cases.routes import CasesController
from backend.cases.scheduler import Scheduler
from backend.collections.routes import CollectionsController
from backend.core.client import parse_networks, trusted_client
from backend.core.compression import gzip_answers
from backend.core.db import close_pool, make_engine, open_pool, use_engine
from backend.core.errors import EXCEPTION_HANDLERS
from backend.core.headers import SecurityHeaders
from backend.core.log_redaction import redact_server_logs
from backend.core.logs import configure_logging
from backend.core.metrics import measured, metrics_lifespan
from backend.core.middleware import reject_nul
from backend.core.openapi_errors import document_errors
from backend.core.ratelimit import Limiter
from backend.core.request import WanggeRequest
from backend.core.settings import Settings
from backend.core.shedding import shedding
from backend.core.spa import app_path, app_shell, root
from backend.emergency.routes import EmergencyController
from backend.geocode.routes import GeocodeController
from backend.geocode.service import Geocoder
from backend.grids.routes import GridsController
from backend.grids.service import load_grid_index
from backend.health.routes import client_config, health
from backend.hotline.routes import HotlineController
from backend.imports.routes import ExportController, ImportsController
from backend.live import socket as live_socket
from backend.live.lifespan import live_lifespan
from backend.notify.routes import NoticesController, PushController
from backend.notify.sender import Sender
from backend.open311.routes import Open311Controller, Open311KeysController, http_error
from backend.ops.backlog import backlog_sampler
from backend.ops.routes import metrics
from backend.party.routes import PartyController
from backend.people.routes import GridPostsController, PeopleController
from backend.points.routes import PointsController
from backend.positions.lifespan import positions_lifespan
from backend.positions.routes import PatrolController, PositionsController
from backend.tasks.routes import TaskItemsController, TaskPhotosController, TasksController

VERSION = "0.1.0"


class Wangge(Litestar):
    """The app: Litestar, but a live socket's WebSocket (backend/live/socket.py) goes straight
    to its handler, with the server's own ``send``; HTTP through Litestar timed by ``http``
    (backend/core/metrics.py); the rest through Litestar."""

    live: ASGIApp
    http: ASGIApp

    async def __call__(
        self,
        scope: Scope | LifeSpanScope,
        receive: Receive | LifeSpanReceive,
        send: Send | LifeSpanSend,
    ) -> None:
        if scope["type"] == "websocket" and live_socket.is_live(scope):
            await self.live(scope, cast(Receive, receive), cast(Send, send))
        elif scope["type"] == "http":
            await self.http(scope, cast(Receive, receive), cast(Send, send))
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = (settings or Settings.from_env()).with_secret()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        use_engine(engine)
        await open_pool(engine)
        try:
            app.state.grid_index = await load_grid_index()
            # Stopped before the pool closes: a run in progress commits first.
            async with Scheduler(settings.escalation_interval_s), Sender(settings):
                yield
        finally:
            await close_pool(engine)

    trusted = trusted_client(parse_networks(settings.trusted_proxies))
    app = Wangge(
        route_handlers=[
            health,
            client_config,
            metrics,
            AuthController,
            SignUpController,
            AreasController,
            CalendarController,
            CasesController,
            CaseClaimController,
            AnonymousCasesController,
            HotlineController,
            GeocodeController,
            departments,
            Open311Controller,
            Open311KeysController,
            CategoriesController,
            CaseListController,
            PhotosController,
            GridsController,
            GridPostsController,
            PeopleController,
            PointsController,
            PartyController,
            PositionsController,
            PatrolController,
            CollectionsController,
            ImportsController,
            ExportController,
            EmergencyController,
            TasksController,
            TaskItemsController,
            TaskPhotosController,
            AssessmentController,
            PushController,
            NoticesController,
            live_socket.live,
            root,
            app_shell,
            app_path,
        ],
        state=State(
            {
                "settings": settings,
                "engine": engine,
                "limiter": Limiter(settings),
                "geocoder": Geocoder(),
            }
        ),
        dependencies={"principal": Provide(provide_principal)},
        middleware=[trusted, reject_nul],
        # A hook, not a middleware: it must also see the 404s and 405s of no route.
        before_send=[SecurityHeaders(settings.basemap_url)],
        request_class=WanggeRequest,
        # Litestar's own errors (no route, wrong method) keep Open311's shape under /open311/.
        exception_handlers={**EXCEPTION_HANDLERS, HTTPException: http_error},
        # Entered in order, left in reverse: positions flush before the pool closes.
        lifespan=[
            lifespan,
            metrics_lifespan(engine, backlog_sampler(engine)),
            live_lifespan(settings),
            positions_lifespan(settings),
        ],
        openapi_config=OpenAPIConfig(
            title="Wangge API",
            version=VERSION,
            description="网格化服务管理: areas, grids, buildings, people and service points.",
            path="/schema",
        ),
        logging_config=None,
    )
    document_errors(app)

    async def live(scope: Scope, receive: Receive, send: Send) -> None:
        await live_socket.serve(app, scope, receive, send)

    # The app's own middleware, as Litestar would run it (they act once, on the connection).
    app.live = trusted(reject_nul(live))
    litestar = cast(ASGIApp, functools.partial(Litestar.__call__, app))
    # Shed before anything else runs: an overloaded process refuses in microseconds.
    # Gzip where it pays (backend/core/compression.py): an answer that fits in one TCP segment
    # saves no packet; photos are compressed already.
    zipped = gzip_answers(litestar, minimum_size=1400, exclude=("/api/photos",))
    app.http = shedding(
        measured(zipped, access_log=settings.log_format == "json"), settings.max_in_flight
    )
    return app


def create_app_from_env() -> Litestar:
    """Factory for ``uvicorn --factory``: each worker process reads the same environment."""
    settings = Settings.from_env()
    configure_logging(settings.log_format)
    # uvicorn has set up its loggers by now (in this worker too): filter what they write.
    redact_server_logs()
    return create_app(settings)
