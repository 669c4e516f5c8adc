"""The workbench's web application: the page, and a JSON API that mirrors the command line's stages.

validate (instances, policies), solve and whatif (jobs in worker processes), compare, and report
and downloads. The API is described at ``/docs`` (OpenAPI); every input is validated by the same
functions as on the command line, and bad input is answered with status 422 and every problem
(file or sheet, row, column, cell, value). Every error, the framework's own included (an unknown
address, a method not allowed, a body that is not JSON), is answered as ``{"message", "problems"}``.
"""

from __future__ import annotations

import atexit
import dataclasses
import io
import json
import math
import shutil
import tempfile
import threading
import zipfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..core.errors import InputError, PolicyError, Problem
from ..data.load import load_instance
from ..data.names import UnknownName, resolve_province, resolve_sites
from ..data.policy import (
    BOOLEAN,
    KEYS,
    LARGE_SITE_RULES,
    NUMBER,
    OPTIONAL_NUMBER,
    available_presets,
    check_policy,
    load_policy,
    with_fixings,
)
from ..solve.options import SolveOptions
from .jobs import JobRunner
from .jsonable import MAX_PROBLEMS, RequestError, error_dict, writable
from .store import Workspace, describe, instance_map, plan_detail

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # as a table file of an instance folder
MAX_BODY_BYTES = 1024 * 1024  # any other request (every site of nl-2024 by name is some 50 kB)
MAX_SITES = 5000  # sites in one list of a request (nl-2024 has 1,517)
MAX_TEXT = 200  # characters of an id or a name
MAX_OVERRIDES = 100  # policy keys overridden in one request (a policy has some 20)
MAX_UNKNOWN_SITES = 20  # unknown names looked up per list: each is a fuzzy search through every site's name
# The policy keys the page offers, in this order (the rest keep the preset's values).
FORM_KEYS = (
    "budget",
    "large_site_rule",
    "max_travel_minutes",
    "max_travel_minutes_regular",
    "mean_travel_limit_minutes",
    "nearest_regular_sites",
    "allow_cross_province",
    "keep_existing_open",
    "travel_value",
    "unmet_penalty",
    "demand_scale",
    "whole_places",
)


UNICODE = "must be text without lone surrogates"


def _unicode(value):
    """Text that can be written back, also inside an override's value (the framework checks the typed fields):
    JSON's \\u escapes also spell lone surrogates, which UTF-8 cannot hold."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(UNICODE) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _unicode(k)
            _unicode(v)
    elif isinstance(value, list):
        for v in value:
            _unicode(v)
    return value


Text = Annotated[str, Field(max_length=MAX_TEXT)]
# Checked by the policy's own rules, which name the key and the value, as for `--set`.
Value = Annotated[
    Any,
    AfterValidator(_unicode),
    WithJsonSchema({"anyOf": [{"type": t} for t in ("string", "number", "boolean", "null")]}),
]


class PolicyRequest(BaseModel):
    """An instance and a policy: a preset, key overrides (as `--set`), sites forced and forbidden."""

    model_config = ConfigDict(extra="forbid")
    instance: Text = Field(description="Instance id (GET /api/instances).")
    preset: Text = Field(
        "default",
        description="Policy preset name (GET /api/policies).",
        json_schema_extra={"enum": available_presets()},  # checked by _policy, in the command line's words
    )
    overrides: dict[Text, Value] = Field(
        default_factory=dict,
        max_length=MAX_OVERRIDES,
        description='Policy keys to override, as `--set key=value`; null means "none".',
    )
    force_sites: list[Text] = Field(
        default_factory=list, max_length=MAX_SITES, description="Sites to open, by id or name (as --force-site)."
    )
    forbid_sites: list[Text] = Field(
        default_factory=list,
        max_length=MAX_SITES,
        description="Sites to keep closed, by id or name (as --forbid-site).",
    )


class SolveRequest(PolicyRequest):
    """A solve: the policy, limits, and a label for the plan."""

    time_limit: float = Field(
        300.0, ge=0, le=1e7, strict=True, allow_inf_nan=False, description="Seconds for the whole solve."
    )
    gap: float = Field(
        SolveOptions.gap,
        ge=0,
        le=1,
        strict=True,
        allow_inf_nan=False,
        description="Relative MIP gap at which a plan counts as optimal.",
    )
    label: str = Field("", max_length=120, description="Name of the plan in the session (default: from the policy).")
    scenario: Text | None = Field(
        None,
        description="With periods: plan for one scenario of need.csv, or for all at once (band, the default), as `--scenario`.",
    )
    myopic: bool = Field(
        False, strict=True, description="With periods: the baseline that plans each period for itself, as `--myopic`."
    )


class WhatIfRequest(PolicyRequest):
    """A ranking of a province's candidate large sites (as `allocator whatif`); with periods, each candidate forced
    is a plan over every period."""

    province: Text = Field(description="Province, by code (PV25) or name (Gelderland).")
    candidates: list[Text] | None = Field(
        None, max_length=MAX_SITES, description="Large sites to test, by id or name (default: all of the province's)."
    )
    time_limit: float = Field(
        300.0, ge=0, le=1e7, strict=True, allow_inf_nan=False, description="Seconds for each solve."
    )
    gap: float = Field(
        SolveOptions.gap,
        ge=0,
        le=1,
        strict=True,
        allow_inf_nan=False,
        description="Relative MIP gap of each solve.",
    )


class CompareRequest(BaseModel):
    """Plans to compare, the first as the base."""

    model_config = ConfigDict(extra="forbid")
    plans: list[Text] = Field(min_length=2, max_length=8, description="Plan ids (GET /api/plans).")
    figures: list[Literal["map", "provinces", "costs", "travel"]] = Field(
        ["provinces", "costs", "travel"],
        max_length=4,
        description="The report's figures to draw, side by side on the same scales (inline SVG; the map is the slowest); "
        "plans over several periods are compared in tables only: leave it out for them.",
    )


class ProblemBody(BaseModel):
    """One problem: where (a file or sheet, or the request's field), row, column, cell, the value, what is wrong."""

    file: str
    message: str
    row: int | None
    column: str | None
    value: str | None
    cell: str | None
    text: str = Field(description="The problem as one line.")


class ErrorBody(BaseModel):
    """Every error: a message, and the problems found."""

    message: str = Field(description="The error as text, every problem listed on a line of its own.")
    problems: list[ProblemBody] = Field(
        description=f"At most {MAX_PROBLEMS} (the message counts the rest); none for an unknown id or address."
    )


ERRORS = {
    400: "The body cannot be read (not JSON, or for an upload not a form)",
    404: "No such instance, job or plan",
    413: f"The body is larger than the API takes ({MAX_BODY_BYTES / 2**20:g} MB, an uploaded workbook {MAX_UPLOAD_BYTES / 2**20:g} MB)",
    422: "Bad input: every problem, with its field and value",
}


def errors(*codes: int) -> dict:
    """The error answers of a route, for its OpenAPI description."""
    return {code: {"model": ErrorBody, "description": ERRORS[code]} for code in codes}


ID = errors(404, 422)  # a route with an id in its path
BODY = errors(400, 404, 413, 422)  # a route with a JSON body that names an instance or plans
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def files(description: str, *types: str) -> dict:
    """The answer of a route that sends a file, for its OpenAPI description."""
    return {200: {"description": description, "content": {t: {} for t in types}}}


class BodyLimit:
    """Refuses a request body over the API's limit with 413: at once when its length is declared, else on reaching it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "POST" and scope["path"] == "/api/instances"
        # A workbook comes wrapped in a form; the route itself refuses one over MAX_UPLOAD_BYTES.
        limit = MAX_UPLOAD_BYTES + MAX_BODY_BYTES if upload else MAX_BODY_BYTES
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await JSONResponse({"message": _too_large(limit), "problems": []}, status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # the framework answers this when it reads the body
                raise HTTPException(413, _too_large(limit))
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> str:
    return f"the request body is larger than the API takes: at most {limit:,} bytes ({limit / 2**20:g} MB)"


@dataclass
class Context:
    """What the routes share: the workspace, the job runner, and the settings of the server."""

    store: Workspace
    runner: JobRunner
    workers: int  # block processes per solve (0 = one per core)
    figures: threading.Lock = field(default_factory=threading.Lock)  # matplotlib's rc settings are global


def context(request: Request) -> Context:
    """The application's context (a dependency of every route)."""
    return request.app.state.context


Ctx = Annotated[Context, Depends(context)]
router = APIRouter()


def create_app(
    instance: str | Path, workspace: str | Path | None = None, max_running: int = 2, workers: int = 0
) -> FastAPI:
    """The workbench for ``instance`` (validated now; InstanceError if bad), keeping its files in ``workspace``.

    ``workspace`` defaults to a new temporary folder, removed when the application stops;
    ``max_running`` jobs run at once; ``workers`` is the solver's block processes per job (0 = one per core).
    """
    own = workspace is None
    root = Path(tempfile.mkdtemp(prefix="allocator-workbench-")) if own else Path(workspace)
    store = Workspace(root)
    if own:  # also when the application never started (interrupted before)
        atexit.register(store.close)
    path = Path(instance)
    store.add_instance(path, load_instance(path), uploaded=False)
    runner = JobRunner(root / "jobs", lambda job: _keep_plans(store, job), max_running=max_running)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        threading.Thread(target=runner.warm_up, daemon=True).start()
        try:
            yield
        finally:
            runner.close()
            if own:
                store.close()

    app = FastAPI(
        title="Reception Allocator workbench",
        version="1",
        description="The JSON API behind the workbench page: instances, policies, solve and what-if jobs, plans, comparison, reports.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's own pages load their scripts from a CDN; /docs is served from the package
        redoc_url=None,
    )
    app.state.context = Context(store, runner, workers)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(RequestValidationError, _request_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(BodyLimit)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(router)
    return app


STATIC = resources.files("allocator.workbench") / "static"


# Problems found in request fields that the command line names by their option.
FIELD_NAMES = {"--set": "overrides", "--province": "province", "--candidates": "candidates", "--scenario": "scenario"}


async def _input_error(request: Request, exc: InputError, status: int = 422):
    problems = [dataclasses.replace(p, file=FIELD_NAMES.get(p.file, p.file)) for p in exc.problems]
    return JSONResponse(status_code=status, content=error_dict(type(exc)(problems)))


async def _request_error(request: Request, exc: RequestValidationError):
    """The framework's checks of a request (its models, parameters and JSON), as problems naming field and value."""
    errors = exc.errors()
    bad_json = [e for e in errors if e["type"] == "json_invalid"]
    if bad_json:
        e = bad_json[0]
        where = f" at character {e['loc'][1]}" if len(e["loc"]) > 1 else ""
        problem = Problem("request body", f"not valid JSON: {(e.get('ctx') or {}).get('error', e['msg'])}{where}")
        return await _input_error(request, RequestError([problem]), 400)
    return await _input_error(request, RequestError([_request_problem(e) for e in errors]))


def _request_problem(error: dict) -> Problem:
    where, *path = error["loc"]
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part == "[key]":
            name += " (key)"
        else:
            name += f".{part}" if name else str(part)
    value = error.get("input")
    shown = error["type"] not in ("missing", "too_long") and isinstance(value, (str, int, float, bool))
    return Problem(name or f"request {where}", _request_message(error), value=value if shown else None)


def _request_message(error: dict) -> str:
    """The framework's message in the words of the command line's problems."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return "must be a JSON object"
    if kind == "too_long":
        items = "entries" if ctx.get("field_type") == "Dictionary" else "items"
        given = ctx.get("actual_length") or len(error["input"])  # not counted for a dictionary
        return f"at most {ctx['max_length']:,} {items} (the API's limit), not {given:,}"
    if kind == "string_unicode":
        return UNICODE
    if kind == "string_too_long":
        return f"at most {ctx['max_length']:,} characters (the API's limit)"
    message = error["msg"].removeprefix("Value error, ")
    for lead in ("Input should", "List should", "String should", "Dictionary should", "Value should"):
        if message.startswith(lead):
            return "must" + message[len(lead) :]
    return message[:1].lower() + message[1:]


async def _http_error(request: Request, exc: StarletteHTTPException):
    """HTTP errors (unknown ids and addresses, methods not allowed, ...) as a message without problems."""
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    message, headers = exc.detail, exc.headers
    if message == HTTPStatus(exc.status_code).phrase:  # the framework's own: say what was asked
        what = f"{request.method} {request.url.path}"
        if exc.status_code == 404:
            message = f"no such address: {what} (GET /docs lists the API)"
        elif exc.status_code == 405:
            # The framework names the methods of the first route of this path only.
            routes = [*router.routes, *request.app.router.routes]
            allowed = ", ".join(
                sorted(
                    {
                        method
                        for route in routes
                        if getattr(route, "methods", None) and route.matches(request.scope)[0] is not Match.NONE
                        for method in route.methods
                    }
                )
            )
            message, headers = f"method not allowed: {what} (allowed: {allowed})", {**(headers or {}), "Allow": allowed}
        else:
            message = f"{message.lower()}: {what}"
    return JSONResponse({"message": writable(message), "problems": []}, status_code=exc.status_code, headers=headers)


async def _internal_error(request: Request, exc: Exception):
    """An error of the server itself (its traceback goes to the server's log)."""
    message = writable(f"internal error: {type(exc).__name__}: {exc}")
    return JSONResponse({"message": message, "problems": []}, status_code=500)


@router.get("/", include_in_schema=False)
def page():
    """The workbench page."""
    return FileResponse(str(STATIC / "index.html"), headers={"Cache-Control": "no-cache"})


@router.get("/docs", include_in_schema=False)
def docs():
    """The API reference, drawn from /openapi.json by the page itself."""
    return FileResponse(str(STATIC / "api.html"), headers={"Cache-Control": "no-cache"})


# ---------------------------------------------------------------- instances and policies


@router.get("/api/instances")
def list_instances(ctx: Ctx):
    """The instances of this session (the one served first)."""
    return [describe(e) for e in list(ctx.store.instances.values())]


@router.post("/api/instances", status_code=201, responses=errors(400, 413, 422))
def upload_instance(ctx: Ctx, file: Annotated[UploadFile, File(description="An instance workbook (.xlsx).")]):
    """Upload an instance workbook (.xlsx); validated as by the CLI."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the workbook is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    return describe(ctx.store.upload(file.filename or "upload.xlsx", data))


@router.get("/api/instances/{instance_id}", responses=ID)
def get_instance(ctx: Ctx, instance_id: str):
    """An instance described (as `allocator validate`)."""
    return describe(_instance(ctx.store, instance_id))


@router.get("/api/instances/{instance_id}/map", responses=ID)
def get_map(ctx: Ctx, instance_id: str):
    """The instance in SVG coordinates: boundaries, points, sites."""
    return instance_map(_instance(ctx.store, instance_id))


@router.get("/api/policies")
def policies():
    """The policy presets, their values, and the keys the page offers."""
    presets = [{"name": n, **load_policy(n).to_dict()} for n in available_presets()]
    return {"presets": presets, "keys": [_key_spec(k) for k in FORM_KEYS]}


@router.post("/api/validate", responses=BODY)
def validate(ctx: Ctx, request: PolicyRequest):
    """Validate an instance id and a policy (as the CLI would, before solving)."""
    entry, policy = _policy(ctx.store, request)
    return {"instance": entry.id, "policy": policy.to_dict()}


# ---------------------------------------------------------------- jobs


@router.post("/api/solve", status_code=202, responses=BODY)
def solve(ctx: Ctx, request: SolveRequest):
    """Start a solve job; poll GET /api/jobs/{id}. An instance with periods is planned over all of them."""
    entry, policy = _policy(ctx.store, request)
    horizon = {}
    if entry.instance.horizon is None:
        for name, given in (("scenario", request.scenario is not None), ("myopic", request.myopic)):
            if given:
                raise RequestError([Problem(name, _NO_PERIODS[name], value=getattr(request, name))])
    else:
        from ..analysis.horizon import scenarios_for

        scenarios_for(entry.instance, request.scenario)  # an unknown scenario is refused now, naming the known
        horizon = {"scenario": request.scenario, "myopic": request.myopic}
    made = {**_made(request), **horizon}
    job = ctx.runner.submit(
        "solve",
        {
            "instance": str(entry.path),
            "policy": policy.to_dict(),
            "options": {"time_limit": request.time_limit, "gap": request.gap, "workers": ctx.workers},
            "made": made,
            **horizon,
        },
        (str(entry.path), request.preset, json.dumps(request.overrides, sort_keys=True), json.dumps(horizon)),
        request.label or _label(request),
    )
    return job.view()


_NO_PERIODS = {
    "scenario": "the instance has no periods (periods.csv), so no scenarios of need: leave scenario out",
    "myopic": "the instance has no periods (periods.csv), so no myopic baseline: leave myopic out",
}


@router.post("/api/whatif", status_code=202, responses=BODY)
def whatif(ctx: Ctx, request: WhatIfRequest):
    """Start a what-if ranking job; poll GET /api/jobs/{id}. With periods each candidate is a plan over the
    horizon (the band of scenarios), ranked by objective with its cost, unmet place-periods, openings, closings
    and moves, and per period what the province's large sites hold."""
    from ..analysis.whatif import candidate_sites

    entry, policy = _policy(ctx.store, request)
    province = resolve_province(entry.instance, request.province, "province")
    candidates = None if request.candidates is None else list(_sites(entry.instance, request.candidates, "candidates"))
    candidate_sites(entry.instance, policy, province, candidates)
    job = ctx.runner.submit(
        "whatif",
        {
            "instance": str(entry.path),
            "policy": policy.to_dict(),
            "province": province,
            "candidates": candidates,
            "options": {"time_limit": request.time_limit, "gap": request.gap, "workers": ctx.workers},
            # With periods each plan is for the band of scenarios, as a solve without scenario or myopic.
            "made": {
                **_made(request),
                **({} if entry.instance.horizon is None else {"scenario": None, "myopic": False}),
            },
        },
        (str(entry.path), None),
        f"what-if {province}",
    )
    return job.view()


@router.get("/api/jobs")
def list_jobs(ctx: Ctx):
    """Every job of this session, newest first."""
    return [j.view() for j in reversed(list(ctx.runner.jobs.values()))]


@router.get("/api/jobs/{job_id}", responses=ID)
def get_job(ctx: Ctx, job_id: str):
    """A job: status, phase, progress, and its result when done."""
    return _job(ctx.runner, job_id).view()


@router.post("/api/jobs/{job_id}/cancel", responses=ID)
def cancel_job(ctx: Ctx, job_id: str):
    """Cancel a job: stops its worker (and only its worker)."""
    _job(ctx.runner, job_id)
    return ctx.runner.cancel(job_id).view()


# ---------------------------------------------------------------- plans


@router.get("/api/plans")
def list_plans(ctx: Ctx):
    """The plans kept in this session."""
    return [p.view() for p in list(ctx.store.plans.values())]


@router.get("/api/plans/{plan_id}", responses=ID)
def get_plan(
    ctx: Ctx,
    plan_id: str,
    scenario: Annotated[
        str | None,
        Query(max_length=MAX_TEXT, description="With periods: the scenario to show (default: mid, else the first)."),
    ] = None,
):
    """A plan with its open sites, flows, municipalities and provinces; with periods, its KPIs per period and
    scenario, and in one scenario a timeline per site, flows and need per period, and each group's need."""
    return plan_detail(_plan(ctx.store, plan_id), scenario)


@router.delete("/api/plans/{plan_id}", status_code=204, responses=ID)
def delete_plan(ctx: Ctx, plan_id: str):
    """Forget a plan."""
    _plan(ctx.store, plan_id)
    ctx.store.forget_plan(plan_id)
    return Response(status_code=204)


@router.get(
    "/api/plans/{plan_id}/download",
    response_class=Response,
    responses={**files("The file", "application/zip", XLSX, "text/html"), **ID},
)
def download(ctx: Ctx, plan_id: str, format: Literal["zip", "xlsx", "html"] = "zip"):
    """A plan as a solution folder (zip), a workbook or the HTML report."""
    entry = _plan(ctx.store, plan_id)
    if format == "zip":
        return Response(
            _zip(entry.folder, entry.id), media_type="application/zip", headers=_attachment(f"{entry.id}.zip")
        )
    if format == "xlsx" and entry.horizon:
        raise RequestError(
            [
                Problem(
                    "format",
                    "a workbook holds plans of one snapshot and this plan has periods: download it as zip "
                    "(a solution folder) or html (its report)",
                    value=format,
                )
            ]
        )
    folder = Path(tempfile.mkdtemp(dir=ctx.store.root / "downloads"))
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    if format == "xlsx":
        from ..reports.workbook import write_solution_workbook
        from ..results.solution import read_solution

        target = write_solution_workbook(read_solution(entry.folder), folder / f"{entry.id}.xlsx")
        return FileResponse(str(target), media_type=XLSX, filename=target.name, background=cleanup)
    return _report(ctx, [entry.id], folder, cleanup)


@router.get("/api/report", response_class=Response, responses={**files("The report", "text/html"), **ID})
def report(ctx: Ctx, plans: Annotated[list[str], Query(min_length=1, max_length=8, description="Plan ids.")]):
    """One HTML report of one or more plans, side by side (as `allocator report`)."""
    entries = [_plan(ctx.store, plan_id) for plan_id in plans]
    _one_horizon_plan(entries)
    folder = Path(tempfile.mkdtemp(dir=ctx.store.root / "downloads"))
    return _report(ctx, plans, folder, BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.post("/api/compare", responses=BODY)
def compare(ctx: Ctx, request: CompareRequest):
    """Compare plans (as `allocator compare`), with the report's figures; plans over several periods (of one
    instance) are compared period by period and scenario, in tables."""
    entries = [_plan(ctx.store, p) for p in request.plans]
    _one_kind(entries)
    if entries[0].horizon:
        return _compare_horizons(ctx, request, entries)
    from ..analysis.compare import compare_solutions, recheck, sections, to_dict
    from ..results.solution import read_solution

    solutions = [read_solution(e.folder) for e in entries]
    checks = [recheck(s, e.folder) for s, e in zip(solutions, entries)]  # what the check says now, as the CLI shows
    comparison = compare_solutions(solutions, [e.id for e in entries], checks=checks)
    out = {
        **to_dict(comparison),
        "labels": {e.id: e.label for e in entries},
        "tables": [{"title": t, "headers": h, "rows": r, "align": a} for t, h, r, a in sections(comparison)],
    }
    if request.figures:
        with ctx.figures:
            out["figures"] = _figures([e.folder for e in entries], request.figures)
    return out


def _compare_horizons(ctx: Context, request: CompareRequest, entries) -> dict:
    """Plans over several periods side by side: KPIs, each period and scenario (and group), and what changed."""
    from ..analysis.compare_horizon import compare_horizons, recheck_horizon, sections, to_dict
    from ..results.solution import read_horizon_solution

    if "figures" in request.model_fields_set and request.figures:
        raise RequestError(
            [
                Problem(
                    "figures",
                    "the report's figures are drawn for plans of one snapshot and these plans are over several "
                    "periods, compared in tables: leave figures out",
                    value=", ".join(request.figures),
                )
            ]
        )
    solutions = [read_horizon_solution(e.folder) for e in entries]
    instances = [ctx.store.instance(e.instance) for e in entries]  # as loaded: nl-2024-horizon takes seconds
    checks = [
        recheck_horizon(s, e.folder, i.path, {"given": i.instance}) for s, e, i in zip(solutions, entries, instances)
    ]
    comparison = compare_horizons(solutions, [e.id for e in entries], checks=checks)
    return {
        **to_dict(comparison),
        "horizon": True,
        "labels": {e.id: e.label for e in entries},
        "tables": [{"title": t, "headers": h, "rows": r, "align": a} for t, h, r, a in sections(comparison)],
    }


# ---------------------------------------------------------------- helpers of the routes


def _instance(store: Workspace, ident: str):
    entry = store.instance(ident)
    if entry is None:
        raise HTTPException(404, f"no instance {ident!r} (GET /api/instances lists them)")
    return entry


def _plan(store: Workspace, ident: str):
    entry = store.plan(ident)
    if entry is None:
        raise HTTPException(404, f"no plan {ident!r} (GET /api/plans lists them)")
    return entry


def _job(runner: JobRunner, ident: str):
    job = runner.get(ident)
    if job is None:
        raise HTTPException(404, f"no job {ident!r} (GET /api/jobs lists them)")
    return job


def _one_horizon_plan(entries) -> None:
    """Refuse a report of several plans when one of them is over several periods (reported on its own)."""
    horizon = [e.id for e in entries if e.horizon]
    if horizon and len(entries) > 1:
        one = len(horizon) == 1
        raise RequestError(
            [
                Problem(
                    "plans",
                    f"{', '.join(horizon)} {'is a plan' if one else 'are plans'} over several periods, "
                    f"{'which is' if one else 'each'} reported on its own: ask for the report of one plan "
                    "(POST /api/compare sets plans over the same periods side by side)",
                    value=", ".join(e.id for e in entries),
                )
            ]
        )


def _one_kind(entries) -> None:
    """Refuse plans over several periods mixed with plans of one snapshot, naming both."""
    horizon = [e.id for e in entries if e.horizon]
    snapshot = [e.id for e in entries if not e.horizon]
    if horizon and snapshot:
        raise RequestError(
            [
                Problem(
                    "plans",
                    f"{', '.join(horizon)} {'is a plan' if len(horizon) == 1 else 'are plans'} over several periods "
                    f"and {', '.join(snapshot)} {'a plan' if len(snapshot) == 1 else 'plans'} of one snapshot, which "
                    "cannot be set side by side: compare plans of one kind (of the same instance)",
                    value=", ".join(e.id for e in entries),
                )
            ]
        )


def _policy(store: Workspace, request: PolicyRequest):
    """The instance and the policy of a request, validated as the command line validates them."""
    entry = _instance(store, request.instance)
    if request.preset not in available_presets():
        # Only preset names: a path would let a request read files of the server.
        raise PolicyError(
            [
                Problem(
                    "preset", f"unknown policy preset (presets: {', '.join(available_presets())})", value=request.preset
                )
            ]
        )
    overrides = {k: "none" if v is None else _float_range(v) for k, v in request.overrides.items()}
    policy = load_policy(request.preset, overrides)
    force = _sites(entry.instance, request.force_sites, "force_sites")
    forbid = _sites(entry.instance, request.forbid_sites, "forbid_sites")
    policy = with_fixings(policy, force, forbid)
    check_policy(policy, entry.instance)
    return entry, policy


def _float_range(value):
    """Integers beyond a float's range as the infinity JSON makes of 1e999 (the policy reads numbers as floats)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, dict):
        return {k: _float_range(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_float_range(v) for v in value]
    return value


def _sites(instance, texts: list[str], name: str) -> tuple[str, ...]:
    """Site ids for ids or names, as the command line finds them; after MAX_UNKNOWN_SITES unknown ones the rest are not looked up."""
    found, problems = [], []
    for k, text in enumerate(texts):
        if len(problems) >= MAX_UNKNOWN_SITES:
            problems.append(Problem(name, f"{len(texts) - k} more not looked up after {len(problems)} unknown sites"))
            break
        try:
            found += resolve_sites(instance, [text], name)
        except UnknownName as exc:
            problems += exc.problems
    if problems:
        raise UnknownName(problems)
    return tuple(found)


def _key_spec(key: str) -> dict:
    if key == "large_site_rule":
        return {"key": key, "kind": "choice", "choices": list(LARGE_SITE_RULES)}
    if key in BOOLEAN:
        return {"key": key, "kind": "boolean"}
    if key in OPTIONAL_NUMBER:
        return {"key": key, "kind": "optional_number"}
    assert key in NUMBER and key in KEYS, key
    return {"key": key, "kind": "number"}


def _made(request: PolicyRequest) -> dict:
    return {
        "preset": request.preset,
        "overrides": request.overrides,
        "force_sites": request.force_sites,
        "forbid_sites": request.forbid_sites,
    }


def _label(request: PolicyRequest) -> str:
    parts = [request.preset]
    parts += [f"{k}={'none' if v is None else v}" for k, v in request.overrides.items()]
    parts += [f"+{s}" for s in request.force_sites] + [f"-{s}" for s in request.forbid_sites]
    if getattr(request, "scenario", None) is not None:
        parts.append(f"scenario={request.scenario}")
    if getattr(request, "myopic", False):
        parts.append("myopic")
    return " ".join(parts)


def _keep_plans(store: Workspace, job) -> None:
    """Keep the plans a finished job wrote, and put their ids into its result."""
    result, made = job.result, job.request["made"]
    instance = next(e.id for e in list(store.instances.values()) if str(e.path) == job.request["instance"])
    if job.kind == "solve":
        result["plans"] = [
            store.keep_plan(Path(r["folder"]), job.label, instance, job.id, {**made, "how": r["how"]}, r).id
            for r in result["plans"]
        ]
        return
    ids = {}
    for site, r in result["plans"].items():
        label = f"{result['province']} free" if site == "free" else f"{result['province']} +{site}"
        forced = made["force_sites"] + ([] if site == "free" else [site])
        ids[site] = store.keep_plan(
            Path(r["folder"]), label, instance, job.id, {**made, "force_sites": forced, "how": "whatif"}, r
        ).id
    result["plans"] = ids
    result["free"]["plan"] = ids.get("free")
    for row in result["table"]:
        row["plan"] = ids.get(row["site"])


def _zip(folder: Path, name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.iterdir()):
            z.write(path, f"{name}/{path.name}")
    return buffer.getvalue()


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _report(ctx: Context, plan_ids: list[str], folder: Path, cleanup) -> FileResponse:
    from ..reports.horizon_html import write_horizon_report
    from ..reports.html import write_report

    entries = [ctx.store.plan(p) for p in plan_ids]
    with ctx.figures:
        if entries[0].horizon:  # a plan over several periods is reported on its own (as `allocator report`)
            files = write_horizon_report(
                entries[0].folder, folder / "report.html", None, ctx.store.instance(entries[0].instance).path
            )
        else:
            files = write_report([e.folder for e in entries], folder / "report.html")
    name = "-".join(plan_ids) + "-report.html"
    return FileResponse(str(files.html), media_type="text/html", filename=name, background=cleanup)


def _figures(folders: list[Path], names: list[str]) -> dict[str, str]:
    """The report's figures of these plans, side by side on the same scales, as inline SVG."""
    from ..reports.figures import costs_figure, map_figure, provinces_figure, travel_figure
    from ..reports.html import load_panels, svg_markup

    panels = load_panels(folders)
    out = {}
    for name in dict.fromkeys(names):
        if name == "map":
            fig, tips = map_figure(panels)
        else:
            fig, tips = (
                {"provinces": provinces_figure, "costs": costs_figure, "travel": travel_figure}[name](panels),
                {},
            )
        out[name] = svg_markup(fig, f"compare-{name}", tips)
    return out
