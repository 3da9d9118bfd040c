"""The Models view: a read-only FastAPI app the Airflow api-server mounts at ``/models``.

Airflow does not put plugin apps behind its authentication, so every route here asks for the caller itself
through Airflow's own dependencies: ``get_user`` (a Bearer token or the UI's ``_token`` cookie; 401 without one,
403 for an invalid one) and, for a pipeline, ``requires_access_dag("GET")`` on its DAG ``retrain_<name>`` (403 when
the auth manager says no). The index lists only pipelines whose DAG the caller may read.

Objects are read through :mod:`imbalance_jobs.registry_view`: pipelines come from the configs folder, versions
from the published markers, files from fixed allow-lists, so no URL can name an arbitrary object key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from imbalance_models_pages import (
    ap_text,
    gain_text,
    model_card_html,
    recall_text,
    render,
    trend_svg,
    verdict_html,
    when,
)

from imbalance_jobs import registry_view
from imbalance_jobs.config import PipelineConfig, load_config
from imbalance_jobs.errors import ConfigError, StorageError
from imbalance_jobs.storage import ObjectStore, StorageSettings

__all__ = ["URL_PREFIX", "app", "configs_dir", "pipeline_configs"]

URL_PREFIX = "/models"
DAG_ID_PREFIX = "retrain_"
CONFIGS_ENV = "IMBALANCE_CONFIGS_DIR"
PLOTS = ("pr_curve.png", "roc_curve.png", "calibration.png", "score_hist.png")
_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
# Stored HTML (Great Expectations Data Docs) runs sandboxed: its scripts get an opaque origin, no Airflow cookie.
_SANDBOX = {**_HEADERS, "Content-Security-Policy": "sandbox allow-scripts allow-popups"}

app = FastAPI(title="imbalance-jobs Models", docs_url=None, redoc_url=None, openapi_url=None)
User = Annotated[Any, Depends(get_user)]


def configs_dir() -> Path:
    """``$IMBALANCE_CONFIGS_DIR``, else ``configs/`` of the repository (the DAG factory reads the same folder)."""
    configured = os.environ.get(CONFIGS_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parents[1] / "configs"


def pipeline_configs() -> dict[str, PipelineConfig]:
    """Valid configs by pipeline name; broken ones are the DAG-import-error page's business."""
    found: dict[str, PipelineConfig] = {}
    folder = configs_dir()
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            config = load_config(path)
        except ConfigError:
            continue
        found.setdefault(config.name, config)
    return found


def object_store(config: PipelineConfig) -> ObjectStore:
    """The store of the pipeline's ``airflow.aws_conn_id`` connection, read in the api-server (env or DB)."""
    from airflow.models.connection import Connection

    try:
        conn = Connection.get_connection_from_secrets(config.airflow.aws_conn_id)
    except Exception as exc:  # AirflowNotFoundException and secrets-backend failures alike
        raise HTTPException(
            502, f"{config.name}: Airflow connection '{config.airflow.aws_conn_id}' is not usable here ({exc})"
        ) from exc
    extra: dict[str, Any] = conn.extra_dejson or {}
    endpoint = extra.get("endpoint_url") or extra.get("service_config", {}).get("s3", {}).get("endpoint_url")
    return ObjectStore(
        StorageSettings(
            endpoint_url=endpoint or None,
            access_key_id=conn.login or None,
            secret_access_key=conn.password or None,
            region_name=extra.get("region_name") or "us-east-1",
        )
    )


def _root(request: Request) -> str:
    """This app's URL prefix as the browser sees it (``/models``, or under a proxy's base path)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _airflow_root(request: Request) -> str:
    return _root(request).removesuffix(URL_PREFIX)


CONSUMER_PREFIX = "on_new_champion_"


def pipeline_for_dag(dag_id: str) -> str:
    """The pipeline of a retraining DAG (``retrain_<name>``) or of its example consumer (``on_new_champion_<name>``)."""
    for prefix in (DAG_ID_PREFIX, CONSUMER_PREFIX):
        if dag_id.startswith(prefix):
            return dag_id.removeprefix(prefix)
    raise HTTPException(404, f"{dag_id} is not an imbalance-jobs DAG (ids start with {DAG_ID_PREFIX})")


def readable_pipeline(request: Request, name: str, user: User) -> PipelineConfig:
    """The pipeline's config once the caller may read DAG ``retrain_<name>`` (403 otherwise, 404 when unknown)."""
    requires_access_dag("GET", param_dag_id=f"{DAG_ID_PREFIX}{name}")(request, user)
    config = pipeline_configs().get(name)
    if config is None:
        raise HTTPException(404, f"no pipeline named {name!r}")
    return config


Pipeline = Annotated[PipelineConfig, Depends(readable_pipeline)]


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


@app.exception_handler(registry_view.NotFound)
async def _not_found(request: Request, exc: registry_view.NotFound) -> Response:
    page = render("message", title="Not found", root=_root(request), heading="Not found", text=str(exc))
    return _html(page, 404)


@app.exception_handler(StorageError)
async def _storage(request: Request, exc: StorageError) -> Response:
    text = f"The object store did not answer as expected: {exc}"
    return _html(
        render("message", title="Store error", root=_root(request), heading="Object store error", text=text), 502
    )


def _index_rows(request: Request, user: Any) -> list[dict[str, Any]]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails

    manager = get_auth_manager()
    rows = []
    for name, config in pipeline_configs().items():
        dag_id = f"{DAG_ID_PREFIX}{name}"
        if not manager.is_authorized_dag(method="GET", details=DagDetails(id=dag_id), user=user):
            continue
        overview = registry_view.pipeline_overview(object_store(config), config)
        champ, latest = overview.champion or {}, (overview.monitoring or [None])[0]
        rows.append(
            {
                "name": name,
                "dag_id": dag_id,
                "version": champ.get("version"),
                "ap": ap_text(overview.champion_metrics) if champ else "",
                "recall": recall_text(overview.champion_metrics.get("candidate") or {}) if champ else "",
                "at": when(champ.get("at")) if champ else "",
                "reason": champ.get("reason", ""),
                "status": latest.status if latest else None,
                "day": latest.day if latest else None,
            }
        )
    return rows


@app.get("/", response_class=HTMLResponse)
def index(request: Request, user: User) -> HTMLResponse:
    rows = _index_rows(request, user)
    return _html(render("index", title="Models", root=_root(request), rows=rows, airflow=_airflow_root(request)))


@app.get("/api/pipelines")
def api_pipelines(request: Request, user: User) -> JSONResponse:
    """The index as JSON, for scripts: one row per readable pipeline."""
    return JSONResponse(_index_rows(request, user), headers=_HEADERS)


@app.get("/pipelines/{name}", response_class=HTMLResponse)
def pipeline_page(request: Request, config: Pipeline) -> HTMLResponse:
    overview = registry_view.pipeline_overview(object_store(config), config)
    metrics = overview.champion_metrics
    page = render(
        "pipeline",
        title=config.name,
        root=_root(request),
        crumbs=[(config.name, f"{_root(request)}/pipelines/{config.name}")],
        o=overview,
        c=overview.champion,
        v=overview.champion_verdict,
        m=metrics.get("candidate") or {},
        ap=ap_text(metrics),
        gain=gain_text(metrics),
        trend_svg=trend_svg(overview.monitoring, overview.recall_floor),
    )
    return _html(page)


@app.get("/api/pipelines/{name}")
def api_pipeline(config: Pipeline) -> JSONResponse:
    overview = registry_view.pipeline_overview(object_store(config), config)
    body = {
        "name": overview.name,
        "champion": overview.champion,
        "champion_metrics": overview.champion_metrics,
        "versions": overview.versions,
        "history": overview.history,
        "monitoring": [r.model_dump(mode="json", exclude={"rules"}) for r in overview.monitoring],
    }
    return JSONResponse(body, headers=_HEADERS)


@app.get("/pipelines/{name}/versions/{version}", response_class=HTMLResponse)
def version_page(request: Request, config: Pipeline, version: str) -> HTMLResponse:
    detail = registry_view.version_detail(object_store(config), config, version)
    root = _root(request)
    page = render(
        "version",
        title=f"{config.name} {version}",
        root=root,
        crumbs=[
            (config.name, f"{root}/pipelines/{config.name}"),
            (version, f"{root}/pipelines/{config.name}/versions/{version}"),
        ],
        o=config,
        d=detail,
        plots=[p for p in PLOTS if p in detail.files],
        verdict_html=verdict_html(detail.verdict),
        card=model_card_html(detail.model_card),
    )
    return _html(page)


@app.get("/pipelines/{name}/versions/{version}/files/{file}")
def version_file(config: Pipeline, version: str, file: str) -> Response:
    data, kind = registry_view.version_file(object_store(config), config, version, file)
    return Response(data, media_type=kind, headers=_SANDBOX if kind.startswith("text/html") else _HEADERS)


@app.get("/pipelines/{name}/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, config: Pipeline, run_id: str) -> HTMLResponse:
    outcome = registry_view.run_outcome(object_store(config), config, run_id)
    root = _root(request)
    versions = registry_view.pipeline_overview(object_store(config), config).versions
    version = next((v.get("version") for v in versions if v.get("run_id") == run_id), None)
    page = render(
        "run",
        title=f"{config.name} run {run_id}",
        root=root,
        crumbs=[(config.name, f"{root}/pipelines/{config.name}"), (f"run {run_id}", "")],
        o=config,
        r=outcome,
        version=version,
        verdict_html=verdict_html(outcome.verdict or {}),
    )
    return _html(page)


@app.get("/pipelines/{name}/runs/{run_id}/files/{file}")
def run_file(config: Pipeline, run_id: str, file: str) -> Response:
    data, kind = registry_view.run_file(object_store(config), config, run_id, file)
    return Response(data, media_type=kind, headers=_SANDBOX if kind.startswith("text/html") else _HEADERS)


@app.get("/dags/{dag_id}", response_class=HTMLResponse)
def dag_tab(request: Request, dag_id: str, user: User) -> HTMLResponse:
    """The DAG page's "Models" tab (Airflow fills ``{DAG_ID}``): the pipeline page of that DAG."""
    requires_access_dag("GET", param_dag_id=dag_id)(request, user)
    name = pipeline_for_dag(dag_id)
    return pipeline_page(request, readable_pipeline(request, name, user))


@app.get("/dags/{dag_id}/runs/{run_id}", response_class=HTMLResponse)
def dag_run_tab(request: Request, dag_id: str, run_id: str, user: User) -> HTMLResponse:
    """The run page's "Run outcome" tab: the verdict that run reached."""
    if not dag_id.startswith(DAG_ID_PREFIX):
        raise HTTPException(404, f"{dag_id} is not a retraining DAG: its runs reach no verdict")
    name = pipeline_for_dag(dag_id)
    return run_page(request, readable_pipeline(request, name, user), run_id)
