"""URL routes of the clinical app (all under /studies/<study_pk>/clinical/)."""

from __future__ import annotations

from django.urls import path

from npctrial.web.clinical import views

P = "studies/<int:study_pk>/clinical/"

urlpatterns = [
    path(P, views.clinical_home, name="clinical-home"),
    path(P + "lock/", views.study_lock, name="study-lock"),
    path(P + "report/", views.study_report, name="study-report"),
    path(P + "report.pdf", views.study_report_pdf, name="study-report-pdf"),
    path(P + "exports/", views.export_index, name="export-index"),
    path(P + "exports/<slug:name>.<str:fmt>", views.export_file, name="export-file"),
    path(P + "subjects/<int:pk>/", views.casebook, name="casebook"),
    path(P + "subjects/<int:pk>/lab-grade/", views.lab_grade, name="lab-grade"),
    path(P + "subjects/<int:pk>/sign/", views.sign, name="casebook-sign"),
    path(P + "subjects/<int:pk>/lock/", views.subject_lock, name="subject-lock"),
    path(P + "subjects/<int:pk>/<slug:form>/new/", views.crf_form, name="crf-new"),
    path(P + "subjects/<int:pk>/<slug:form>/<int:record_pk>/", views.crf_form, name="crf-edit"),
]
