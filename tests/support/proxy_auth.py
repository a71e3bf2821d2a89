"""Key check for the test LiteLLM proxy (``general_settings.custom_auth``).

Why: the company proxy has a database of virtual keys and answers an unknown
key with **401**.  A proxy with only ``master_key`` and no database answers
**400 ``no_db_connection``** instead, which would make tests of the bot's
"wrong key" path assert the wrong thing.  LiteLLM calls this function before
its own key logic (``litellm/proxy/auth/user_api_key_auth.py``); an exception
raised here is turned into the HTTP error the client sees
(``litellm/proxy/auth/auth_exception_handler.py``), so raising a 401
``ProxyException`` reproduces production without Postgres/Prisma.

This file runs only inside the proxy process: LiteLLM loads it by file path
from the directory of the proxy's config file (``get_instance_fn``), so
``litellm_proxy.py`` copies it there.  It must import nothing from the tests.
"""

from __future__ import annotations

from fastapi import Request
from litellm.proxy import proxy_server
from litellm.proxy._types import (
    LitellmUserRoles,
    ProxyErrorTypes,
    ProxyException,
    UserAPIKeyAuth,
)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    """Accept the proxy's configured ``master_key`` as an admin; reject anything else with 401.

    ``api_key`` arrives with any ``Bearer `` prefix already stripped by LiteLLM.
    """
    master_key = proxy_server.master_key
    if master_key is not None and api_key == master_key:
        return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN)
    raise ProxyException(
        message="Authentication Error, Invalid proxy server token passed.",
        type=ProxyErrorTypes.auth_error,
        param="api_key",
        code=401,
    )
