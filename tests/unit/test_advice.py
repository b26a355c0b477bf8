"""advise: every row of the seed's "Choose the recovery action" table, from a doctor readout."""

from __future__ import annotations

from typing import Any

from core.advice import MAX_PER_KIND, advise
from core.models import (
    AdminReadout,
    Advice,
    ComponentStatus,
    DeploymentItem,
    DeploymentsReadout,
    DoctorReport,
    DrainState,
    FailureItem,
    IngressReadout,
    InvocationsReadout,
    ServiceItem,
    ServicesReadout,
    StuckItem,
)
from core.plans.rules import endpoint_key

LIVE = "http://ddwf:9080/v1"
WF = "IdentityRecoveryWorkflow"


def dep(
    dep_id: str,
    url: str,
    drain: DrainState = "drained",
    *,
    created_at: str = "2026-05-09T10:00:00.000Z",
    pinned: int | None = 0,
    latest_for: list[str] | None = None,
) -> DeploymentItem:
    return DeploymentItem(
        id=dep_id,
        service_url=url,
        created_at=created_at,
        drain_state=drain,
        pinned_invocations=pinned,
        latest_for=latest_for or [],
    )


def failure(key: str | None, *, service: str = WF, handler: str = "run") -> FailureItem:
    return FailureItem(
        id=f"inv_{key}",
        service_name=service,
        service_key=key,
        handler=handler,
        failed_at="2026-05-09T10:07:19.000Z",
        error_message="[500] upstream provider returned a terminal failure",
    )


def stuck(key: str, status: str = "backing-off", *, service: str = WF) -> StuckItem:
    return StuckItem(
        id=f"inv_stuck_{key}",
        service_name=service,
        service_key=key,
        handler="run",
        status=status,
        retry_count=3,
        error_code="RT0007",
        error_message="[500 Internal] TransientUpstreamError('timed out')",
    )


LIVE_DEPLOYMENT = dep("dp_live", LIVE, "active", latest_for=[WF], pinned=1)


def report(
    *,
    deployments: list[DeploymentItem] | None = None,
    failures: list[FailureItem] | None = None,
    stuck_runs: list[StuckItem] | None = None,
    services: list[ServiceItem] | None = None,
    status: dict[str, ComponentStatus] | None = None,
) -> DoctorReport:
    """A readout that is healthy unless told otherwise (one live deployment, one workflow)."""
    status = status or {}
    items = [LIVE_DEPLOYMENT] if deployments is None else deployments
    listed = status.get("deployments", "ok") != "unreachable"
    return DoctorReport(
        ingress=IngressReadout(status=status.get("ingress", "ok"), latency_ms=3),
        admin=AdminReadout(status=status.get("admin", "ok"), latency_ms=2, version="1.7.12"),
        deployments=DeploymentsReadout(
            status=status.get("deployments", "ok"), items=items if listed else []
        ),
        services=ServicesReadout(
            status=status.get("services", "ok"),
            items=services
            if services is not None
            else [ServiceItem(name=WF, revision=1, type="Workflow", deployment_id="dp_live")],
        ),
        invocations=InvocationsReadout(
            status=status.get("invocations", "ok"),
            recent_failures=failures or [],
            stuck=stuck_runs or [],
        ),
        checked_at="2026-05-09T10:11:12.000Z",
    )


def kinds(advice: list[Advice]) -> list[str]:
    return [a.kind for a in advice]


def args_of(advice: list[Advice], kind: str) -> list[dict[str, Any]]:
    return [a.args for a in advice if a.kind == kind]


# --- nothing to do -------------------------------------------------------------------------------


def test_healthy_readout_gives_no_advice() -> None:
    """One registered live deployment, no failures and no stuck runs: nothing to do."""
    assert advise(report(), live_service_url=LIVE) == []


def test_succeeded_workflows_get_no_advice() -> None:
    """Workflows that succeeded never show up as failures, so nothing is offered for them."""
    readout = report(failures=[])

    assert args_of(advise(readout, live_service_url=LIVE), "recover-stuck-workflow") == []


# --- row: admin API / DNS / network path unreachable ---------------------------------------------


def test_admin_unreachable_gives_only_fix_connectivity() -> None:
    """With the admin API unreachable the only advice is to fix connectivity, no write at all."""
    readout = report(
        deployments=[dep("dp_other", "http://other:9080/")],
        failures=[failure("fail1")],
        status={"admin": "unreachable"},
    )

    advice = advise(readout, live_service_url=LIVE)

    assert [(a.kind, a.route, a.destructive, a.args) for a in advice] == [
        ("fix-connectivity", None, False, {"component": "admin"})
    ]


def test_deployment_list_unreachable_gives_only_fix_connectivity() -> None:
    """An unreachable deployment list (the admin path) also blocks every write advice."""
    readout = report(failures=[failure("fail1")], status={"deployments": "unreachable"})

    assert kinds(advise(readout, live_service_url=LIVE)) == ["fix-connectivity"]


def test_service_list_unreachable_gives_only_fix_connectivity() -> None:
    """An unreachable service list (the admin path) also blocks every write advice."""
    readout = report(failures=[failure("fail1")], status={"services": "unreachable"})

    assert kinds(advise(readout, live_service_url=LIVE)) == ["fix-connectivity"]


def test_fix_connectivity_preview_names_the_failed_components() -> None:
    """The connectivity advice says which admin-side probes failed and why."""
    readout = report(status={"admin": "unreachable"}).model_copy(
        update={"admin": AdminReadout(status="unreachable", error="connection refused")}
    )

    (advice,) = advise(readout, live_service_url=LIVE)

    assert "admin API: connection refused" in advice.preview


def test_ingress_unreachable_alone_adds_fix_connectivity_but_keeps_writes() -> None:
    """An unreachable ingress is reported, but the admin-path write advice is still offered."""
    readout = report(failures=[failure("fail1")], status={"ingress": "unreachable"})

    advice = advise(readout, live_service_url=LIVE)

    assert [(a.kind, a.args.get("component")) for a in advice] == [
        ("fix-connectivity", "ingress"),
        ("recover-stuck-workflow", None),
    ]


# --- row: service URL missing -> force-redeploy --------------------------------------------------


def test_unregistered_live_url_gives_force_redeploy_with_that_url() -> None:
    """When the configured live URL is not registered, force-redeploy registers exactly it."""
    readout = report(deployments=[dep("dp_old", "http://ddwf-old:9080/", "active")])

    advice = advise(readout, live_service_url=LIVE)

    assert [(a.kind, a.route, a.args, a.destructive) for a in advice] == [
        ("force-redeploy", "force-redeploy", {"serviceUrl": LIVE, "force": True}, False)
    ]


def test_no_deployment_at_all_gives_force_redeploy() -> None:
    """An empty deployment list means the live service must be registered."""
    advice = advise(report(deployments=[]), live_service_url=LIVE)

    assert args_of(advice, "force-redeploy") == [{"serviceUrl": LIVE, "force": True}]


def test_live_url_matches_like_restate_despite_slash_case_and_scheme() -> None:
    """Trailing slash, host case and scheme do not make a registered URL look missing."""
    registered = [dep("dp_live", "HTTPS://DDWF:9080/v1/", "active", latest_for=[WF])]

    assert advise(report(deployments=registered), live_service_url=LIVE) == []


def test_live_url_with_another_path_is_not_registered() -> None:
    """A different path is a different deployment to Restate, so redeploy is advised."""
    readout = report(deployments=[dep("dp_v2", "http://ddwf:9080/v2", "active")])

    assert kinds(advise(readout, live_service_url=LIVE)) == ["force-redeploy"]


def test_without_a_configured_live_url_no_deployment_write_is_advised() -> None:
    """Without configuration the live URL is unknown, and it is never taken from a doctor row."""
    readout = report(deployments=[dep("dp_a", "http://a:9080/"), dep("dp_b", "http://b:9080/")])

    assert advise(readout, live_service_url=None) == []


def test_failed_deployment_list_does_not_advise_redeploy() -> None:
    """A degraded readout without items (the list failed) says nothing about registration."""
    readout = report(deployments=[], status={"deployments": "degraded"})

    assert advise(readout, live_service_url=LIVE) == []


# --- row: several deployments, live one known -> cleanup-stale-deployments -----------------------


def test_cleanup_keeps_the_exact_registered_url_and_previews_what_changes() -> None:
    """Cleanup keeps the live deployment's registered URL and names what it deletes and skips."""
    readout = report(
        deployments=[
            dep("dp_c", "http://ddwf:9080/v1/", "active", latest_for=[WF], pinned=1),
            dep("dp_a", "http://ddwf-a:9080/"),
            dep("dp_b", "http://ddwf-b:9080/"),
            dep("dp_d", "http://ddwf-d:9080/", "draining", pinned=2),
            dep("dp_e", "http://ddwf-e:9080/", "active", latest_for=["Other"], pinned=0),
            dep("dp_f", "http://ddwf-f:9080/", "unknown", pinned=None),
        ]
    )

    (advice,) = advise(readout, live_service_url=LIVE)

    assert (advice.kind, advice.route, advice.args, advice.destructive, advice.preview) == (
        "cleanup-stale-deployments",
        "cleanup-stale-deployments",
        {"serviceUrl": "http://ddwf:9080/v1/", "forceDrain": False},
        True,
        "Delete 2 stale deployments: dp_a (drained), dp_b (drained). "
        "Keep dp_c (http://ddwf:9080/v1/). Skip dp_d (draining, 2 pinned invocations), "
        "dp_e (latest for Other), dp_f (drain state unknown).",
    )


def test_cleanup_keeps_the_newest_of_several_matching_deployments() -> None:
    """When two deployments match the live URL the newest is kept, as Restate itself does."""
    readout = report(
        deployments=[
            dep("dp_old", LIVE, created_at="2026-05-09T09:00:00.000Z"),
            dep("dp_new", LIVE + "/", "active", created_at="2026-05-09T10:00:00.000Z"),
        ]
    )

    (advice,) = advise(readout, live_service_url=LIVE)

    assert (advice.kind, advice.preview) == (
        "inspect",
        f"No other deployment is drained yet. Keep dp_new ({LIVE}/). "
        "Skip dp_old (same URL as the kept one). "
        "Wait for pinned invocations to finish, then run doctor again.",
    )


def test_cleanup_with_nothing_drained_becomes_an_inspection() -> None:
    """When every stale deployment is still in use, no write is offered, only an explanation."""
    readout = report(
        deployments=[LIVE_DEPLOYMENT, dep("dp_d", "http://ddwf-d:9080/", "draining", pinned=1)]
    )

    (advice,) = advise(readout, live_service_url=LIVE)

    assert (advice.kind, advice.route, advice.destructive) == ("inspect", None, False)
    assert "Skip dp_d (draining, 1 pinned invocation)." in advice.preview


def test_single_live_deployment_needs_no_cleanup() -> None:
    """With only the live deployment registered there is nothing stale to clean."""
    assert kinds(advise(report(deployments=[LIVE_DEPLOYMENT]), live_service_url=LIVE)) == []


def test_cleanup_is_advised_on_a_degraded_readout_that_still_lists_items() -> None:
    """Deployments degraded by a failed usage query still list items; unknown ones are skipped."""
    readout = report(
        deployments=[
            dep("dp_live", LIVE, "active", latest_for=[WF], pinned=None),
            dep("dp_x", "http://x:9080/", "unknown", pinned=None),
        ],
        status={"deployments": "degraded"},
    )

    (advice,) = advise(readout, live_service_url=LIVE)

    assert (advice.kind, "dp_x (drain state unknown)" in advice.preview) == ("inspect", True)


# --- row: terminal-failed workflow key -> recover-stuck-workflow --------------------------------


def test_terminal_failed_key_gives_recover_with_name_and_key() -> None:
    """A failed `run` with a key offers a destructive recover for exactly that key."""
    advice = advise(report(failures=[failure("fail1")]), live_service_url=LIVE)

    assert [(a.kind, a.route, a.args, a.destructive) for a in advice] == [
        (
            "recover-stuck-workflow",
            "recover-stuck-workflow",
            {"serviceName": WF, "serviceKey": "fail1"},
            True,
        )
    ]


def test_recover_is_offered_once_per_key() -> None:
    """Two failures of the same key give one recover advice."""
    readout = report(failures=[failure("fail1"), failure("fail1"), failure("fail2")])

    assert args_of(advise(readout, live_service_url=LIVE), "recover-stuck-workflow") == [
        {"serviceName": WF, "serviceKey": "fail1"},
        {"serviceName": WF, "serviceKey": "fail2"},
    ]


def test_recover_advice_is_capped_keeping_the_most_recent_failures() -> None:
    """Many failed keys give at most MAX_PER_KIND recover advices, newest failures first."""
    readout = report(failures=[failure(f"k{i}") for i in range(MAX_PER_KIND + 3)])

    advice = advise(readout, live_service_url=LIVE)

    keys = [a["serviceKey"] for a in args_of(advice, "recover-stuck-workflow")]

    assert keys == [f"k{i}" for i in range(MAX_PER_KIND)]


def test_failure_without_key_gives_no_recover() -> None:
    """A failure without serviceKey (a plain service) cannot be recovered by key."""
    readout = report(failures=[failure(None, service="Greeter", handler="greet")])

    assert advise(readout, live_service_url=LIVE) == []


def test_failure_of_a_shared_handler_gives_no_recover() -> None:
    """A failed shared handler (`approve`) says nothing about the workflow's run."""
    readout = report(failures=[failure("k1", handler="approve")])

    assert advise(readout, live_service_url=LIVE) == []


def test_failure_of_a_non_workflow_service_gives_no_recover() -> None:
    """A keyed failure of a virtual object is not a workflow run to recover."""
    readout = report(
        failures=[failure("c1", service="Counter")],
        services=[ServiceItem(name="Counter", type="VirtualObject", deployment_id="dp_live")],
    )

    assert advise(readout, live_service_url=LIVE) == []


def test_key_the_route_would_reject_gives_no_recover() -> None:
    """A key outside ^[a-zA-Z0-9_-]+$ would be refused by the route, so it is not offered."""
    readout = report(failures=[failure("o'brien x")])

    assert advise(readout, live_service_url=LIVE) == []


# --- rows: active runs (stuck) are inspected, never cleared --------------------------------------


def test_stuck_run_gives_inspect_without_a_write() -> None:
    """A backing-off run gets read-only advice naming its status and error."""
    (advice,) = advise(report(stuck_runs=[stuck("flaky1")]), live_service_url=LIVE)

    assert (advice.kind, advice.route, advice.destructive, advice.args) == (
        "inspect",
        None,
        False,
        {"invocationId": "inv_stuck_flaky1"},
    )
    assert f"{WF}/flaky1/run is backing-off after 3 retries (RT0007: " in advice.preview


def test_failure_of_a_key_with_an_active_run_gives_no_recover() -> None:
    """A key whose run is stuck (still active) is inspected, never offered for recovery."""
    readout = report(failures=[failure("p1")], stuck_runs=[stuck("p1", "paused")])

    assert kinds(advise(readout, live_service_url=LIVE)) == ["inspect"]


# --- the whole table at once ---------------------------------------------------------------------


def test_advice_order_is_deterministic_across_rows() -> None:
    """Connectivity, then deployments, then recoveries, then inspections, the same every time."""
    readout = report(
        deployments=[LIVE_DEPLOYMENT, dep("dp_old", "http://old:9080/")],
        failures=[failure("fail2"), failure("fail1")],
        stuck_runs=[stuck("flaky1"), stuck("p1", "paused")],
        status={"ingress": "unreachable"},
    )

    first = advise(readout, live_service_url=LIVE)

    assert (kinds(first), first) == (
        [
            "fix-connectivity",
            "cleanup-stale-deployments",
            "recover-stuck-workflow",
            "recover-stuck-workflow",
            "inspect",
            "inspect",
        ],
        advise(readout, live_service_url=LIVE),
    )


def test_endpoint_key_compares_authority_and_path_like_restate() -> None:
    """Scheme and trailing slash are ignored and the host is case-insensitive; paths matter."""
    assert [
        endpoint_key("http://DDWF:9080/v1/") == endpoint_key("https://ddwf:9080/v1"),
        endpoint_key("http://ddwf:9080") == endpoint_key("http://ddwf:9080/"),
        endpoint_key("http://ddwf:9080/v1") == endpoint_key("http://ddwf:9080/V1"),
        endpoint_key("http://localhost:9080/") == endpoint_key("http://127.0.0.1:9080/"),
    ] == [True, True, False, False]


def test_recover_preview_shows_the_failure_time_in_the_guides_format() -> None:
    """The observed failure time reads as ISO 8601 UTC with milliseconds, as in JSON."""
    (advice,) = advise(report(failures=[failure("fail1")]), live_service_url=LIVE)

    assert " failed at 2026-05-09T10:07:19.000Z: " in advice.preview
