"""The labeling server's answers: JSON errors (``{"detail": ...}`` with the documented status
codes), gzip'd binary bodies and size-limited JSON request bodies."""

from __future__ import annotations

import json
import zlib

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.labeling import folders as fo
from pixelseg.labeling.labels import Conflict
from pixelseg.utils.extras import MissingExtraError

#: the extra that installs the app's packages, and the feature named when one is missing
EXTRA, FEATURE = "label", "the labeling app (pixelseg label)"
try:
    from fastapi import Response
    from fastapi.responses import JSONResponse
except ImportError as exc:
    raise MissingExtraError(exc.name or "fastapi", EXTRA, FEATURE) from exc

__all__ = ["MAX_JSON_BYTES", "TooLarge", "error", "binary", "read_json", "install_error_handlers"]

MAX_JSON_BYTES = 2**20


class TooLarge(ValueError):
    """A JSON request body larger than :data:`MAX_JSON_BYTES` (answered 413)."""


def error(status: int, detail: str, **extra) -> JSONResponse:
    """The documented error answer: ``{"detail": detail, **extra}`` with ``status``."""
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def binary(request, data: bytes, headers: dict, media_type: str = "application/octet-stream") -> Response:
    """Raw bytes, gzip-compressed (fast level) when the client accepts it."""
    headers = {**headers, "Cache-Control": "no-store"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
        data = compressor.compress(data) + compressor.flush()
        headers["Content-Encoding"] = "gzip"
    return Response(content=data, media_type=media_type, headers=headers)


async def read_json(request, what: str):
    """The request's JSON body; TooLarge over :data:`MAX_JSON_BYTES`, ConfigurationError
    when it does not parse (both name ``what``)."""
    body = await request.body()
    if len(body) > MAX_JSON_BYTES:
        raise TooLarge(f"{what} larger than {MAX_JSON_BYTES} bytes")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ConfigurationError(f"{what} is not valid JSON ({exc})") from None


#: exception -> status code of its JSON answer (the first matching class wins)
_STATUS = ((fo.BadName, 400), (fo.NotFound, 404), (fo.OutsideFolder, 403), (TooLarge, 413), (DataError, 422),
           (ConfigurationError, 400))


def install_error_handlers(app) -> None:
    """Answer every error as documented JSON: bad names 400, missing 404, outside the
    folders 403, version conflicts 409 (with ``current_version``), too large 413, bad data
    422, bad values 400, anything else 500 naming the exception."""
    for cls, status in _STATUS:
        async def handler(request, exc, status=status):
            return error(status, str(exc))

        app.add_exception_handler(cls, handler)

    async def conflict(request, exc):
        return error(409, str(exc), current_version=exc.current_version)

    async def unexpected(request, exc):
        return error(500, f"internal error ({type(exc).__name__}): {exc}")

    app.add_exception_handler(Conflict, conflict)
    app.add_exception_handler(Exception, unexpected)
