"""What request handlers get injected: the `Services` built in the lifespan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.runtime.container import Services


def services_of(request: Request) -> Services:
    """For handlers on the hot path, where FastAPI's dependency solving costs
    more than the work (the webhook)."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request)


ServicesDep = Annotated[Services, Depends(get_services)]
