"""Import and export of layers: POST /collections/{id}/import, GET /collections/{id}/export.

Imports take a multipart upload (field `file`: .geojson, .gpkg, .zip Shapefile or .csv) and run
in the caller's database role, so grants and row-level security apply; only roles that may edit
the layer in the catalog (planner, admin) may import. All rows or none: 201 with the report, or
422 with the first rejected rows and counts by reason (409 when the database refuses a duplicate
key), nothing written. Bodies above `max_upload_bytes` get 413, before they are read whole;
files beyond the import limits (expanded bytes, zip members, rows) get 413 before they are read.
The upload is written to disk off the event loop and the import runs in a worker process.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from gis_service import audit
from gis_service.api.deps import (
    get_app_settings,
    get_catalog,
    get_connection,
    get_engine,
    get_principal,
)
from gis_service.api.openapi import body_limit, errors, header, media
from gis_service.auth import Principal
from gis_service.catalog import Layer
from gis_service.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from gis_service.features.errors import BadRequest, UnsupportedMediaType
from gis_service.ingest.export import FORMATS, LEDGERS, Ledger, export_bytes, row_filter
from gis_service.ingest.importer import ImportOptions
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.readers import file_format
from gis_service.ingest.report import ImportRejected
from gis_service.ingest.worker import POOL, ImportJob
from gis_service.webmap.i18n import negotiate

router = APIRouter(tags=["import and export"])
IMPORT_ROLES = ("planner", "admin")
EXPORT_PARAMETERS = {"f", "filter", "filter-lang", "labels", "lang"}
REPORT = {"type": "object", "description": "rows read, written and rejected, per reason"}
IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": ".geojson, .gpkg, .zip (Shapefile) or .csv",
                        }
                    },
                }
            }
        },
    }
}


def layer_or_404(request: Request, layer_id: str) -> Layer:
    """A layer of the app's catalog by id (404 when unknown)."""
    catalog = get_catalog(request)
    if layer_id not in catalog.layers:
        raise NotFound(f"no collection {layer_id!r}")
    return catalog.layer(layer_id)


def check_import_rights(principal: Principal, layer: Layer) -> None:
    """Only signed-in planners and admins who may edit the layer import into it."""
    if principal.is_anonymous:
        raise Unauthorized("sign in: importing needs a bearer token")
    if principal.role not in IMPORT_ROLES or not layer.editable_by(principal.role):
        raise Forbidden(f"the role {principal.role} may not import into {layer.id}")


async def read_upload(request: Request) -> UploadFile:
    """The uploaded file of a multipart body (api/guard.py cuts it at max_upload_bytes: 413)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data (form field 'file')")
    try:
        form = await MultiPartParser(
            request.headers, request.stream(), max_files=1, max_fields=20
        ).parse()
    except MultiPartException as exc:
        raise BadRequest(f"the body is not a valid multipart form: {exc.message}") from exc
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(
            "send the file in the multipart form field 'file'",
            [{"field": "file", "message": "required"}],
        )
    return upload


def stage_upload(source: BinaryIO, name: str) -> Path:
    """Copy an upload into a new private folder; its path (blocking: run in the thread pool)."""
    path = Path(tempfile.mkdtemp(prefix="gis-import-")) / f"upload{Path(name).suffix.lower()}"
    source.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(source, out)
    return path


@router.post(
    "/collections/{layer_id}/import",
    status_code=201,
    openapi_extra=IMPORT_BODY,
    responses={
        201: media("application/json", schema=REPORT, description="imported: the report"),
        200: media("application/json", schema=REPORT, description="dry run: nothing written"),
        **errors(
            400, 401, 403, 404, 409, 413, 415, 422, 503,
            e400="not a multipart form, or a file that cannot be read",
            e413=body_limit("max_upload_bytes"),
            e409="a row duplicates a stored key: nothing written (the report is in `report`)",
            e422="rows rejected, nothing written (`errors` names each row, `report` sums up)",
        ),
    },
)
async def import_layer(
    request: Request,
    layer_id: str,
    crs: str | None = Query(None, description="Source CRS, overriding the file's (EPSG:4490)"),
    from_gcj02: bool = Query(False, description="Coordinates are GCJ-02 (Chinese map apps)"),
    source_layer: str | None = Query(None, description="GeoPackage layer / .shp in the zip"),
    lon_column: str | None = Query(None, description="CSV longitude column"),
    lat_column: str | None = Query(None, description="CSV latitude column"),
    encoding: str | None = Query(None, description="Text encoding when not UTF-8"),
    dry_run: bool = Query(False, description="Check every row, write nothing"),
    skip_invalid: bool = Query(False, description="Write the valid rows, report the others"),
    key: str | None = Query(
        None, max_length=100, description="A column with a stable id: re-imports update by it"
    ),
    principal: Principal = Depends(get_principal),
) -> Response:
    """Import a file into a layer: all rows or none, with a report of each rejected row."""
    layer = layer_or_404(request, layer_id)
    check_import_rights(principal, layer)
    settings = get_app_settings(request)
    upload = await read_upload(request)
    name = Path(upload.filename or "upload").name
    file_format(name)
    options = ImportOptions(
        layer_name=source_layer,
        crs=crs,
        from_gcj02=from_gcj02,
        lon_column=lon_column,
        lat_column=lat_column,
        encoding=encoding,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        key=key,
    )
    path = await run_in_threadpool(stage_upload, upload.file, name)
    job = ImportJob(
        database_url=get_engine(request).url.render_as_string(hide_password=False),
        statement_timeout_ms=settings.statement_timeout_ms,
        principal=principal,
        layer=layer,
        path=path,
        name=name,
        options=options,
        limits=ImportLimits.from_settings(settings),
    )
    engine = get_engine(request)
    try:
        report = await POOL.run(job, settings.import_workers)
    except ImportRejected as exc:
        refused = audit.import_event(exc.report, "refused")
        await run_in_threadpool(audit.record, engine, principal, refused)
        raise  # api/problems.py answers with each rejected row
    finally:
        await upload.close()
        await run_in_threadpool(shutil.rmtree, path.parent, True)
    await run_in_threadpool(audit.record, engine, principal, audit.import_event(report))
    status = 200 if dry_run else 201
    return JSONResponse(report.as_dict(with_ids=not dry_run), status_code=status)


@router.get(
    "/collections/{layer_id}/export",
    responses={
        200: media(
            *(kind.split(";")[0] for _ext, kind in FORMATS.values()),
            description="The layer's features in the chosen format (f)",
            headers={
                "Content-Disposition": header("attachment; filename=<layer><extension>"),
                "X-Feature-Count": header("how many features the file holds"),
            },
        ),
        **errors(400, 404, e400="unknown parameter or format, repeated parameter, bad filter"),
    },
)
def export_layer(
    request: Request,
    layer_id: str,
    f: str = Query(
        "geojson", description="geojson, gpkg, csv or xlsx (a ledger: 台账)",
        json_schema_extra={"enum": list(FORMATS)},
    ),
    cql: str | None = Query(None, alias="filter", description="CQL2-text filter"),
    labels: bool = Query(
        True, description="csv and xlsx: field labels as headers and labels instead of codes "
        "(default); false: field names and codes, as imports read them",
    ),
    lang: Literal["zh", "en"] | None = Query(
        None, description="Language of the labels: zh or en (default: Accept-Language, else zh)"),
    principal: Principal = Depends(get_principal),
    conn: sa.Connection = Depends(get_connection, scope="function"),
) -> Response:
    """Export a layer as the caller may read it; other query parameters are field=value filters."""
    layer = layer_or_404(request, layer_id)
    if not layer.public and principal.is_anonymous:
        raise Unauthorized(f"sign in: {layer_id} is not public")
    params = request.query_params
    repeated = sorted({key for key in params if len(params.getlist(key)) > 1})
    if repeated:
        raise BadRequest(f"parameter {repeated[0]!r} is given more than once")
    if params.get("filter-lang", "cql2-text") != "cql2-text":
        raise BadRequest("filter-lang must be cql2-text")
    if f not in FORMATS:
        raise BadRequest(f"unknown format {f!r}: use one of {', '.join(FORMATS)}")
    filters = {key: value for key, value in params.items() if key not in EXPORT_PARAMETERS}
    settings = get_app_settings(request)
    ledger = Ledger(labels, negotiate(lang, request.headers.get("accept-language")),
                    settings.max_ledger_rows, settings.local_timezone)  # fmt: skip
    data, count = export_bytes(conn, layer, f, row_filter(layer, filters, cql), ledger)
    detail = {"format": f, "features": count, "filter": cql, "where": filters,
              "labels": labels and f in LEDGERS}  # fmt: skip
    audit.record(get_engine(request), principal, audit.Event("export", target=layer_id,
                                                             detail=detail))
    extension, media = FORMATS[f]
    return Response(
        data,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{layer_id}{extension}"',
            "X-Feature-Count": str(count),
        },
    )
