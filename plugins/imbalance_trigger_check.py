"""Trigger mistakes stopped before a run exists: the api-server checks a retraining DAG's conf and answers 400.

Airflow validates each Param on its own but lets unknown keys through and cannot express a rule across keys
(``force`` needs ``force_reason``), so such a run used to be created, fail in ``prepare`` and show as a failed run.
This root middleware sits in front of ``POST /api/v2/dags/retrain_<name>/dagRuns`` (what the trigger form and the
REST API call), runs the same :func:`imbalance_trigger_params.check_conf` as the ``prepare`` task, and refuses
the request with the one-line reason, e.g. ``unknown conf key(s) 'dryrun' (did you mean 'dry_run'?) ...``.
Anything it cannot judge (another DAG, a body that is not JSON, an unknown pipeline) passes through unchanged, and
so does a request without a valid Airflow token: Airflow answers it (401/403) and an anonymous caller learns
nothing about the pipeline's parameters.
"""

from __future__ import annotations

import json
import re
from typing import Any

from imbalance_trigger_params import RunConfError, check_conf

__all__ = ["TriggerConfCheck", "conf_problem"]

_TRIGGER = re.compile(r"/api/v2/dags/retrain_(?P<name>[^/]+)/dagRuns/?$")


def conf_problem(path: str, body: bytes) -> str | None:
    """The reason a trigger request's conf is refused, or None when it is fine or not ours to judge."""
    match = _TRIGGER.search(path)
    if not match:
        return None
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None
    conf = payload.get("conf") if isinstance(payload, dict) else None
    from imbalance_models_view import pipeline_configs

    config = pipeline_configs().get(match.group("name"))
    if config is None or not isinstance(conf, dict | None):
        return None
    try:
        check_conf(config, conf or {})
    except RunConfError as exc:
        return f"conf of retrain_{config.name}: {exc}"
    return None


class TriggerConfCheck:
    """Pure ASGI middleware: buffers the body of trigger requests only, replays it to the app when accepted."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("method") != "POST" or not _TRIGGER.search(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = conf_problem(scope["path"], body) if await _authenticated(scope) else None
        if problem is not None:
            await _answer(send, 400, {"detail": problem})
            return
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _authenticated(scope: dict[str, Any]) -> bool:
    """Whether the request carries a valid Airflow token (Bearer header or the UI's ``_token`` cookie)."""
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from starlette.requests import Request

    request = Request(scope)
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else request.cookies.get("_token")
    try:
        await resolve_user_from_token(token)
    except Exception:  # 401/403 is Airflow's answer to give, not ours
        return False
    return True


async def _answer(send: Any, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
