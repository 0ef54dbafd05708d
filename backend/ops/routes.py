"""``GET /metrics``: Prometheus's text format, for the addresses in ``WANGGE_METRICS_ALLOW``
only. Anyone else gets the 404 of a path that does not exist: the figures (routes, traffic,
sockets) tell an outsider how the city's system is used."""

from __future__ import annotations

import ipaddress

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from prometheus_client import CONTENT_TYPE_LATEST

from backend.core.client import parse_networks
from backend.core.metrics import exposition, sample_all
from backend.ops.backlog import backlog_sampler


def _allowed(request: Request, state: State) -> bool:
    host = request.client.host if request.client else None
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    networks = parse_networks(state.settings.metrics_allow)
    return any(address in network for network in networks)


@get("/metrics", include_in_schema=False)
async def metrics(request: Request, state: State) -> Response[bytes]:
    if not _allowed(request, state):
        raise NotFoundException()
    await sample_all([backlog_sampler(state.engine)])
    body = exposition(state.settings.metrics_dir)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
