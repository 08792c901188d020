"""The prediction service: a Starlette app, served by uvicorn (see :mod:`mlspec.serve`).

Endpoints::

    GET  /health    200 {"status": "ok", model, version, alias, trained_model, digest, verdict}
    GET  /schema    the input columns a request must carry, with their JSON types
    POST /predict   {"rows": [{column: value, ...}, ...]} -> {"predictions": [...], model, version,
                    "input_issues": {"unseen_categories": {feature: n}, "out_of_range": {feature: n}}}
                    ?probabilities=true adds "classes" and "probabilities" for classifiers

Errors are JSON ``{"error": {"status", "message", "details"?}}``: 400 unreadable JSON or a bad Content-Length,
413 a body over the limit, 415 not JSON, 422 a request the model cannot take (see
:mod:`mlspec.serve.validation`) or one it fails to score, 404/405 for other paths and methods; never a 500. The
model runs in a worker thread, so a large batch does not stall health checks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mlspec.runtime.bundle import jsonable
from mlspec.runtime.scoring import decide
from mlspec.runtime.seen import counts
from mlspec.serve.validation import InputSchema, RequestError, check, input_issues, parse_json, rows_of, to_frame

log = logging.getLogger("mlspec.serve")
JSON_TYPES = ("application/json", "text/json")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_rows: int = 10_000


@dataclass(frozen=True)
class Service:
    """One registry version, loaded: what the app serves."""

    model: Any
    """The fitted scikit-learn Pipeline."""
    schema: InputSchema
    info: dict[str, Any]
    """model, version, alias, trained_model, digest, verdict: shown by /health and in every prediction."""
    classes: list[Any] | None = None
    reject: frozenset[str] = frozenset()
    """The kinds of input issue answered with 422 instead of counted (the spec's ``serving``)."""
    decision: tuple[Any, float] | None = None
    """A binary model's (positive class, threshold) from its bundle (:func:`mlspec.runtime.scoring.decide`)."""


def create_app(service: Service, limits: Limits = Limits()) -> Starlette:
    identity = {k: service.info[k] for k in ("model", "version") if k in service.info}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", **service.info})

    async def schema(request: Request) -> JSONResponse:
        return JSONResponse({**identity, "columns": [c.describe() for c in service.schema.columns],
                             "request": {"rows": "a list of objects, one per row, with exactly these columns"},
                             "limits": {"max_body_bytes": limits.max_body_bytes, "max_rows": limits.max_rows}})

    async def predict(request: Request) -> JSONResponse:
        try:
            _check_media_type(request)
            raw = await _read_body(request, limits.max_body_bytes)
            rows = rows_of(parse_json(raw), limits.max_rows)
            columns = check(service.schema, rows)
            issues = input_issues(service.schema, columns, service.reject)
            frame = to_frame(service.schema, columns)
            proba = request.query_params.get("probabilities", "false").lower() in ("1", "true", "yes")
        except RequestError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)
        if proba and (service.classes is None or not hasattr(service.model, "predict_proba")):
            return _error(422, "probabilities are only available for classifiers with predict_proba")
        try:
            body = await run_in_threadpool(_predict, service, frame, proba)
        except Exception as exc:  # the model is the user's: whatever it raises, answer in JSON
            # The input passed the schema, yet the model refuses it (a value it cannot transform, an estimator
            # that fails on this data): that is about this input, so a 422 the caller can act on, never a 500.
            log.warning("the model could not score a request: %s: %s", type(exc).__name__, exc)
            return _error(422, f"the model could not score this input: {type(exc).__name__}: {_short(str(exc))}")
        if service.schema.seen is not None:
            body["input_issues"] = counts(issues)
        return JSONResponse({**body, **identity})

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = {404: "no such endpoint; use GET /health, GET /schema or POST /predict",
                   405: f"method {request.method} is not allowed here"}.get(status, "request failed")
        return _error(status, message)

    routes = [Route("/health", health, methods=["GET"]), Route("/schema", schema, methods=["GET"]),
              Route("/predict", predict, methods=["POST"])]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found})


def _predict(service: Service, frame: Any, proba: bool) -> dict[str, Any]:
    # jsonable: NumPy values as Python ones, and a non-finite prediction as null (JSON has no NaN).
    out: dict[str, Any] = {"predictions": jsonable(decide(service.model, service.decision, frame))}
    if proba:
        out["classes"] = service.classes
        out["probabilities"] = jsonable(service.model.predict_proba(frame))
    return out


def _check_media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media and media not in JSON_TYPES and not media.endswith("+json"):
        raise RequestError(415, f"content type {media!r} is not JSON; send the body as application/json")


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestError(400, f"invalid Content-Length {declared!r}")
        if int(declared) > limit:
            raise RequestError(413, f"request body of {int(declared)} bytes is over this service's limit of "
                                    f"{limit} bytes; send fewer rows per request")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, f"request body is over this service's limit of {limit} bytes; send fewer "
                                    "rows per request")
        chunks.append(chunk)
    return b"".join(chunks)


def _short(message: str, limit: int = 500) -> str:
    return message if len(message) <= limit else f"{message[:limit]}... ({len(message) - limit} more characters)"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(RequestError(status, message).body(), status_code=status)
