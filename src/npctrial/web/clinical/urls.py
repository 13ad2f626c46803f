"""URL routes of the clinical app (all under /studies/<study_pk>/clinical/)."""

from __future__ import annotations

from django.urls import path

from npctrial.web.clinical.views import (
    casebook,
    crf,
    declared,
    documentation,
    export,
    grid,
    imports,
    lab_panel,
    lab_ranges,
    quality,
    record,
    report,
    sdv,
    signoff,
    void,
)

P = "studies/<int:study_pk>/clinical/"

urlpatterns = [
    path(P, casebook.clinical_home, name="clinical-home"),
    path(P + "lock/", signoff.study_lock, name="study-lock"),
    path(P + "status/", grid.status_dashboard, name="status-dashboard"),
    path(P + "voided/", void.voided_listing, name="voided-records"),
    path(P + "report/", report.study_report, name="study-report"),
    path(P + "rules/", documentation.study_documentation, name="study-documentation"),
    path(P + "quality/", quality.data_quality, name="data-quality"),
    path(P + "report.pdf", report.study_report_pdf, name="study-report-pdf"),
    path(P + "exports/", export.export_index, name="export-index"),
    path(P + "exports/<slug:name>.<str:fmt>", export.export_file, name="export-file"),
    path(P + "import/", imports.import_page, name="import-data"),
    path(P + "subjects/<int:pk>/", casebook.casebook, name="casebook"),
    path(P + "subjects/<int:pk>/lab-grade/", casebook.lab_grade, name="lab-grade"),
    path("studies/<int:study_pk>/admin/lab-ranges/", lab_ranges.lab_ranges_page, name="lab-ranges"),
    path(P + "subjects/<int:pk>/lab-panel/", lab_panel.lab_panel_page, name="lab-panel"),
    path(P + "subjects/<int:pk>/lab-panel/grade/", lab_panel.lab_panel_grade, name="lab-panel-grade"),
    path(P + "subjects/<int:pk>/events/<slug:event>/", grid.event_detail, name="event-detail"),
    path(P + "subjects/<int:pk>/marks/", grid.form_mark, name="form-mark"),
    path(P + "subjects/<int:pk>/sign/", signoff.sign, name="casebook-sign"),
    path(P + "subjects/<int:pk>/lock/", signoff.subject_lock, name="subject-lock"),
    path(P + "subjects/<int:pk>/forms/<slug:form>/", declared.declared_list, name="declared-list"),
    path(P + "subjects/<int:pk>/forms/<slug:form>/preview/", declared.declared_preview, name="declared-preview"),
    path(P + "subjects/<int:pk>/<slug:form>/new/", crf.crf_form, name="crf-new"),
    path(P + "subjects/<int:pk>/<slug:form>/<int:record_pk>/", crf.crf_form, name="crf-edit"),
    path(P + "subjects/<int:pk>/<slug:form>/<int:record_pk>/view/", record.record_view, name="crf-view"),
    path(P + "subjects/<int:pk>/<slug:form>/<int:record_pk>/void/", void.void_record, name="crf-void"),
    path(P + "subjects/<int:pk>/<slug:form>/<int:record_pk>/verify/", sdv.verify_record, name="crf-verify"),
]
