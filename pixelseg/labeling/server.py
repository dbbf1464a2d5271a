"""The labeling web app: a FastAPI server and the static front end in ``static/``.

Start it with ``pixelseg label IMAGES_DIR --labels LABELS_DIR --classes classes.json`` or
:func:`run`; build the ASGI app for tests with :func:`create_app`.

HTTP API (all under ``/api``; binary payloads are row-major, little-endian):

=======================================  ================================================
``GET  /api/info``                       folders, model present, limits, SLIC defaults
``GET  /api/images``                     ``{images: [{name, labeled, duplicate_stem,
                                         status}], labeled, done, total, counts}`` in
                                         natural order; ``done`` counts done + reviewed,
                                         ``counts`` is {status: number of images}
``GET  /api/images/{name}``              ``{name, width, height, labeled, version}``
``GET  /api/images/{name}/image``        the image (original file or a PNG)
``GET  /api/images/{name}/label``        ``format=raw`` (default): H*W uint8 class
                                         indices, void 255 (all 255 when unlabelled);
                                         ``format=png``: the saved index PNG. Headers
                                         ``X-Label-Version``, ``X-Width``, ``X-Height``
``PUT  /api/images/{name}/label``        body: H*W uint8 (``Content-Encoding: gzip``
                                         allowed); header ``X-Label-Version``: the
                                         version loaded ("" = none), or ``?force=1``.
                                         -> ``{version}``; 409 ``{detail,
                                         current_version}`` when the file changed;
                                         moves status unlabelled to in_progress
``PUT  /api/images/{name}/status``       JSON ``{status}``: one of unlabelled,
                                         in_progress, done, reviewed (400 otherwise);
                                         stored in ``LABELS/.pixelseg-status.json``
``GET  /api/images/{name}/superpixels``  ``n_segments``, ``compactness``, ``max_side``
                                         -> H*W uint16 segment ids, ``X-Segments``
``POST /api/images/{name}/prelabel``     H*W uint8 prediction of ``--model`` (not saved);
                                         ``threshold=0.6``: pixels whose winning softmax
                                         score is lower are void
``GET  /api/next``                       with ``--model``: ``{next, scores: [{name,
                                         uncertainty, status}] most uncertain first,
                                         pending, complete, failed, definition}``; next is
                                         the most uncertain image not done or reviewed
                                         (null while none is scored); ``wait=S`` waits up
                                         to S (<= 60) seconds for the ranking to finish.
                                         Uncertainty: mean normalised softmax entropy
                                         (:mod:`pixelseg.labeling.uncertainty`), computed
                                         in the background, cached per model file version
``GET  /api/classes``                    ``{version, classes: [{index, name, color}]}``
``PUT  /api/classes``                    ``{version, classes: [{name, color}]}`` (append,
                                         rename, recolour; 409 on a changed file)
=======================================  ================================================

Errors: 400 bad name or argument, 403 link out of a folder / token / host / CSRF,
404 unknown image, 409 conflict, 413 body too large, 422 bad label data or a label path
that is not a file, 500 anything unexpected. Every error body is
``{"detail": "<one sentence>"}``.

Security model: bound to loopback (the default) with Host checks against DNS rebinding;
bound elsewhere only with an access token of at least 16 characters (a random one unless
given; an empty or short ``--token`` is refused at start); CSRF header on every write. Two
servers on one labels folder are safe: saves lock the folder across processes, so two saves
over the same version give one success and one 409 conflict. Temporary files that a killed
server left in the labels folder are removed at start.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pixelseg.errors import ConfigurationError, DataError
from pixelseg.labeling import folders as fo
from pixelseg.labeling.classes import ClassFile
from pixelseg.labeling.images import browser_image, image_size, read_rgb
from pixelseg.labeling.labels import (
    VOID,
    LabelWriter,
    decode_upload,
    file_version,
    read_label_versioned,
    version_of,
)
from pixelseg.labeling.locking import remove_stale_temp_files
from pixelseg.labeling.responses import EXTRA, FEATURE, binary, error, install_error_handlers, read_json
from pixelseg.labeling.security import AccessGuard, BodySizeLimit, app_url, check_token, is_loopback, resolve_token
from pixelseg.labeling.status import FINISHED, STATUSES, StatusStore, check_status
from pixelseg.labeling.superpixels import DEFAULT_COMPACTNESS, DEFAULT_MAX_SIDE, DEFAULT_N_SEGMENTS, superpixels
from pixelseg.utils.extras import MissingExtraError, require

try:
    from fastapi import FastAPI, Request, Response
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import FileResponse
    from fastapi.staticfiles import StaticFiles
except ImportError as exc:
    raise MissingExtraError(exc.name or "fastapi", EXTRA, FEATURE) from exc

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_MAX_BODY_BYTES = 256 * 2**20  # a raw 16000 x 16000 label; gzip uploads are far smaller
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]


def create_app(
    images_dir,
    labels_dir,
    classes_path,
    model=None,
    token: str | None = None,
    *,
    allowed_hosts: list[str] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
):
    """Build the labeling app (an ASGI app; serve it with uvicorn or test it with TestClient).

    Args:
        images_dir: folder of images (never written).
        labels_dir: folder of label PNGs, ``<image stem>.png`` (created when missing).
        classes_path: classes.json (or .yaml) of the project; must exist (the class
            editor rewrites it atomically).
        model: optional checkpoint of a trained network (``TrainedNetwork.save``) for
            pre-labeling; loaded on first use.
        token: when given, every request must carry it (``?token=``, header
            ``X-Pixelseg-Token`` or the cookie set when the page is opened with it).
        allowed_hosts: when given, requests whose ``Host`` header names another host are
            refused (:func:`run` sets the loopback names when bound to loopback).
        max_body_bytes: largest request body accepted (413 above).

    Raises:
        ConfigurationError: a folder or the classes file is missing, labels_dir is
            images_dir, a class set the app cannot save as palette PNGs, or a missing
            model checkpoint.
        MissingExtraError: scikit-image is not installed (``pip install "pixelseg[label]"``);
            importing this module without FastAPI raises it too.
    """
    require("skimage", EXTRA, FEATURE)  # the superpixel tool; checked now, not at the first click
    check_token(token)
    folders = fo.LabelingFolders(images_dir, labels_dir)
    classes = ClassFile(classes_path)
    remove_stale_temp_files(folders.labels_dir)
    remove_stale_temp_files(classes.path.parent)
    writer = LabelWriter()
    statuses = StatusStore(folders.labels_dir)
    prelabeler = ranker = None
    if model is not None:
        from pixelseg.labeling.prelabel import Prelabeler
        from pixelseg.labeling.uncertainty import UncertaintyRanker

        prelabeler = Prelabeler(model)
        ranker = UncertaintyRanker(
            prelabeler,
            list_images=lambda: [(e.name, e.image_path) for e in folders.list_images()],
            class_names=lambda: list(classes.class_set.names),
            read_image=read_rgb,
        )
    no_model = "no model was given (start the app with --model CHECKPOINT to pre-label)"

    app = FastAPI(title="pixelseg labeling", docs_url=None, redoc_url=None, openapi_url=None)

    install_error_handlers(app)

    def entry_and_size(name: str):
        entry = folders.entry(name)
        return entry, image_size(entry.image_path)

    # ------------------------------------------------------------------ pages
    @app.get("/", include_in_schema=False)
    def index():
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon():
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # -------------------------------------------------------------- read API
    @app.get("/api/info")
    def info():
        return {
            "images_dir": str(folders.images_dir),
            "labels_dir": str(folders.labels_dir),
            "classes_path": str(classes.path),
            "prelabel": prelabeler is not None,
            "max_body_bytes": max_body_bytes,
            "void": VOID,
            "superpixels": {
                "n_segments": DEFAULT_N_SEGMENTS,
                "compactness": DEFAULT_COMPACTNESS,
                "max_side": DEFAULT_MAX_SIDE,
            },
        }

    def image_list() -> list[dict]:
        entries = folders.list_images()
        duplicates = folders.duplicate_stems(entries)
        stored = statuses.read()
        items = []
        for e in entries:
            labeled = e.label_path.is_file()
            status = statuses.effective(stored, e.name, labeled)
            items.append({"name": e.name, "labeled": labeled, "duplicate_stem": e.name in duplicates, "status": status})
        return items

    @app.get("/api/images")
    def list_images():
        items = image_list()
        counts = {s: sum(i["status"] == s for i in items) for s in STATUSES}
        return {
            "images": items,
            "labeled": sum(i["labeled"] for i in items),
            "done": sum(counts[s] for s in FINISHED),
            "total": len(items),
            "counts": counts,
        }

    @app.get("/api/images/{name}")
    def image_info(name: str):
        entry, (height, width) = entry_and_size(name)
        return {
            "name": entry.name,
            "width": width,
            "height": height,
            "labeled": entry.label_path.is_file(),
            "version": file_version(entry.label_path),
        }

    @app.get("/api/images/{name}/image")
    def get_image(name: str):
        entry = folders.entry(name)
        content, media_type = browser_image(entry.image_path)
        if isinstance(content, Path):
            return FileResponse(content, media_type=media_type, headers={"Cache-Control": "no-cache"})
        return Response(content, media_type=media_type, headers={"Cache-Control": "no-cache"})

    @app.get("/api/images/{name}/label")
    def get_label(name: str, request: Request, format: str = "raw"):
        if format not in ("raw", "png"):
            raise ConfigurationError(f"format must be 'raw' or 'png', got {format!r}")
        entry, (height, width) = entry_and_size(name)
        classes.reload_if_changed()
        size_headers = {"X-Width": str(width), "X-Height": str(height)}
        if format == "png":
            try:
                data = entry.label_path.read_bytes()
            except FileNotFoundError:
                raise fo.NotFound(f"image {name!r} has no label file yet") from None
            headers = {**size_headers, "X-Label-Version": version_of(data), "Cache-Control": "no-store"}
            return Response(data, media_type="image/png", headers=headers)
        label, version = read_label_versioned(entry.label_path, classes.class_set)
        headers = {**size_headers, "X-Label-Version": version}
        if label is not None:
            if label.shape != (height, width):
                raise DataError(
                    f"label file {entry.label_path.name} is {label.shape[1]} x {label.shape[0]} but "
                    f"image {name} is {width} x {height}"
                )
        else:
            label = np.full((height, width), VOID, dtype=np.uint8)
        return binary(request, np.ascontiguousarray(label).tobytes(), headers)

    @app.get("/api/images/{name}/superpixels")
    def get_superpixels(
        name: str,
        request: Request,
        n_segments: int = DEFAULT_N_SEGMENTS,
        compactness: float = DEFAULT_COMPACTNESS,
        max_side: int = DEFAULT_MAX_SIDE,
    ):
        entry = folders.entry(name)
        segments = superpixels(read_rgb(entry.image_path), n_segments, compactness, max_side)
        headers = {
            "X-Width": str(segments.shape[1]),
            "X-Height": str(segments.shape[0]),
            "X-Segments": str(int(segments.max()) + 1),
        }
        return binary(request, segments.astype("<u2").tobytes(), headers)

    @app.post("/api/images/{name}/prelabel")
    def prelabel(name: str, request: Request, threshold: float | None = None):
        if prelabeler is None:
            return error(404, no_model)
        entry = folders.entry(name)
        image = read_rgb(entry.image_path)
        prediction = prelabeler.predict(image, list(classes.class_set.names), threshold=threshold)
        return binary(request, np.ascontiguousarray(prediction).tobytes(), {"X-Width": str(image.shape[1]), "X-Height": str(image.shape[0])})

    @app.get("/api/next")
    def next_image(wait: float = 0.0):
        from pixelseg.labeling.uncertainty import DEFINITION

        if ranker is None:
            return error(404, no_model)
        if not 0 <= wait <= 60:
            raise ConfigurationError(f"wait must be 0..60 seconds, got {wait}")
        state = ranker.wait(wait) if wait else ranker.snapshot()
        if state["error"]:
            raise ConfigurationError(f"cannot rank the images by uncertainty: {state['error']}")
        status = {i["name"]: i["status"] for i in image_list()}
        scored = [
            {"name": n, "uncertainty": round(u, 6), "status": status.get(n, "unlabelled")}
            for n, u in state["scores"].items()
        ]
        scored.sort(key=lambda item: -item["uncertainty"])  # stable: natural order among ties
        candidates = [item["name"] for item in scored if item["status"] not in FINISHED]
        return {
            "next": candidates[0] if candidates else None,
            "scores": scored,
            "pending": len(state["pending"]),
            "complete": not state["pending"],
            "failed": state["failed"],
            "definition": DEFINITION,
        }

    # ------------------------------------------------------------- write API
    @app.put("/api/images/{name}/label")
    async def put_label(name: str, request: Request, force: bool = False):
        entry, (height, width) = await run_in_threadpool(entry_and_size, name)
        if await run_in_threadpool(folders.shares_stem, entry):
            raise ConfigurationError(
                f"another image shares the stem of {name!r}, so both would use the label file "
                f"{entry.label_path.name}; rename one of them"
            )
        base_version = None if force else request.headers.get("x-label-version")
        if base_version is None and not force:
            return error(428, "header X-Label-Version (the version loaded, '' for none) or ?force=1 is required")
        body = await request.body()
        label = decode_upload(body, request.headers.get("content-encoding"), height, width)
        await run_in_threadpool(classes.reload_if_changed)
        version = await run_in_threadpool(writer.save, label, entry.label_path, classes.codec, base_version)
        status = await run_in_threadpool(statuses.mark_saved, entry.name)
        return {"version": version, "labeled": True, "status": status}

    @app.put("/api/images/{name}/status")
    async def put_status(name: str, request: Request):
        entry = await run_in_threadpool(folders.entry, name)
        payload = await read_json(request, "status")
        if not isinstance(payload, dict) or "status" not in payload:
            raise ConfigurationError('status must be sent as a JSON object {"status": ...}')
        status = await run_in_threadpool(statuses.set, entry.name, check_status(payload["status"]))
        return {"name": entry.name, "status": status}

    @app.get("/api/classes")
    def get_classes():
        classes.reload_if_changed()
        return classes.describe()

    @app.put("/api/classes")
    async def put_classes(request: Request):
        payload = await read_json(request, "class list")
        if not isinstance(payload, dict):
            raise ConfigurationError("class list must be a JSON object {version, classes}")
        base_version = payload.get("version")
        if base_version is not None and not isinstance(base_version, str):
            raise ConfigurationError(f"version must be a string, got {base_version!r}")
        return await run_in_threadpool(classes.update, payload.get("classes"), base_version)

    guarded = BodySizeLimit(app, max_body_bytes)
    guarded = AccessGuard(guarded, token=token, allowed_hosts=allowed_hosts)
    guarded.fastapi_app = app  # for introspection in tests
    return guarded


def run(
    images_dir,
    labels_dir,
    classes_path,
    model=None,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    echo=print,
) -> None:
    """Serve the labeling app with uvicorn until interrupted; prints the URL first.

    Bound to a loopback address, requests naming another host are refused (DNS
    rebinding). Bound to any other address, a token is required on every request (a
    random one unless given) and is part of the printed URL.

    Raises:
        ConfigurationError: see :func:`create_app`; a port outside 1..65535.
        MissingExtraError: uvicorn is not installed (``pip install "pixelseg[label]"``).
    """
    import socket

    uvicorn = require("uvicorn", EXTRA, FEATURE)

    if not 0 < int(port) < 65536:
        raise ConfigurationError(f"port must be 1..65535, got {port}")
    token = resolve_token(host, token)
    allowed = [*LOOPBACK_HOSTS, host] if is_loopback(host) else None
    app = create_app(images_dir, labels_dir, classes_path, model=model, token=token, allowed_hosts=allowed)
    shown_host = socket.gethostname() if host in ("0.0.0.0", "::") else host
    echo(f"pixelseg label: open {app_url(shown_host, port, token)}  (Ctrl+C to stop)")
    if not is_loopback(host):
        echo("warning: the app is reachable from other machines; anyone with the URL (token) can edit labels")
    uvicorn.run(app, host=host, port=int(port), log_level="warning")
