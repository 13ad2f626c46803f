"""Import page: upload a CSV (screening or one form) or ODM 1.3 file; the report lists every problem."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from npctrial.errors import ValidationError
from npctrial.web.clinical.imports import MAX_BYTES, import_kinds, run_import
from npctrial.web.clinical.models import ImportRun
from npctrial.web.core import permissions
from npctrial.web.languages import display


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(label=_("File (CSV with the export's columns, or ODM 1.3 XML)"))
    mode = forms.ChoiceField(choices=[("create", _("create new records")),
                                      ("update", _("update the records named by record_id"))], initial="create",
                             label=_("Mode"))
    reason = forms.CharField(max_length=500, label=_("Reason (kept in every record's history)"))
    partial = forms.BooleanField(required=False, label=_("Keep the rows that pass when others fail"))

    def __init__(self, *args: object, study: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["kind"].choices = [(k, k) for k in import_kinds(study)]  # type: ignore[arg-type,attr-defined]


@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, study_pk: int) -> HttpResponse:
    study = permissions.get_study_for(request.user, study_pk, "import_data")
    form = ImportForm(request.POST or None, request.FILES or None, study=study)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _("the file is larger than %(mb)d MB") % {"mb": MAX_BYTES // 1_000_000})
        else:
            try:
                report = run_import(study, request.user, kind=form.cleaned_data["kind"], data=upload.read(),
                                    filename=upload.name, reason=form.cleaned_data["reason"],
                                    mode=form.cleaned_data["mode"], partial=form.cleaned_data["partial"],
                                    request=request)
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, display.message_text(exc))
    if request.method == "POST" and (report is None or not report.applied or report.problems):
        status = 400
    runs = ImportRun.objects.filter(study=study).select_related("imported_by")[:20]
    return render(request, "clinical/import.html", {"study": study, "form": form, "report": report, "runs": runs},
                  status=status)
