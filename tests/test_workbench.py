"""The workbench's JSON API: every endpoint with good and bad input, jobs, warm re-solves and cancel."""

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import psutil
import pytest
from click.testing import CliRunner
from helpers import HAND, INSTANCES, run

from allocator.check import check_solution
from allocator.check.horizon import check_horizon_solution
from allocator.commands.main import cli
from allocator.data.load import load_instance
from allocator.data.workbook import export_instance
from allocator.results.solution import read_horizon_solution, read_solution

pytest.importorskip("fastapi", reason="the workbench needs the 'serve' extra")
from fastapi.testclient import TestClient  # noqa: E402

from allocator.workbench import app as workbench  # noqa: E402

TWO = INSTANCES / "tiny-two-provinces"
EXACT = {"time_limit": 60, "gap": 0}


def wait(client, job, seconds=120):
    """Poll a job until it ends."""
    deadline = time.monotonic() + seconds
    while job["status"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, f"job {job['id']} still {job['status']} ({job['phase']})"
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def solve(client, **request):
    r = client.post("/api/solve", json={"instance": "tiny-two-provinces", "overrides": HAND, **EXACT, **request})
    assert r.status_code == 202, r.text
    return wait(client, r.json())


def problems(response, status=422) -> list[str]:
    """The problems of an error answer, which has the workbench's format whoever raised it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "problems"} and isinstance(body["message"], str), body
    return [p["text"] for p in body["problems"]]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = workbench.create_app(TWO, tmp_path_factory.mktemp("workspace"), max_running=2, workers=1)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def two_plans(client):
    """The free optimum (8,100) and the plan with LB forced (11,950), as P-ids."""
    free = solve(client)
    forced = solve(client, force_sites=["LB"])
    return free["result"]["plans"][0], forced["result"]["plans"][0]


# ---------------------------------------------------------------- page, documentation


def test_page_and_its_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script type="module" src="/static/app.js">' in page.text
    static = Path(workbench.__file__).parent / "static"
    for path in static.iterdir():
        r = client.get(f"/static/{path.name}")
        assert r.status_code == 200, path.name
        # Works offline: nothing is fetched from another host.
        assert "http://" not in r.text.replace('"http://www.w3.org/2000/svg"', "") and "https://" not in r.text
    assert client.get("/static/nothing.js").status_code == 404


def test_api_documentation(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/instances",
        "/api/instances/{instance_id}",
        "/api/instances/{instance_id}/map",
        "/api/policies",
        "/api/validate",
        "/api/solve",
        "/api/whatif",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/cancel",
        "/api/plans",
        "/api/plans/{plan_id}",
        "/api/plans/{plan_id}/download",
        "/api/compare",
        "/api/report",
    } == paths
    assert all(op.get("description") for methods in spec["paths"].values() for op in methods.values())
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/api.js" in docs.text
    assert client.get("/redoc").status_code == 404  # FastAPI's own pages would load scripts from a CDN


# ---------------------------------------------------------------- instances and policies


def test_instances_are_described_as_validate_does(client):
    (inst,) = [i for i in client.get("/api/instances").json() if not i["uploaded"]]
    assert inst["id"] == "tiny-two-provinces" and inst["total_demand"] == 500 and inst["municipalities"] == 4
    assert [(p["id"], p["demand"], p["large_sites"]) for p in inst["provinces"]] == [
        ("P1", 300, ["LA", "LB"]),
        ("P2", 200, ["LC"]),
    ]
    assert client.get("/api/instances/tiny-two-provinces").json() == inst
    assert client.get("/api/instances/nope").status_code == 404


def test_map_without_bundled_boundaries_draws_points(client):
    m = client.get("/api/instances/tiny-two-provinces/map").json()
    assert m["polygons"] is False and m["attribution"] == ""
    assert [s["id"] for s in m["sites"]] == ["LA", "LB", "RB", "LC", "RD"]
    for item in m["municipalities"] + m["sites"]:
        assert 0 <= item["x"] <= m["width"] and 0 <= item["y"] <= m["height"]
    la, lb = (next(s for s in m["sites"] if s["id"] == k) for k in ("LA", "LB"))
    assert la["y"] == lb["y"] and la["x"] < lb["x"]  # same latitude; LB east of LA
    assert client.get("/api/instances/nope/map").status_code == 404


def test_map_of_the_national_instance_has_boundaries(tmp_path):
    app = workbench.create_app(INSTANCES / "nl-2024", tmp_path)
    with TestClient(app) as c:
        m = c.get("/api/instances/nl-2024/map").json()
    assert m["polygons"] is True and "Kadaster" in m["attribution"]
    assert sum(bool(x["path"]) for x in m["municipalities"]) == 342
    assert sum(bool(p["path"]) for p in m["provinces"]) == 12
    assert all(p["path"].startswith("M") and p["path"].endswith("Z") for p in m["provinces"])


def test_policies(client):
    data = client.get("/api/policies").json()
    presets = {p["name"]: p for p in data["presets"]}
    assert {"default", "no-large-rule", "regional"} <= set(presets)
    assert presets["default"]["large_site_rule"] == "exactly" and presets["default"]["max_travel_minutes"] == 120
    kinds = {k["key"]: k["kind"] for k in data["keys"]}
    assert kinds["budget"] == "optional_number" and kinds["large_site_rule"] == "choice"
    assert kinds["keep_existing_open"] == "boolean" and kinds["travel_value"] == "number"


def test_validate_good_policy(client):
    r = client.post(
        "/api/validate",
        json={
            "instance": "tiny-two-provinces",
            "preset": "default",
            "overrides": {"budget": 9000, "max_travel_minutes": None, "allow_cross_province": True},
            "force_sites": ["LB"],
        },
    )
    assert r.status_code == 200, r.text
    policy = r.json()["policy"]
    assert policy["budget"] == 9000 and policy["max_travel_minutes"] is None and policy["allow_cross_province"] is True
    assert policy["force_sites"] == ["LB"]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"overrides": {"budget": "lots"}}, ["overrides, column 'budget': must be a number (value: 'lots')"]),
        (
            {"overrides": {"colour": "red", "travel_value": -1}},
            [
                "overrides, column 'colour': unknown policy key (known: name, description, large_site_rule, max_travel_minutes, max_travel_minutes_regular, max_travel_minutes_transit, nearest_regular_sites, mean_travel_limit_minutes, allow_cross_province, keep_existing_open, unmet_penalty, unmet_penalty_by_group, fair_share_band, travel_value, budget, demand_scale, whole_places, force_sites, forbid_sites, risk, scenario_weights, discount_rate, move_cost, max_moves_per_period, housing_rate, housing_rate_by_province)",
                "overrides, column 'travel_value': must be >= 0 (value: -1)",
            ],
        ),
        ({"preset": "../models/default"}, None),  # a path, not a preset name: refused, never read
        (
            {"force_sites": ["NOPE"]},
            [
                "force_sites: no site with this id or name; known: LA (Aburg large), LB (Beedorp large), RB (Beedorp regular), LC (Ceestad large), RD (Deeveen regular) (value: 'NOPE')"
            ],
        ),
        (
            {"force_sites": ["LA"], "forbid_sites": ["LA"]},
            ["policy 'default', column 'force_sites': a site cannot be both forced and forbidden (value: 'LA')"],
        ),
    ],
)
def test_validate_refuses_what_the_command_line_refuses(client, request_, expected):
    for endpoint in ("/api/validate", "/api/solve"):
        r = client.post(endpoint, json={"instance": "tiny-two-provinces", **request_})
        found = problems(r)
        if expected is None:
            assert found == [
                "preset: unknown policy preset (presets: backtest, default, no-large-rule, regional) (value: '../models/default')"
            ]
        else:
            assert found == expected
            assert r.json()["message"].startswith(f"{len(expected)} problem")


def test_sites_and_provinces_by_name_as_on_the_command_line(client):
    r = client.post(
        "/api/validate",
        json={"instance": "tiny-two-provinces", "force_sites": ["Beedorp large"], "forbid_sites": ["aburg"]},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["policy"]["force_sites"], r.json()["policy"]["forbid_sites"]) == (["LB"], ["LA"])
    r = client.post("/api/whatif", json={"instance": "tiny-two-provinces", "province": "north", "candidates": ["LB"]})
    assert r.status_code == 202 and r.json()["label"] == "what-if P1"
    assert wait(client, r.json())["status"] == "done"


def test_request_fields_are_checked(client):
    r = client.post("/api/solve", json={"instance": "tiny-two-provinces", "time_limit": -1, "colour": "red"})
    assert problems(r) == [
        "time_limit: must be greater than or equal to 0 (value: -1)",
        "colour: unknown field (value: 'red')",
    ]
    assert r.json()["message"].startswith("2 problems in the request:\n  - time_limit: must be greater")
    assert problems(client.post("/api/solve", json={"preset": "default"})) == ["instance: required"]
    assert problems(client.post("/api/solve", json={"instance": "nope"}), 404) == []


@pytest.mark.parametrize("endpoint", ["/api/solve", "/api/whatif"])
@pytest.mark.parametrize("field", ["time_limit", "gap"])
@pytest.mark.parametrize(("literal", "shown"), [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf")])
def test_numbers_that_are_not_finite_are_refused_naming_field_and_value(client, endpoint, field, literal, shown):
    # Python's JSON reads these literals as floats; they cannot be written back as JSON.
    province = ', "province": "P1"' if endpoint == "/api/whatif" else ""
    body = f'{{"instance": "tiny-two-provinces"{province}, "{field}": {literal}}}'
    r = client.post(endpoint, content=body, headers={"Content-Type": "application/json"})
    assert problems(r) == [f"{field}: must be a finite number (value: {shown})"]
    assert r.json()["problems"][0]["file"] == field and r.json()["problems"][0]["value"] == shown


def test_any_json_value_is_answered_with_its_problem_not_a_server_error(client):
    def sent(endpoint, body):
        return problems(client.post(endpoint, content=body, headers={"Content-Type": "application/json"}))

    huge = "1" + "0" * 400  # JSON takes it; no float holds it
    base = '{"instance": "tiny-two-provinces", '
    assert sent("/api/validate", base + f'"overrides": {{"budget": {huge}}}}}') == [
        "overrides, column 'budget': must be a finite number (value: inf)"
    ]
    assert sent("/api/validate", base + f'"overrides": {{"scenario_weights": {{"low": -{huge}}}}}}}') == [
        "overrides, column 'scenario_weights': must be a finite number (value: {'low': -inf})"
    ]
    assert sent("/api/validate", base + '"overrides": {"budget": [1]}}') == [
        "overrides, column 'budget': must be a number (value: [1])"
    ]
    assert sent("/api/solve", base + '"gap": true, "time_limit": "60"}') == [
        "time_limit: must be a valid number (value: '60')",
        "gap: must be a valid number (value: True)",
    ]
    # JSON's \\u escapes spell lone surrogates too, which no UTF-8 answer can hold: refused, and named escaped.
    assert sent("/api/solve", base + '"label": "a\\udc00", "force_sites": ["\\ud800"]}') == [
        "force_sites[0]: must be text without lone surrogates (value: '\\ud800')",
        "label: must be text without lone surrogates (value: 'a\\udc00')",
    ]
    assert sent("/api/validate", base + '"overrides": {"name": ["\\udc00"]}}') == [
        "overrides.name: must be text without lone surrogates"
    ]
    many = {f"key{k}": 1 for k in range(101)}
    assert problems(client.post("/api/validate", json={"instance": "tiny-two-provinces", "overrides": many})) == [
        "overrides: at most 100 entries (the API's limit), not 101"
    ]


def test_the_frameworks_own_errors_have_the_workbench_format(client):
    assert problems(client.get("/api/nothing"), 404) == []
    assert client.get("/api/nothing").json()["message"] == "no such address: GET /api/nothing (GET /docs lists the API)"
    r = client.put("/api/solve", json={"instance": "tiny-two-provinces"})
    assert problems(r, 405) == [] and r.headers["allow"] == "POST"
    assert r.json()["message"] == "method not allowed: PUT /api/solve (allowed: POST)"
    r = client.post("/api/solve", content='{"instance": ', headers={"Content-Type": "application/json"})
    assert problems(r, 400) == ["request body: not valid JSON: Expecting value at character 13"]
    r = client.post("/api/solve", content="[1, 2]", headers={"Content-Type": "application/json"})
    assert problems(r) == ["request body: must be a JSON object"]
    assert problems(client.get("/api/report")) == ["plans: required"]
    assert problems(client.get("/api/plans/P1/download?format=pdf")) == [
        "format: must be 'zip', 'xlsx' or 'html' (value: 'pdf')"
    ]
    assert problems(client.post("/api/instances")) == ["file: required"]
    # A path with routes for several methods names them all.
    r = client.delete("/api/instances")
    assert problems(r, 405) == [] and r.headers["allow"] == "GET, POST"
    assert r.json()["message"] == "method not allowed: DELETE /api/instances (allowed: GET, POST)"
    assert client.put("/api/plans/P1").headers["allow"] == "DELETE, GET"
    broken = "--b\r\nNone--b--\r\n"  # declared a form, and not one
    r = client.post("/api/instances", content=broken, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert problems(r, 400) == []


def test_a_request_too_large_is_refused_at_once_naming_the_limit(client):
    many = [f"L-GM{k:06d}" for k in range(200_000)]
    for endpoint in ("/api/validate", "/api/solve", "/api/whatif"):
        r = client.post(endpoint, json={"instance": "tiny-two-provinces", "province": "P1", "forbid_sites": many})
        assert problems(r, 413) == []
        assert r.json()["message"] == ("the request body is larger than the API takes: at most 1,048,576 bytes (1 MB)")
    # Without a declared length (chunked), refused on reaching the limit.
    chunks = iter([b'{"instance": "tiny-two-provinces", "forbid_sites": ["'] + [b"x" * 65536] * 20 + [b'"]}'])
    r = client.post("/api/validate", content=chunks, headers={"Content-Type": "application/json"})
    assert problems(r, 413) == [] and "at most 1,048,576 bytes" in r.json()["message"]


def test_lists_and_texts_have_a_limit_and_errors_list_at_most_50_problems(client):
    r = client.post("/api/validate", json={"instance": "tiny-two-provinces", "force_sites": ["LA"] * 5001})
    assert problems(r) == ["force_sites: at most 5,000 items (the API's limit), not 5,001"]
    r = client.post(
        "/api/whatif", json={"instance": "tiny-two-provinces", "province": "P1", "candidates": ["LA"] * 5001}
    )
    assert problems(r) == ["candidates: at most 5,000 items (the API's limit), not 5,001"]
    r = client.post("/api/validate", json={"instance": "tiny-two-provinces", "forbid_sites": ["x" * 201] * 60})
    found = problems(r)
    assert len(found) == 50 and found[0] == (
        f"forbid_sites[0]: at most 200 characters (the API's limit) (value: '{'x' * 100}... (201 characters)')"
    )
    assert r.json()["message"].startswith("60 problems in the request:\n")
    assert r.json()["message"].endswith(
        "\n  - forbid_sites[49]" + found[-1][len("forbid_sites[49]") :] + "\n  ... and 10 more"
    )


def test_unknown_sites_are_looked_up_until_20_are_found(client):
    r = client.post("/api/validate", json={"instance": "tiny-two-provinces", "forbid_sites": ["LA"] + ["NOPE"] * 4999})
    found = problems(r)
    assert len(found) == 21 and found[0].startswith("forbid_sites: no site with this id or name; known: LA (Aburg")
    assert found[-1] == "forbid_sites: 4979 more not looked up after 20 unknown sites"


def test_an_internal_error_has_the_workbench_format_too(client, monkeypatch):
    def broken(entry):
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(workbench, "describe", broken)
    r = TestClient(client.app, raise_server_exceptions=False).get("/api/instances")
    assert problems(r, 500) == [] and r.json()["message"] == "internal error: RuntimeError: broken on purpose"


def test_the_api_documents_its_error_format(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and set(schemas["ErrorBody"]["properties"]) == {"message", "problems"}
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            for code, answer in op["responses"].items():
                if code.startswith("4"):
                    assert answer["content"]["application/json"]["schema"] == error, (method, path, code)
    assert set(spec["paths"]["/api/solve"]["post"]["responses"]) == {"202", "400", "404", "413", "422"}
    assert set(spec["paths"]["/api/jobs/{job_id}"]["get"]["responses"]) == {"200", "404", "422"}
    assert set(spec["paths"]["/api/instances"]["post"]["responses"]) == {"201", "400", "413", "422"}
    # Files are described as what they are, and the presets by name.
    download = spec["paths"]["/api/plans/{plan_id}/download"]["get"]["responses"]["200"]["content"]
    assert set(download) == {"application/zip", workbench.XLSX, "text/html"}
    assert set(spec["paths"]["/api/report"]["get"]["responses"]["200"]["content"]) == {"text/html"}
    assert schemas["PolicyRequest"]["properties"]["preset"]["enum"] == [
        "backtest",
        "default",
        "no-large-rule",
        "regional",
    ]


# ---------------------------------------------------------------- solve jobs


def test_solve_gives_the_hand_optimum_checked(client, two_plans):
    free, forced = (client.get(f"/api/plans/{p}").json() for p in two_plans)
    assert free["objective"] == 8100 == run(TWO).solution.objective
    assert forced["objective"] == 11950 == run(TWO, force_sites="LB").solution.objective
    for plan in (free, forced):
        assert plan["status"] == "optimal" and plan["check"] == {"passed": True, "violations": []}
        report = check_solution(
            read_solution(client.app.state.context.store.plan(plan["id"]).folder), load_instance(TWO)
        )
        assert report.passed and report.objective == plan["objective"]
    assert {(f["municipality"], f["site"]): f["placed"] for f in free["flows"]} == {
        ("A", "LA"): 200,
        ("B", "RB"): 100,
        ("C", "LC"): 150,
        ("D", "RD"): 50,
    }
    assert {s["site"]: s["fixing"] for s in forced["sites"]}["LB"] == "forced"
    assert sum(m["placed"] for m in free["municipalities"]) == 500
    assert (
        forced["made"]["force_sites"] == ["LB"]
        and forced["label"]
        == "default travel_value=1 unmet_penalty=1000 max_travel_minutes=none max_travel_minutes_regular=none +LB"
    )


def test_a_changed_fixing_is_a_warm_re_solve_and_other_values_a_cold_one(client, two_plans):
    jobs = client.get("/api/jobs").json()
    by_plan = {p: j for j in jobs if j["kind"] == "solve" and j["status"] == "done" for p in j["result"]["plans"]}
    assert by_plan[two_plans[1]]["result"]["how"] == "warm"
    cold = solve(client, overrides={**HAND, "unmet_penalty": 2000}, label="dearer unmet")
    assert cold["result"]["how"] == "cold" and cold["result"]["status"] == "optimal"
    assert client.get(f"/api/plans/{cold['result']['plans'][0]}").json()["label"] == "dearer unmet"


def test_infeasible_solve_is_reported_without_a_plan(client):
    job = solve(client, forbid_sites=["LC"])  # P2's only large site, under "exactly one"
    assert job["status"] == "done" and job["result"]["status"] == "infeasible" and job["result"]["plans"] == []
    assert [f["sentence"] for f in job["result"]["why"]] == [
        "South: every large site is forbidden (Ceestad large (LC)), but the rule requires exactly one large site",
        "South: the sites that may open within reach hold at most 100 places, below the demand they could serve (200); at least 100 places stay unmet",
    ]


def test_a_group_that_no_site_takes_is_named_under_its_plan(tmp_path):
    app = workbench.create_app(INSTANCES / "tiny-groups", tmp_path, workers=1)
    with TestClient(app) as c:
        request = {"instance": "tiny-groups", "overrides": HAND, **EXACT}
        job = wait(c, c.post("/api/solve", json={**request, "forbid_sites": ["AU", "RA"]}).json())
        assert job["status"] == "done" and job["result"]["status"] == "optimal"
        plan = c.get(f"/api/plans/{job['result']['plans'][0]}").json()
        assert plan["kpis"]["unmet"] == 20
        (why,) = plan["why"]
        assert why["sentence"] == (
            "unaccompanied minors (amv): no site takes its 20 places: every site that takes the group is forbidden "
            "(Bury minors unit (AU), Aby regular (RA)); they stay unmet"
        )
        assert why["objects"] == ["amv", "AU", "RA"] and job["result"]["why"] == plan["why"]
        free = wait(c, c.post("/api/solve", json=request).json())  # every place placed: nothing to explain
        assert free["result"]["why"] == [] and c.get(f"/api/plans/{free['result']['plans'][0]}").json()["why"] == []


def test_jobs_list_and_unknown_job(client, two_plans):
    jobs = client.get("/api/jobs").json()
    assert jobs and all(j["status"] in ("done", "failed", "cancelled") for j in jobs)
    assert [int(j["id"][1:]) for j in jobs] == sorted((int(j["id"][1:]) for j in jobs), reverse=True)
    assert client.get("/api/jobs/J999").status_code == 404
    assert client.post("/api/jobs/J999/cancel").status_code == 404
    done = jobs[-1]
    assert client.post(f"/api/jobs/{done['id']}/cancel").json()["status"] == done["status"]  # nothing to stop


# ---------------------------------------------------------------- what-if


def test_whatif_ranks_and_keeps_every_plan(client):
    r = client.post(
        "/api/whatif", json={"instance": "tiny-two-provinces", "province": "P1", "overrides": HAND, **EXACT}
    )
    assert r.status_code == 202, r.text
    job = wait(client, r.json())
    result = job["result"]
    assert job["status"] == "done" and (job["done"], job["total"]) == (2, 2)
    assert [(row["rank"], row["site"], row["objective"]) for row in result["table"]] == [
        (1, "LA", 8100),
        (2, "LB", 11950),
    ]
    assert result["free"]["site"] == "LA" and result["table"][1]["difference"] == 3850
    plans = {row["site"]: client.get(f"/api/plans/{row['plan']}").json() for row in result["table"]}
    assert plans["LB"]["objective"] == 11950 and plans["LB"]["check"]["passed"]
    assert plans["LB"]["made"]["force_sites"] == ["LB"] and plans["LB"]["made"]["how"] == "whatif"
    assert client.get(f"/api/plans/{result['free']['plan']}").json()["objective"] == 8100


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"province": "P9"}, "province: no province with this id or name; known: P1 (North), P2 (South) (value: 'P9')"),
        ({"province": "P1", "candidates": ["RB"]}, "candidates: not a large site (kind 'regular') (value: 'RB')"),
        ({"province": "P1", "candidates": ["LC"]}, "candidates: a large site of P2, not of P1 (value: 'LC')"),
    ],
)
def test_whatif_bad_input(client, request_, expected):
    assert problems(client.post("/api/whatif", json={"instance": "tiny-two-provinces", **request_})) == [expected]


# ---------------------------------------------------------------- plans: list, forget, download


def test_plans_list_and_forget(client):
    plan = solve(client, label="to forget")["result"]["plans"][0]
    assert plan in [p["id"] for p in client.get("/api/plans").json()]
    folder = client.app.state.context.store.plan(plan).folder
    assert client.delete(f"/api/plans/{plan}").status_code == 204
    assert not folder.exists()
    assert client.get(f"/api/plans/{plan}").status_code == 404
    assert client.delete(f"/api/plans/{plan}").status_code == 404


def test_download_a_solution_folder(client, two_plans, tmp_path):
    r = client.get(f"/api/plans/{two_plans[0]}/download?format=zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert f'filename="{two_plans[0]}.zip"' in r.headers["content-disposition"]
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    folder = tmp_path / two_plans[0]
    assert sorted(p.name for p in folder.iterdir()) == [
        ".allocator.json",  # the marker: a folder the package wrote, that it may replace
        "municipalities.csv",
        "placements.csv",
        "provinces.csv",
        "sites.csv",
        "summary.json",
    ]
    assert check_solution(read_solution(folder), load_instance(TWO)).passed  # as `allocator check` would


def test_download_a_workbook_and_a_report(client, two_plans, tmp_path):
    r = client.get(f"/api/plans/{two_plans[0]}/download?format=xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    (tmp_path / "plan.xlsx").write_bytes(r.content)
    assert openpyxl.load_workbook(tmp_path / "plan.xlsx").sheetnames == [
        "summary",
        "provinces",
        "sites",
        "municipalities",
        "placements",
    ]
    r = client.get(f"/api/plans/{two_plans[0]}/download?format=html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Reception plan: tiny-two-provinces" in r.text and "<script" not in r.text
    assert client.get(f"/api/plans/{two_plans[0]}/download?format=pdf").status_code == 422
    assert client.get("/api/plans/P999/download").status_code == 404
    assert not list((client.app.state.context.store.root / "downloads").iterdir())  # temporary files removed


def test_report_of_several_plans(client, two_plans):
    r = client.get("/api/report", params={"plans": list(two_plans)})
    assert r.status_code == 200
    assert "Reception plans compared: tiny-two-provinces" in r.text and f"A · {two_plans[0]}" in r.text
    assert client.get("/api/report").status_code == 422
    assert client.get("/api/report", params={"plans": ["P999"]}).status_code == 404


# ---------------------------------------------------------------- compare


def test_compare_as_the_command_line(client, two_plans):
    r = client.post("/api/compare", json={"plans": list(two_plans)})
    assert r.status_code == 200, r.text
    c = r.json()
    assert [s["name"] for s in c["solutions"]] == list(two_plans)
    assert [s["objective"] for s in c["solutions"]] == [8100, 11950]
    assert [s["check"] for s in c["solutions"]] == ["passed", "passed"]  # re-run now, as `allocator compare` does
    (change,) = c["changes"]
    assert {(s["change"], s["site"]) for s in change["sites"]} == {("opened", "LB"), ("closed", "LA")}
    titles = [t["title"] for t in c["tables"]]
    assert titles[0] == "KPIs (money in EUR)" and "Realisation per province" in titles
    assert set(c["figures"]) == {"provinces", "costs", "travel"}
    assert all(svg.startswith("<svg") for svg in c["figures"].values())
    only_map = client.post("/api/compare", json={"plans": list(two_plans), "figures": ["map"]}).json()["figures"]
    assert set(only_map) == {"map"}


def test_compare_bad_input(client, two_plans):
    assert client.post("/api/compare", json={"plans": [two_plans[0]]}).status_code == 422
    assert client.post("/api/compare", json={"plans": [two_plans[0], "P999"]}).status_code == 404
    assert client.post("/api/compare", json={"plans": list(two_plans), "figures": ["pie"]}).status_code == 422


# ---------------------------------------------------------------- upload


def test_upload_a_workbook_and_solve_it(client, tmp_path, two_plans):
    path = export_instance(INSTANCES / "tiny-budget", tmp_path / "budget.xlsx")
    r = client.post("/api/instances", files={"file": ("budget.xlsx", path.read_bytes())})
    assert r.status_code == 201, r.text
    inst = r.json()
    assert inst["uploaded"] and inst["id"] in [i["id"] for i in client.get("/api/instances").json()]
    job = wait(client, client.post("/api/solve", json={"instance": inst["id"], "time_limit": 60}).json())
    assert job["result"]["status"] == "optimal"
    plan = job["result"]["plans"][0]
    assert client.get(f"/api/plans/{plan}").json()["instance"] == inst["id"]
    # Plans of different instances are not compared (as `allocator compare` without --allow-different-instances).
    assert "made for instance" in problems(client.post("/api/compare", json={"plans": [two_plans[0], plan]}))[0]


def test_upload_reports_every_problem_with_sheet_row_column_and_cell(client, tmp_path):
    path = export_instance(TWO, tmp_path / "bad.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["sites"]["F3"] = "closed"
    wb["sites"]["H4"] = "lots"
    wb.save(path)
    uploads = client.app.state.context.store.root / "uploads"
    kept = sorted(uploads.iterdir())
    r = client.post("/api/instances", files={"file": ("bad.xlsx", path.read_bytes())})
    assert problems(r) == [
        "sites!F3 (status): must be one of candidate, existing (value: 'closed')",
        "sites!H4 (capacity): not a whole number (value: 'lots')",
    ]
    first = r.json()["problems"][0]
    assert (first["file"], first["cell"], first["column"]) == ("sites", "F3", "status")
    assert sorted(uploads.iterdir()) == kept  # the bad workbook is not kept


def test_upload_refuses_other_files(client, monkeypatch):
    r = client.post("/api/instances", files={"file": ("instance.csv", b"a,b\n")})
    assert problems(r) == ["instance.csv: an instance workbook must be an .xlsx file"]
    r = client.post("/api/instances", files={"file": ("broken.xlsx", b"not a zip")})
    assert r.status_code == 422 and r.json()["problems"][0]["file"] == "broken.xlsx"
    monkeypatch.setattr(workbench, "MAX_UPLOAD_BYTES", 10)
    assert client.post("/api/instances", files={"file": ("big.xlsx", b"x" * 11)}).status_code == 413
    assert client.post("/api/instances").status_code == 422  # no file


# ---------------------------------------------------------------- instances with periods

STANDBY = INSTANCES / "tiny-horizon-standby"
GROUPS = INSTANCES / "tiny-horizon-groups"


@pytest.fixture(scope="module")
def horizon(tmp_path_factory):
    """A workbench serving tiny-horizon-standby, with tiny-horizon-band, tiny-horizon-groups and the snapshot
    tiny-two-provinces beside it."""
    app = workbench.create_app(STANDBY, tmp_path_factory.mktemp("horizon"), workers=1)
    store = app.state.context.store
    for name in ("tiny-horizon-band", "tiny-horizon-groups", "tiny-two-provinces"):
        store.add_instance(INSTANCES / name, load_instance(INSTANCES / name), uploaded=False)
    with TestClient(app) as c:
        yield c


def horizon_plan(client, instance="tiny-horizon-standby", **request):
    r = client.post("/api/solve", json={"instance": instance, "overrides": HAND, **EXACT, **request})
    assert r.status_code == 202, r.text
    job = wait(client, r.json())
    assert job["status"] == "done" and job["result"]["status"] == "optimal", job
    (plan,) = job["result"]["plans"]
    return job, client.get(f"/api/plans/{plan}").json()


def test_an_instance_with_periods_is_described_with_them(horizon):
    inst = horizon.get("/api/instances/tiny-horizon-band").json()
    assert inst["horizon"]["periods"] == ["2025", "2026"] and inst["horizon"]["scenarios"] == ["low", "mid", "high"]
    assert {(n["period"], n["scenario"]): n["need"] for n in inst["horizon"]["need"]}[("2026", "high")] == 150
    assert inst["groups"] == []
    groups = horizon.get("/api/instances/tiny-horizon-groups").json()
    assert [(g["id"], g["target"]) for g in groups["groups"]] == [
        ("asylum", "province"),
        ("amv", "province"),
        ("ua", "national"),
    ]
    assert horizon.get("/api/instances/tiny-horizon-standby").json()["horizon"]["scenarios"] == ["mid"]


def test_a_plan_over_periods_gives_the_hand_optimum_checked(horizon):
    job, plan = horizon_plan(horizon)
    assert job["result"]["how"] == "horizon" and plan["made"]["how"] == "horizon"
    assert plan["objective"] == 1268 == plan["bound"] and plan["gap"] == 0
    assert plan["check"] == {"passed": True, "violations": []}
    assert plan["horizon"] == {
        "plan": "integrated",
        "scenario": "mid",
        "scenarios": ["mid"],
        "periods": ["2025", "2026", "2027"],
        "groups": [],
    }
    # The folder is a horizon solution folder, as `allocator check` reads it.
    folder = horizon.app.state.context.store.plan(plan["id"]).folder
    report = check_horizon_solution(read_horizon_solution(folder), load_instance(STANDBY))
    assert report.passed and report.objective == 1268
    r = CliRunner().invoke(cli, ["check", str(folder), str(STANDBY)])
    assert r.exit_code == 0 and "objective recomputed 1,268.00" in r.output
    # The site plan: S1 opens in 2025, stands by in 2026 and is open again in 2027.
    s1 = next(t for t in plan["timeline"] if t["site"] == "S1")
    assert [(p["period"], p["state"], p["event"]) for p in s1["periods"]] == [
        ("2025", "open", "opening"),
        ("2026", "standby", ""),
        ("2027", "open", ""),
    ]
    kpis = {p["period"]: p for p in plan["period_kpis"]}
    assert set(kpis) == {"2025", "2026", "2027"} and kpis["2025"]["openings"] == 1
    assert all(k["need"] == k["placed"] + k["emergency"] + k["unmet"] for k in kpis.values())
    assert (plan["scenario_kpis"][0]["total_cost"], plan["scenario_kpis"][0]["objective"]) == (568, 1268)
    assert sum(f["placed"] for f in plan["flows"] if f["period"] == "2026") == kpis["2026"]["placed"]
    assert plan["groups"] == []


def test_the_myopic_baseline_is_a_plan_too(horizon):
    job, plan = horizon_plan(horizon, myopic=True)
    assert plan["objective"] == 1295 and plan["horizon"]["plan"] == "myopic" and plan["made"]["how"] == "myopic"
    assert plan["label"].endswith(" myopic") and plan["check"]["passed"]
    s1 = next(t for t in plan["timeline"] if t["site"] == "S1")
    assert [p["event"] for p in s1["periods"]] == ["opening", "closing", "opening"]


def test_a_band_is_planned_for_every_scenario_or_for_one(horizon):
    _, band = horizon_plan(horizon, "tiny-horizon-band")
    assert band["horizon"]["scenario"] == "band" and band["horizon"]["scenarios"] == ["low", "mid", "high"]
    assert band["scenario"] == "mid"  # shown first
    assert {(k["period"], k["scenario"]) for k in band["period_kpis"]} == {
        (t, w) for t in ("2025", "2026") for w in ("low", "mid", "high")
    }
    high = horizon.get(f"/api/plans/{band['id']}", params={"scenario": "high"}).json()
    assert high["scenario"] == "high" and [p["need"] for p in high["provinces"]] == [100, 150]
    # One site plan for the band: the same states in every scenario, other places.
    states = {
        w: {t["site"]: [p["state"] for p in t["periods"]] for t in d["timeline"]}
        for w, d in (("mid", band), ("high", high))
    }
    assert states["mid"] == states["high"]
    assert problems(horizon.get(f"/api/plans/{band['id']}", params={"scenario": "extreme"})) == [
        "scenario: not a scenario of this plan (its scenarios: low, mid, high) (value: 'extreme')"
    ]
    _, high_alone = horizon_plan(horizon, "tiny-horizon-band", scenario="high")
    assert high_alone["horizon"]["scenario"] == "high" and high_alone["horizon"]["scenarios"] == ["high"]
    assert high_alone["made"]["scenario"] == "high" and high_alone["label"].endswith(" scenario=high")


def test_groups_and_periods_per_group_and_period(horizon):
    _, plan = horizon_plan(horizon, "tiny-horizon-groups")
    assert plan["objective"] == 1083 and plan["check"]["passed"]
    assert [(g["group"], g["name"]) for g in plan["horizon"]["groups"]] == [
        ("asylum", "asylum seekers"),
        ("amv", "unaccompanied minors"),
        ("ua", "displaced from Ukraine"),
    ]
    need = {
        (g["group"], p["period"]): (p["need"], p["placed"], p["unmet"]) for g in plan["groups"] for p in g["periods"]
    }
    assert need == {
        ("asylum", "2025"): (150, 150, 0),
        ("asylum", "2026"): (50, 50, 0),
        ("amv", "2025"): (30, 30, 0),
        ("amv", "2026"): (10, 10, 0),
        ("ua", "2025"): (30, 30, 0),
        ("ua", "2026"): (10, 10, 0),
    }
    minors = {(f["site"], f["period"]): f["placed"] for f in plan["flows"] if f["group"] == "amv"}
    assert minors == {("S1", "2025"): 10, ("M1", "2025"): 20, ("M1", "2026"): 10}  # S1's own capacity binds
    forbidden = horizon_plan(horizon, "tiny-horizon-groups", forbid_sites=["M1"])[1]
    assert forbidden["objective"] == 20988
    unmet = {(g["group"], p["period"]): p["unmet"] for g in forbidden["groups"] for p in g["periods"]}
    assert unmet[("amv", "2025")] == 20 and unmet[("amv", "2026")] == 0


def test_what_the_workbench_cannot_do_with_periods_is_refused_in_one_sentence(horizon):
    _, plan = horizon_plan(horizon)
    assert problems(horizon.get(f"/api/plans/{plan['id']}/download?format=xlsx")) == [
        "format: a workbook holds plans of one snapshot and this plan has periods: download it as zip "
        "(a solution folder) or html (its report) (value: 'xlsx')"
    ]
    other = horizon_plan(horizon, force_sites=["S1"])[1]["id"]
    found = problems(horizon.get("/api/report", params={"plans": [plan["id"], other]}))
    assert found == [
        f"plans: {plan['id']}, {other} are plans over several periods, each reported on its own: ask for the report "
        f"of one plan (POST /api/compare sets plans over the same periods side by side) (value: '{plan['id']}, {other}')"
    ]
    r = horizon.post("/api/solve", json={"instance": "tiny-horizon-standby", "scenario": "high"})
    assert problems(r) == ["scenario: unknown scenario (known: mid, or band) (value: 'high')"]


# ---------------------------------------------------------------- what-if and compare over the periods


def test_whatif_over_the_periods_ranks_and_keeps_every_plan(horizon):
    """tiny-horizon-groups without M1 (its README): 20 minors unmet in 2025, 20,988, free or with L0 forced."""
    r = horizon.post(
        "/api/whatif",
        json={"instance": "tiny-horizon-groups", "province": "P1", "overrides": HAND, "forbid_sites": ["M1"], **EXACT},
    )
    assert r.status_code == 202, r.text
    job = wait(horizon, r.json())
    assert job["status"] == "done" and (job["done"], job["total"]) == (1, 1), job
    result = job["result"]
    assert result["horizon"] and result["scenarios"] == ["mid"]
    (row,) = result["table"]
    assert (row["rank"], row["site"], row["objective"], row["difference"]) == (1, "L0", 20988, 0)
    assert row["expected_unmet_place_periods"] == 20 == row["province_unmet_place_periods"]
    assert (row["openings"], row["closings"], row["check"]) == (1, 0, "passed")
    assert result["free"]["objective"] == 20988 and result["free"]["site"] == "L0"
    # Per period: L0 holds 100 asylum seekers in 2025 and 50 in 2026; the 20 minors are unmet in 2025.
    per_period = [(p["plan"], p["period"], p["placed"], p["province_unmet"]) for p in result["periods"]]
    assert per_period == [
        ("free", "2025", 100, 20),
        ("free", "2026", 50, 0),
        ("L0", "2025", 100, 20),
        ("L0", "2026", 50, 0),
    ]
    # Every plan kept as a plan over the periods, checked, and shown as any other.
    for plan_id, forced in ((result["free"]["plan"], ["M1"]), (row["plan"], ["M1", "L0"])):
        plan = horizon.get(f"/api/plans/{plan_id}").json()
        assert plan["objective"] == 20988 and plan["check"]["passed"] and plan["made"]["how"] == "whatif"
        assert plan["horizon"]["periods"] == ["2025", "2026"] and plan["made"]["scenario"] is None
        assert plan["made"]["forbid_sites"] == ["M1"] and plan["made"]["force_sites"] == forced[1:]
        folder = horizon.app.state.context.store.plan(plan_id).folder
        assert check_horizon_solution(read_horizon_solution(folder), load_instance(GROUPS)).passed
    assert horizon.get(f"/api/plans/{row['plan']}").json()["label"] == "P1 +L0"
    # The two plans side by side, over the periods: the same plan, nothing changed.
    c = horizon.post("/api/compare", json={"plans": [result["free"]["plan"], row["plan"]]}).json()
    assert [s["objective"] for s in c["solutions"]] == [20988, 20988]
    assert c["changes"][0]["sites"] == [] and c["changes"][0]["periods"] == []


def test_compare_over_the_periods_as_the_command_line(horizon):
    """tiny-horizon-band (README): the band plan opens S1 in 2026 (expected cost 250); the myopic plan opens it only
    when high happens (low 150, mid 200, high 300: 216.67)."""
    band = horizon_plan(horizon, "tiny-horizon-band")[1]["id"]
    myopic = horizon_plan(horizon, "tiny-horizon-band", myopic=True)[1]["id"]
    r = horizon.post("/api/compare", json={"plans": [band, myopic]})
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["horizon"] and "figures" not in c and set(c["labels"]) == {band, myopic}
    assert [s["check"] for s in c["solutions"]] == ["passed", "passed"]  # re-run now, as `allocator compare` does
    assert [round(s["total_cost"], 2) for s in c["solutions"]] == [250, 216.67]
    assert [s["plan"] for s in c["solutions"]] == ["integrated (band)", "myopic (band)"]
    costs = {(p["period"], p["scenario"], p["solution"]): p["total_cost"] for p in c["periods"]}
    assert costs[("2026", "low", band)] == 100 and costs[("2026", "low", myopic)] == 50
    (changes,) = c["changes"]
    assert [(s["period"], s["scenario"], s["site"], s["from_state"], s["to_state"]) for s in changes["sites"]] == [
        ("2026", "low", "S1", "open", "closed"),
        ("2026", "mid", "S1", "open", "closed"),
    ]
    titles = [t["title"] for t in c["tables"]]
    assert (
        titles[0].startswith("KPIs")
        and f"Changes from {band} to {myopic}: sites whose state differs, per period (2)" in titles
    )
    found = problems(horizon.post("/api/compare", json={"plans": [band, myopic], "figures": ["costs"]}))
    assert found == [
        "figures: the report's figures are drawn for plans of one snapshot and these plans are over several periods, "
        "compared in tables: leave figures out (value: 'costs')"
    ]
    # Plans of different instances are refused, as `allocator compare` refuses them.
    groups = horizon_plan(horizon, "tiny-horizon-groups")[1]["id"]
    assert "made for instance" in problems(horizon.post("/api/compare", json={"plans": [band, groups]}))[0]


def test_a_plan_over_periods_and_a_snapshot_are_not_compared(horizon):
    band = horizon_plan(horizon, "tiny-horizon-band")[1]["id"]
    r = horizon.post("/api/solve", json={"instance": "tiny-two-provinces", "overrides": HAND, **EXACT})
    snapshot = wait(horizon, r.json())["result"]["plans"][0]
    r = horizon.post("/api/compare", json={"plans": [snapshot, band]})
    assert problems(r) == [
        f"plans: {band} is a plan over several periods and {snapshot} a plan of one snapshot, which cannot be set "
        f"side by side: compare plans of one kind (of the same instance) (value: '{snapshot}, {band}')"
    ]
    assert r.json()["message"].startswith("1 problem in the request:\n")


def test_a_plan_over_periods_downloads_as_a_folder_and_a_report(horizon, tmp_path):
    _, plan = horizon_plan(horizon)
    r = horizon.get(f"/api/plans/{plan['id']}/download?format=zip")
    assert r.status_code == 200
    zipfile.ZipFile(io.BytesIO(r.content)).extractall(tmp_path)
    folder = tmp_path / plan["id"]
    assert {"timeline.csv", "events.csv", "periods.csv", "summary.json"} <= {p.name for p in folder.iterdir()}
    assert check_horizon_solution(read_horizon_solution(folder), load_instance(STANDBY)).passed
    r = horizon.get(f"/api/plans/{plan['id']}/download?format=html")
    assert r.status_code == 200 and "tiny-horizon-standby" in r.text and "<svg" in r.text


def test_a_snapshot_has_no_scenarios_to_choose(client, two_plans):
    for field, value in (("scenario", "mid"), ("myopic", True)):
        found = problems(client.post("/api/solve", json={"instance": "tiny-two-provinces", field: value}))
        assert found == [
            f"{field}: the instance has no periods (periods.csv), so no "
            f"{'scenarios of need' if field == 'scenario' else 'myopic baseline'}: leave {field} out (value: {value!r})"
        ]
    assert problems(client.get(f"/api/plans/{two_plans[0]}", params={"scenario": "mid"})) == [
        "scenario: the plan has no periods, so no scenarios: leave scenario out (value: 'mid')"
    ]


# ---------------------------------------------------------------- cancel


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_cancel_stops_that_job_only(tmp_path):
    """Two national solves at once: cancelling one kills its worker and nothing else; the other finishes."""
    app = workbench.create_app(INSTANCES / "nl-2024", tmp_path, max_running=2, workers=1)
    with TestClient(app) as c:
        runner = app.state.context.runner
        a = c.post("/api/solve", json={"instance": "nl-2024", "label": "a"}).json()
        b = c.post(
            "/api/solve", json={"instance": "nl-2024", "label": "b", "force_sites": ["L-GM0268"], "gap": 0.01}
        ).json()
        deadline = time.monotonic() + 60
        while not runner.get(a["id"]).phase.startswith("solving"):
            assert time.monotonic() < deadline and runner.get(a["id"]).status == "running"
            time.sleep(0.05)
        pid = runner.get(a["id"]).worker.process.pid
        family = [pid] + [p.pid for p in psutil.Process(pid).children(recursive=True)]
        cancelled = c.post(f"/api/jobs/{a['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        assert not any(_alive(p) for p in family)
        assert not (tmp_path / "jobs" / a["id"]).exists()
        b = wait(c, b, 300)
        assert b["status"] == "done" and b["result"]["status"] == "optimal"
        assert [p["label"] for p in c.get("/api/plans").json()] == ["b"]
        # A queued job cancelled never starts.
        runner.max_running = 0
        queued = c.post("/api/solve", json={"instance": "nl-2024"}).json()
        assert queued["status"] == "queued"
        assert c.post(f"/api/jobs/{queued['id']}/cancel").json()["status"] == "cancelled"
        runner.max_running = 2
        workers = [w.process.pid for w in runner.idle]
    assert workers and not any(_alive(p) for p in workers)  # no worker outlives the application


def test_cancel_stops_a_plan_over_periods(tmp_path):
    """A national plan over ten half-years: cancelled while it solves, its worker and block processes end."""
    app = workbench.create_app(INSTANCES / "nl-2024-horizon", tmp_path, workers=1)
    with TestClient(app) as c:
        runner = app.state.context.runner
        job = c.post("/api/solve", json={"instance": "nl-2024-horizon"}).json()
        deadline = time.monotonic() + 60
        while not runner.get(job["id"]).phase.startswith("building and solving the plan over 10 periods"):
            assert time.monotonic() < deadline and runner.get(job["id"]).status == "running"
            time.sleep(0.05)
        pid = runner.get(job["id"]).worker.process.pid
        family = [pid] + [p.pid for p in psutil.Process(pid).children(recursive=True)]
        assert c.post(f"/api/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
        assert not any(_alive(p) for p in family)
        assert not (tmp_path / "jobs" / job["id"]).exists() and c.get("/api/plans").json() == []


# ---------------------------------------------------------------- the command


def test_serve_validates_the_instance_first(tmp_path):
    from click.testing import CliRunner

    from allocator.commands.main import cli

    r = CliRunner().invoke(cli, ["serve", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "no such instance folder" in r.output


def test_serve_without_its_extra_says_how_to_install_it(monkeypatch):
    import sys

    from click.testing import CliRunner

    from allocator.commands.main import cli

    monkeypatch.setitem(sys.modules, "fastapi", None)  # as if not installed
    r = CliRunner().invoke(cli, ["serve", str(TWO)])
    assert r.exit_code == 1
    assert "pip install 'reception-allocator[serve]'" in r.output and "fastapi is not installed" in r.output


def test_serve_says_so_loudly_when_not_on_localhost():
    import signal
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "allocator.commands.main", "serve", str(TWO), "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().startswith("Workbench at http://0.0.0.0:")
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        err = process.stderr.read()
        assert "WARNING: listening on 0.0.0.0, not on localhost" in err and "There is no login." in err
    finally:
        process.kill()
