"""Every URL pattern of the project is in the site-isolation matrix: a new route fails here until classified.

For each route the table says how to call it. Object routes are called by a site-A coordinator with
the ids of site-B objects (screening, subject, query, CRF record): 404. Study routes are called by a
logged-in user without a role in the study: 404; and a site-A coordinator's GET never shows a site-B
subject. Open routes (login, health check, API docs, the study list) carry no study data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, reverse

from tests.web.clinical.conftest import save
from tests.web.conftest import login

BASELINE = {"assessment_date": date(2026, 1, 6), "height_cm": 170, "weight_kg": 60,
            "t_category": "T3", "n_category": "N1", "m_category": "M0"}

#: open routes: no study in the URL (the study list is filtered by membership, tested elsewhere)
OPEN = {"healthz", "home", "login", "logout", "study-create", "api-v1:api-root", "api-v1:openapi-json",
        "api-v1:openapi-view", "api-v1:list_studies", "api-v1:create_study_route", "password-set",
        "password-set-done", "set-language"}

#: route -> (method, data, json) for routes addressing one object of a site
OBJECT: dict[str, tuple[str, Any, bool]] = {
    "screening-detail": ("get", None, False),
    "screening-edit": ("get", None, False),
    "screening-enrol": ("post", {"consent_date": "2026-01-05", "consent_version": "1.0"}, False),
    "subject-detail": ("get", None, False),
    "subject-randomise": ("post", {}, False),
    "subject-history": ("get", None, False),
    "query-raise": ("post", {"field_name": "t_category", "text": "?"}, False),
    "query-answer": ("post", {"answer": "ok"}, False),
    "query-close": ("post", {}, False),
    "query-detail": ("get", None, False),
    "query-reopen": ("post", {"reason": "x"}, False),
    "query-assign": ("post", {"assignee": "", "due_date": ""}, False),
    "casebook": ("get", None, False),
    "lab-grade": ("post", {"term": "anemia", "value": "75", "unit": "g/L", "lln": "120"}, False),
    "casebook-sign": ("post", {"password": "wrong"}, False),
    "subject-lock": ("post", {}, False),
    "crf-new": ("get", None, False),
    "event-detail": ("get", None, False),
    "form-mark": ("post", {"event": "ccrt_w1", "form": "ae", "kind": "none", "reason": "no AE"}, False),
    "crf-edit": ("get", None, False),
    "crf-view": ("get", None, False),
    "crf-void": ("post", {"confirm": "yes", "reason": "entered in error", "version": 1}, False),
    "crf-verify": ("post", {"version": 1, "whole_record": "1"}, False),
    "declared-list": ("get", None, False),
    "declared-preview": ("post", {"detectable": "yes"}, False),
    "api-v1:list_declared": ("get", None, False),
    "api-v1:create_declared": ("post", {"values": {"sample_date": "2026-01-06"}}, True),
    "api-v1:update_declared": ("patch", {"values": {}, "version": 1, "reason": "x"}, True),
    "api-v1:void_declared": ("post", {"version": 1, "reason": "x"}, True),
    "api-v1:get_screening": ("get", None, False),
    "api-v1:update_screening_route": ("patch", {"values": {"t_category": "T4"}, "version": 1, "reason": "x"}, True),
    "api-v1:enrol_route": ("post", {"consent_date": "2026-01-05", "consent_version": "1.0"}, True),
    "api-v1:get_subject": ("get", None, False),
    "api-v1:randomise_route": ("post", {}, True),
    "api-v1:subject_history_route": ("get", None, False),
    "api-v1:raise_query_route": ("post", {"field_name": "t_category", "text": "?"}, True),
    "api-v1:answer_query_route": ("post", {"answer": "ok"}, True),
    "api-v1:close_query_route": ("post", {"note": ""}, True),
    "api-v1:get_query": ("get", None, False),
    "api-v1:reopen_query_route": ("post", {"reason": "x"}, True),
    "api-v1:assign_query_route": ("post", {"assignee": None}, True),
    "api-v1:casebook": ("get", None, False),
    "api-v1:create_record": ("post", {"values": {"weight_kg": 61}}, True),
    "api-v1:update_record": ("patch", {"values": {"weight_kg": 61}, "version": 1, "reason": "x"}, True),
    "api-v1:void_record": ("post", {"version": 1, "reason": "entered in error"}, True),
    "api-v1:get_sdv": ("get", None, False),
    "api-v1:verify_source": ("post", {"version": 1, "whole_record": True}, True),
    "api-v1:lab_grade": ("post", {"term": "anemia", "value": 75, "unit": "g/L", "lln": 120}, True),
    "lab-panel": ("get", None, False),
    "lab-panel-grade": ("post", {"analyte": "alt", "alt-value": "50", "alt-unit": "U/L", "sample_date": "2026-01-20"},
                        False),
    "api-v1:lab_panel_rows": ("get", None, False),
    "api-v1:save_lab_panel": ("post", {"sample_date": "2026-01-20", "week": 1,
                                       "rows": [{"analyte": "alt", "value": 50, "unit": "U/L"}]}, True),
    "api-v1:sign": ("post", {"password": "wrong"}, True),
    "api-v1:lock_subject": ("post", {}, True),
    "randomisation-correct": ("post", {"kind": "other", "reason": "x"}, False),
    "attachment-upload": ("post", {"kind": "other"}, False),
    "attachment-download": ("get", None, False),
    "attachment-void": ("post", {"reason": "x"}, False),
    "api-v1:list_attachments": ("get", None, False),
    "api-v1:upload_attachment": ("post", {"kind": "other"}, False),
    "api-v1:download_attachment": ("get", None, False),
    "api-v1:void_attachment_route": ("post", {"reason": "x"}, True),
    "api-v1:list_corrections": ("get", None, False),
    "api-v1:record_correction_route": ("post", {"kind": "other", "reason": "x"}, True),
}

#: route -> (method, data, json) for routes of a whole study (lists, dashboards, reports, exports)
STUDY: dict[str, tuple[str, Any, bool]] = {
    "study-dashboard": ("get", None, False),
    "study-amend": ("get", None, False),
    "allocation-list": ("get", None, False),
    "screening-export": ("get", None, False),
    "screening-log": ("get", None, False),
    "screening-log-export": ("get", None, False),
    "screening-new": ("get", None, False),
    "screening-evaluate": ("post", {"t_category": "T2"}, False),
    "subject-list": ("get", None, False),
    "query-list": ("get", None, False),
    "clinical-home": ("get", None, False),
    "status-dashboard": ("get", None, False),
    "voided-records": ("get", None, False),
    "study-lock": ("post", {}, False),
    "study-report": ("get", None, False),
    "study-report-pdf": ("get", None, False),
    "study-documentation": ("get", None, False),
    "data-quality": ("get", None, False),
    "export-index": ("get", None, False),
    "export-file": ("get", None, False),
    "lab-ranges": ("get", None, False),
    "api-v1:list_lab_ranges": ("get", None, False),
    "api-v1:create_lab_range": ("post", {"site": "GZ", "analyte": "alt", "unit": "U/L", "uln": 40,
                                         "effective_from": "2026-01-01"}, True),
    "api-v1:get_study": ("get", None, False),
    "api-v1:get_dashboard": ("get", None, False),
    "api-v1:get_fields": ("get", None, False),
    "api-v1:evaluate_values": ("post", {"values": {"t_category": "T2"}}, True),
    "api-v1:list_screenings": ("get", None, False),
    "api-v1:create_screening_route": ("post", {"site": "GZ", "values": {"t_category": "T2"}}, True),
    "api-v1:list_subjects": ("get", None, False),
    "api-v1:list_queries": ("get", None, False),
    "api-v1:report": ("get", None, False),
    "api-v1:edit_checks": ("get", None, False),
    "api-v1:data_quality": ("get", None, False),
    "api-v1:export": ("get", None, False),
    "import-data": ("get", None, False),
    "api-v1:import_route": ("post", {"kind": "baseline", "reason": "x"}, False),
    "study-status": ("post", {"action": "wipe", "confirm": "x", "reason": "x"}, False),
    "api-v1:set_study_status": ("post", {"status": "production", "confirm": "x", "reason": "x"}, True),
    "api-v1:wipe_study": ("post", {"confirm": "x", "reason": "x"}, True),
    "amendment-detail": ("get", None, False),
    "amendment-decide": ("post", {"action": "approve"}, False),
    "api-v1:list_amendments": ("get", None, False),
    "api-v1:propose_amendment_route": ("post", {"protocol_yaml": "id: x", "reason": "x"}, True),
    "api-v1:review_amendment": ("get", None, False),
    "api-v1:approve_amendment_route": ("post", {"note": ""}, True),
    "api-v1:reject_amendment_route": ("post", {"note": "x"}, True),
    # the study-wide audit log (page, downloads, API)
    "audit-log": ("get", None, False),
    "audit-log-export": ("get", None, False),
    "api-v1:audit_log_route": ("get", None, False),
    # administration (manage): sites, members, accounts
    "study-admin": ("get", None, False),
    "admin-site-add": ("post", {"site-code": "XX", "site-name": "x"}, False),
    "admin-site-active": ("post", {"active": "0", "reason": "x"}, False),
    "admin-member-add": ("post", {"member-username": "monitor", "member-role": "monitor"}, False),
    "admin-member-end": ("post", {"reason": "x"}, False),
    "admin-account-add": ("post", {"account-username": "new", "account-role": "monitor"}, False),
    "admin-account-active": ("post", {"active": "0", "reason": "x"}, False),
    "admin-account-reset": ("post", {"reason": "x"}, False),
    "api-v1:list_sites": ("get", None, False),
    "api-v1:add_site_route": ("post", {"code": "XX", "name": "x"}, True),
    "api-v1:deactivate_site": ("post", {"reason": "x"}, True),
    "api-v1:reactivate_site": ("post", {"reason": "x"}, True),
    "api-v1:list_members": ("get", None, False),
    "api-v1:add_member": ("post", {"username": "monitor", "role": "monitor"}, True),
    "api-v1:end_member": ("post", {"reason": "x"}, True),
    "api-v1:create_account_route": ("post", {"username": "new", "role": "monitor"}, True),
    "api-v1:deactivate_account": ("post", {"reason": "x"}, True),
    "api-v1:reactivate_account": ("post", {"reason": "x"}, True),
    "api-v1:reset_account_password": ("post", {"reason": "x"}, True),
}


def route_names(patterns: Iterable[Any], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    """(qualified name, pattern) of every URL pattern, descending into includes (unnamed: the route)."""
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from route_names(p.url_patterns, ns)
        else:
            yield (f"{namespace}{p.name}" if p.name else str(p.pattern)), p


def unclassified(patterns: Iterable[Any]) -> set[str]:
    return {name for name, _ in route_names(patterns)} - OPEN - set(OBJECT) - set(STUDY)


def test_every_route_is_classified():
    assert unclassified(get_resolver().url_patterns) == set()
    assert not (set(OBJECT) & set(STUDY)) and not (OPEN & (set(OBJECT) | set(STUDY)))


def test_a_new_route_would_be_caught():
    def view(request: Any, study_pk: int) -> HttpResponse:
        return HttpResponse("")

    extra = [*get_resolver().url_patterns, path("studies/<int:study_pk>/new-thing/", view, name="new-thing")]
    assert unclassified(extra) == {"new-thing"}


def _attachment(world: Any, site: str) -> Any:
    from npctrial.web.core.attachments import store_attachment

    user = world.users["coordinator" if site == "A" else "coordinator_b"]
    return store_attachment(world.subjects[("ccrt", site)], user=user, data=b"%PDF-1.4 consent", filename="c.pdf",
                            kind="signed_consent")


def _objects(world: Any, site: str) -> dict[str, int]:
    from npctrial.web.core.models import Membership

    record = save("baseline", world, BASELINE, study="ccrt", site=site)
    user = world.users["coordinator" if site == "A" else "coordinator_b"]
    membership = Membership.objects.get(study=world.studies["ccrt"], user=user)
    return {"study": world.studies["ccrt"].pk, "screening": world.screenings[("ccrt", site)].pk,
            "subject": world.subjects[("ccrt", site)].pk, "query": world.queries[("ccrt", site)].pk,
            "record": record.pk, "membership": membership.pk, "user": user.pk, "site": world.sites[site].code,
            "version": world.studies["ccrt"].current_protocol.pk, "attachment": _attachment(world, site).pk}


def _url(name: str, pattern: URLPattern, ids: dict[str, int]) -> str:
    kinds = {"study_pk": "study", "study_id": "study", "subject_pk": "subject", "screening_id": "screening",
             "query_id": "query", "record_pk": "record", "record_id": "record", "membership_pk": "membership",
             "membership_id": "membership", "user_pk": "user", "user_id": "user", "code": "site",
             "version_pk": "version", "version_id": "version", "attachment_id": "attachment"}
    kwargs: dict[str, Any] = {}
    for key in pattern.pattern.regex.groupindex:
        if key == "pk":
            kwargs[key] = ids["screening" if name.startswith("screening") else
                              "query" if name.startswith("query-") and name != "query-raise" else
                              "attachment" if name in ("attachment-download", "attachment-void") else "subject"]
        elif key == "form" and "declared" in name:
            kwargs[key] = "ebv_dna"  # the protocol-declared form of the CCRT study
        elif key in ("form", "name", "event"):
            kwargs[key] = "baseline"
        elif key == "fmt":
            kwargs[key] = "csv"
        elif key in ("uidb64", "token"):
            kwargs[key] = "x"
        else:
            kwargs[key] = ids[kinds[key]]
    return reverse(name, kwargs=kwargs)


def _call(client: Client, method: str, url: str, data: Any, json: bool) -> Any:
    fn = getattr(client, method)
    if json:
        return fn(url, data, content_type="application/json")
    return fn(url, data) if data is not None else fn(url)


def test_site_a_gets_404_for_every_site_b_object_on_every_object_route(world):
    ids = _objects(world, "B")
    patterns = dict(route_names(get_resolver().url_patterns))
    client = login(Client(), "coordinator")
    for name, (method, data, json) in OBJECT.items():
        response = _call(client, method, _url(name, patterns[name], ids), data, json)
        assert response.status_code == 404, (name, response.status_code)
    # the same routes with site-A ids are not hidden from the site-A coordinator (no false 404)
    own = _objects(world, "A")
    for name, (method, data, json) in OBJECT.items():
        if method == "get":
            assert _call(client, method, _url(name, patterns[name], own), data, json).status_code != 404, name


def test_every_study_route_is_404_without_a_role_and_never_shows_another_site(world):
    ids = _objects(world, "B")
    patterns = dict(route_names(get_resolver().url_patterns))
    outsider = login(Client(), "outsider")
    coordinator = login(Client(), "coordinator")
    hidden = world.subjects[("ccrt", "B")].subject_id
    for name, (method, data, json) in STUDY.items():
        url = _url(name, patterns[name], ids)
        assert _call(outsider, method, url, data, json).status_code == 404, name
        if method == "get":
            response = _call(coordinator, method, url, data, json)
            body = (b"".join(response.streaming_content) if response.streaming else response.content)
            assert hidden.encode() not in body, name
