"""URL routes of the core app (all under /studies/<study_pk>/ except home and login)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from npctrial.web.core.views import (
    administration,
    amendments,
    attachments,
    screening,
    studies,
    subjects,
)

urlpatterns = [
    path("", studies.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/set-password/done/", administration.password_set_done, name="password-set-done"),
    path("accounts/set-password/<uidb64>/<token>/", administration.password_set, name="password-set"),
    path("studies/new/", studies.study_create, name="study-create"),
    path("studies/<int:study_pk>/admin/", administration.study_admin, name="study-admin"),
    path("studies/<int:study_pk>/admin/sites/", administration.site_add, name="admin-site-add"),
    path("studies/<int:study_pk>/admin/sites/<str:code>/active/", administration.site_active,
         name="admin-site-active"),
    path("studies/<int:study_pk>/admin/members/", administration.member_add, name="admin-member-add"),
    path("studies/<int:study_pk>/admin/members/<int:membership_pk>/end/", administration.member_end,
         name="admin-member-end"),
    path("studies/<int:study_pk>/admin/accounts/", administration.account_add, name="admin-account-add"),
    path("studies/<int:study_pk>/admin/accounts/<int:user_pk>/active/", administration.account_active,
         name="admin-account-active"),
    path("studies/<int:study_pk>/admin/accounts/<int:user_pk>/reset/", administration.account_reset,
         name="admin-account-reset"),
    path("studies/<int:study_pk>/", studies.study_dashboard, name="study-dashboard"),
    path("studies/<int:study_pk>/amend/", amendments.study_amend, name="study-amend"),
    path("studies/<int:study_pk>/amendments/<int:version_pk>/", amendments.amendment_detail, name="amendment-detail"),
    path("studies/<int:study_pk>/amendments/<int:version_pk>/decide/", amendments.amendment_decide,
         name="amendment-decide"),
    path("studies/<int:study_pk>/allocations/", studies.allocation_list, name="allocation-list"),
    path("studies/<int:study_pk>/export/screening.csv", studies.screening_export, name="screening-export"),
    path("studies/<int:study_pk>/screening/", screening.screening_log, name="screening-log"),
    path("studies/<int:study_pk>/screening/new/", screening.screening_new, name="screening-new"),
    path("studies/<int:study_pk>/screening/evaluate/", screening.screening_evaluate, name="screening-evaluate"),
    path("studies/<int:study_pk>/screening/<int:pk>/", screening.screening_detail, name="screening-detail"),
    path("studies/<int:study_pk>/screening/<int:pk>/edit/", screening.screening_edit, name="screening-edit"),
    path("studies/<int:study_pk>/screening/<int:pk>/enrol/", screening.screening_enrol, name="screening-enrol"),
    path("studies/<int:study_pk>/subjects/", subjects.subject_list, name="subject-list"),
    path("studies/<int:study_pk>/subjects/<int:pk>/", subjects.subject_detail, name="subject-detail"),
    path("studies/<int:study_pk>/subjects/<int:pk>/randomise/", subjects.subject_randomise, name="subject-randomise"),
    path("studies/<int:study_pk>/subjects/<int:pk>/history/", subjects.subject_history, name="subject-history"),
    path("studies/<int:study_pk>/subjects/<int:pk>/randomisation/correct/", subjects.randomisation_correct,
         name="randomisation-correct"),
    path("studies/<int:study_pk>/admin/status/", administration.study_status, name="study-status"),
    path("studies/<int:study_pk>/subjects/<int:pk>/attachments/", attachments.attachment_upload,
         name="attachment-upload"),
    path("studies/<int:study_pk>/attachments/<int:pk>/", attachments.attachment_download, name="attachment-download"),
    path("studies/<int:study_pk>/attachments/<int:pk>/void/", attachments.attachment_void, name="attachment-void"),
    path("studies/<int:study_pk>/subjects/<int:pk>/queries/", subjects.query_raise, name="query-raise"),
    path("studies/<int:study_pk>/queries/", subjects.query_list, name="query-list"),
    path("studies/<int:study_pk>/queries/<int:pk>/answer/", subjects.query_answer, name="query-answer"),
    path("studies/<int:study_pk>/queries/<int:pk>/close/", subjects.query_close, name="query-close"),
]
