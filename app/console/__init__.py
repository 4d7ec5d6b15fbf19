"""The ops console: server-rendered pages under /console on the admin API's functions.

Included by the app with one line: `app.include_router(console.router)`.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.console import actions, login, pages

router = APIRouter()
router.include_router(login.router)
router.include_router(pages.router)
router.include_router(actions.router)

__all__ = ["router"]
