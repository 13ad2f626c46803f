"""Refusals of the web EDC in the reader's language: a sample of each module's messages through the
page and the API with a Chinese browser (or the user's saved language), checked against the
translation table, with no English sentence left in the error text.

The English wording is unchanged (other tests assert it); here the Chinese of the catalogue is
what the reader sees, placeholders filled in (named, so translators can reorder them).
"""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.web.conftest import login

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
# three or more English words in a row: a sentence left untranslated (codes and field names are one word)
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:]+[A-Za-z]{2,}){2,}")


def _chinese_only(text: str) -> str:
    assert not _ENGLISH.search(text), f"English left in {text!r}"
    assert re.search(r"[\u4e00-\u9fff]", text), f"no Chinese in {text!r}"
    return text


def test_english_sentence_detector_can_fail() -> None:
    assert _ENGLISH.search("the file has no header row") and not _ENGLISH.search("表单 baseline 没有字段 'x'")


# ------------------------------------------------------------------ web/api.py: 401, 403, 404, 422


def test_api_401_403_404_and_schema_errors_in_chinese(world) -> None:
    study = world.studies["imrt"]
    anonymous = Client().get("/api/v1/studies", **ZH)
    assert anonymous.status_code == 401 and anonymous.json()["detail"] == _chinese_only("需要登录认证")
    assert Client().get("/api/v1/studies", **EN).json()["detail"] == "authentication required"
    coordinator = login(Client(), "coordinator")
    missing = coordinator.get("/api/v1/studies/999999", **ZH)
    assert missing.status_code == 404 and missing.json()["detail"] == _chinese_only("未找到")
    assert coordinator.get("/api/v1/studies/999999", **EN).json()["detail"] == "not found"
    monitor = login(Client(), "monitor")
    refused = monitor.post(f"/api/v1/studies/{study.pk}/imports", {"kind": "ae", "reason": "x"}, **ZH)
    assert refused.status_code == 403
    assert refused.json()["detail"] == _chinese_only("您的角色在此无权执行“import_data”")
    en = monitor.post(f"/api/v1/studies/{study.pk}/imports", {"kind": "ae", "reason": "x"}, **EN)
    assert en.json()["detail"] == "your role does not allow 'import_data' here"
    bad = coordinator.post(f"/api/v1/studies/{study.pk}/screenings", "[]", content_type="application/json", **ZH)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("输入无效：")


def test_api_site_refusal_in_the_saved_language(world) -> None:
    study = world.studies["imrt"]
    client = login(Client(), "coordinator")
    client.post(reverse("set-language"), {"language": "zh-hans", "next": "/"})
    r = client.post(f"/api/v1/studies/{study.pk}/screenings", {"site": "NOPE", "values": {}},
                    content_type="application/json", **EN)  # the saved language wins over the browser's
    assert r.status_code in (403, 404, 422)
    assert r.status_code != 422 or r.json()["detail"] == _chinese_only("中心 'NOPE' 不是本研究的中心")


# ------------------------------------------------------------------ clinical/api.py, api_values.py, crfs.py


def _crf_api(client, world, form, values, **headers):
    s = world.subjects[("imrt", "A")]
    return client.post(f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/{form}", {"values": values},
                       content_type="application/json", **headers)


def test_crf_api_value_refusals_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    unknown = _crf_api(client, world, "ae", {"colour": "red"}, **ZH)
    assert unknown.status_code == 422 and unknown.json()["detail"] == _chinese_only("表单 ae 没有字段 'colour'")
    assert _crf_api(client, world, "ae", {"colour": "red"}).json()["detail"] == "unknown field 'colour' for form ae"
    listed = _crf_api(client, world, "ae", {"grade": [1, 2]}, **ZH)
    assert listed.status_code == 422 and listed.json()["detail"] == _chinese_only("grade：应为单个值，实际为 list")
    boolean = _crf_api(client, world, "ae", {"grade": True}, **ZH)
    assert boolean.json()["detail"] == _chinese_only("grade：true/false 不是该字段的取值")


def test_crf_api_lesion_refusals_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    s = world.subjects[("imrt", "A")]
    url = f"/api/v1/studies/{s.study_id}/subjects/{s.pk}/crf/assessment"
    body = {"values": {"assessment_date": "2026-01-04", "new_lesions": "no"}, "lesions": [{"colour": 1}]}
    r = client.post(url, body, content_type="application/json", **ZH)
    assert r.status_code == 422 and r.json()["detail"] == _chinese_only("lesions[0].colour：未知的病灶字段")


def test_unknown_form_and_record_refusals_in_chinese() -> None:
    import pytest
    from django.utils import translation

    from npctrial.errors import ValidationError
    from npctrial.web.clinical import crfs, exports

    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as err:
            crfs.spec_of("nope")
        assert str(err.value).startswith("未知表单 'nope'（可用：baseline")
        with pytest.raises(ValidationError) as err:
            exports.analysis_rows("adxx", [])
        assert str(err.value).startswith("未知分析数据集 'adxx'（可用：adsl")
    with translation.override("en-gb"), pytest.raises(ValidationError, match=r"unknown form 'nope' \(known: baseline"):
        crfs.spec_of("nope")


# ------------------------------------------------------------------ clinical/imports.py, import_files.py


def _upload(client, study, body: bytes, **extra):
    data = {"kind": "ae", "reason": "paper CRFs", "file": SimpleUploadedFile("ae.csv", body, content_type="text/csv"),
            **extra}
    return client.post(f"/api/v1/studies/{study.pk}/imports", data, **ZH)


def test_import_api_refusals_in_chinese(world) -> None:
    from npctrial.web.core.models_audit import AuditEvent

    study = world.studies["imrt"]
    client = login(Client(), "coordinator")
    no_file = client.post(f"/api/v1/studies/{study.pk}/imports", {"kind": "ae", "reason": "x"}, **ZH)
    assert no_file.json()["detail"] == "请发送要导入的文件（multipart 字段 'file'）"
    no_reason = _upload(client, study, b"subject_id\n", reason=" ")
    assert no_reason.json()["detail"] == _chinese_only("请填写导入原因（记入每条记录的历史）")
    kind = _upload(client, study, b"subject_id\n", kind="pets")
    assert kind.json()["detail"].startswith("kind 须为 screening, baseline") and kind.json()["detail"].endswith(
        "之一，实际为 'pets'")
    empty = _upload(client, study, b"")
    assert empty.status_code == 422
    assert [e["message"] for e in empty.json()["errors"]] == ["文件没有表头行"]
    assert empty.json()["detail"] == _chinese_only("ae.csv 的 ae 导入：共 0 行，新建 0，更新 0，问题 1 个；已拒绝：未写入任何数据")
    # the audit trail keeps the English summary whatever the reader's language
    event = AuditEvent.objects.filter(action="import").order_by("-pk").first()
    assert event is not None and "refused: nothing written" in event.summary and "已拒绝" not in event.summary
    latin1 = _upload(client, study, "subject_id,colour\nNPC-1,grün\n".encode("latin-1"))
    assert latin1.json()["errors"][0]["message"] == _chinese_only("文件不是 UTF-8 文本（第 26 字节）；请另存为 UTF-8 CSV")


def test_import_row_problems_in_chinese(world) -> None:
    study = world.studies["imrt"]
    client = login(Client(), "coordinator")
    sid = world.subjects[("imrt", "A")].subject_id
    r = _upload(client, study, f"subject_id,site,colour\n{sid},GZ,red\nNPC-X,GZ\n".encode())
    messages = [e["message"] for e in r.json()["errors"]]
    assert messages == [_chinese_only("ae 没有列 'colour'")]
    r = _upload(client, study, b"subject_id,site\nNPC-NOBODY,GZ\n")
    assert [e["message"] for e in r.json()["errors"]] == [
        _chinese_only(f"在您的中心中，研究 {study.code} 没有受试者 'NPC-NOBODY'")]
    odm = _upload(client, study, b"<ODM/>", kind="odm")
    assert [e["message"] for e in odm.json()["errors"]] == [_chinese_only("不是 CDISC ODM 1.3 文档（根元素 'ODM'）")]


def test_import_page_shows_the_problems_in_chinese(world) -> None:
    study = world.studies["imrt"]
    client = login(Client(), "coordinator")
    page = client.post(f"/studies/{study.pk}/clinical/import/", {
        "kind": "ae", "mode": "create", "reason": "paper CRFs",
        "file": SimpleUploadedFile("ae.csv", b"subject_id,colour\n", content_type="text/csv")}, **ZH)
    html = page.content.decode()
    assert page.status_code == 400 and "ae 没有列 &#x27;colour&#x27;" in html
    assert "unknown column" not in html


# ------------------------------------------------------------------ core: administration, queries, audit


def test_administration_api_refusals_in_chinese(world) -> None:
    study = world.studies["imrt"]
    admin = login(Client(), "study_admin")
    r = admin.post(f"/api/v1/studies/{study.pk}/status", {"status": "archived", "confirm": study.code, "reason": "x"},
                   content_type="application/json", **ZH)
    assert r.status_code == 422 and r.json()["detail"] == "status：研究只能从开发状态转为正式运行状态"
    r = admin.post("/api/v1/studies", {"code": "NEW", "protocol_yaml": "x"}, content_type="application/json", **ZH)
    assert r.status_code == 403 and r.json()["detail"] == _chinese_only("只有管理员可以创建研究")


def test_query_list_filter_refusal_on_the_page_in_chinese(world) -> None:
    study = world.studies["imrt"]
    client = login(Client(), "data_manager")
    page = client.get(reverse("query-list", kwargs={"study_pk": study.pk}) + "?status=bogus", **ZH)
    html = page.content.decode()
    assert page.status_code == 200 and "状态 &#x27;bogus&#x27; 不在 [" in html and "is not one of" not in html


def test_audit_events_append_only_and_backup_refusals_in_chinese(world, tmp_path) -> None:
    import pytest
    from django.utils import translation

    from npctrial.errors import ValidationError
    from npctrial.web.backup import backup_database, restore_database
    from npctrial.web.core.models_audit import AuditEvent
    from npctrial.web.restore import restore_with_safeguards

    event = AuditEvent.objects.first()
    assert event is not None
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as err:
            event.delete()
        assert str(err.value) == _chinese_only("稽查事件只能追加：事件不可删除")
        with pytest.raises(ValidationError) as err:
            restore_database(tmp_path / "none.sqlite3")
        assert str(err.value) == f"FILE：未找到备份文件：{tmp_path / 'none.sqlite3'}"
        with pytest.raises(ValidationError) as err:
            backup_database(tmp_path / "no" / "such" / "b.sqlite3")
        assert str(err.value).startswith("备份目录不存在：")
        with pytest.raises(ValidationError) as err:
            restore_with_safeguards(tmp_path / "none.sqlite3", reason=" ")
        assert str(err.value) == "须填写恢复原因"
    with translation.override("en-gb"), pytest.raises(ValidationError, match="an event cannot be deleted"):
        event.delete()


# ------------------------------------------------------------------ status labels (msgctxt where ambiguous)


def test_status_labels_in_chinese_with_their_context(world) -> None:
    from django.utils import translation

    from npctrial.web.core.models import ScreeningRecord, Study

    study = world.studies["imrt"]
    with translation.override("zh-hans"):
        assert Study(status="production").get_status_display() == "正式运行"
        assert Study(status="development").get_status_display() == "开发/用户验收测试（UAT）"
        assert ScreeningRecord(outcome="incomplete").get_outcome_display() == "筛选未完成"
        assert study.current_protocol.get_status_display() == "已批准"
        # the same English word outside the context keeps its own translation (a column header)
        assert translation.gettext("Proposed") == "提出时间"
        assert translation.pgettext("amendment status", "Proposed") == "待批准"
    with translation.override("en-gb"):
        assert Study(status="production").get_status_display() == "Production"
    page = login(Client(), "study_admin").get(reverse("amendment-detail", kwargs={
        "study_pk": study.pk, "version_pk": study.current_protocol.pk}), **ZH).content.decode()
    assert 'id="amendment-status">已批准</span>' in page


# ------------------------------------------------------------------ domain warnings shown after a CRF save


def test_baseline_bsa_warning_after_saving_in_chinese(world) -> None:
    """Mosteller BSA of 200 cm, 160 kg: sqrt(200 * 160 / 3600) = 2.98 m2, above the 2.5 m2 warning."""
    from tests.web.clinical.conftest import url

    client = login(Client(), "coordinator")
    data = {"assessment_date": "2026-01-06", "tnm_edition": "8", "t_category": "T3", "n_category": "N1",
            "m_category": "M0", "ecog": "1", "kps": "90", "ebv_dna": "1200", "hb": "132", "platelets": "220",
            "carry_reason": "measured again at baseline", "height_cm": "200", "weight_kg": "160"}
    page = client.post(url("crf-new", world, "imrt", "A", form="baseline"), data, follow=True, **ZH).content.decode()
    assert "体表面积 2.98 m2 超过 2.5 m2：请核对身高和体重" in page and "check height and weight" not in page


def test_protocol_and_field_error_texts_in_chinese(world) -> None:
    import pytest
    from django.utils import translation

    from npctrial.errors import ProtocolError, ValidationError
    from npctrial.web.core.enrolment import format_subject_id
    from npctrial.web.core.protocols import parse_protocol

    with translation.override("zh-hans"):
        with pytest.raises(ProtocolError) as err:
            parse_protocol("a: [unclosed")
        assert str(err.value).startswith("方案不是有效的 YAML：")
        with pytest.raises(ValidationError) as bad:
            format_subject_id("IMRT-{centre}", site="GZ", seq=1, study="imrt")
        assert str(bad.value) == "subject_id_pattern 'IMRT-{centre}' 无法生成受试者编号：'centre'"
    client = login(Client(), "coordinator")
    required = _crf_api(client, world, "assessment", {"new_lesions": "no"}, **ZH)
    assert required.status_code == 422 and required.json()["detail"] == "assessment_date：这个字段是必填项。"
    assert _crf_api(client, world, "assessment", {"new_lesions": "no"}, **EN).json()["detail"] == (
        "assessment_date: This field is required.")


def test_ctcae_grade_refusal_of_the_domain_in_chinese_on_the_api_and_the_page(world) -> None:
    """CTCAE v4.03 defines dry mouth grades 1-3 only (grade 4 is "-" in the NCI table)."""
    from tests.web.clinical.conftest import url

    client = login(Client(), "coordinator")
    ae = {"week": 3, "term": "dry_mouth", "grade": 4, "attribution": "probable", "start_date": "2026-01-20"}
    r = _crf_api(client, world, "ae", ae, **ZH)
    assert r.status_code == 422
    assert r.json()["detail"] == "CTCAE v4.03 未对“Dry mouth”定义 4 级；允许的分级：1、2、3"
    assert r.json()["errors"][0] == {"field": "grade", "code": "ctcae.grade_not_defined",
                                     "message": "grade 4 is not defined for 'Dry mouth' in CTCAE v4.03; "
                                                "allowed grades: 1, 2, 3"}
    page = client.post(url("crf-new", world, "imrt", "A", form="ae"), {**ae, "serious": "False"}, **ZH)
    html = page.content.decode()
    assert page.status_code == 200 and "CTCAE v4.03 未对“Dry mouth”定义 4 级" in html and "is not defined" not in html


def test_lab_and_dose_refusals_of_the_domain_in_chinese(world) -> None:
    client = login(Client(), "coordinator")
    lab = {"week": 2, "sample_date": "2026-01-20", "term": "anemia", "value": -5, "unit": "g/L"}
    r = _crf_api(client, world, "lab", lab, **ZH)
    assert r.status_code == 422 and r.json()["detail"] == "value 须 >= 0，实际为 -5.0"
    assert r.json()["errors"][0]["message"] == "value must be >= 0, got -5.0"
    drug = {"drug": "S-1", "date": "2026-01-20", "planned_dose_mg": 40, "dose_mg": -3, "doses_planned": 14,
            "doses_taken": 14}
    r = _crf_api(client, world, "drug", drug, **ZH)
    assert r.status_code == 422 and r.json()["detail"] == "dose_mg 须为 >= 0 的数值，实际为 -3.0"
    r = _crf_api(client, world, "drug", {**drug, "dose_mg": 30}, **ZH)
    assert r.json()["detail"].startswith("实际剂量 dose_mg 30 与计划剂量 40 mg 不同，属于方案偏离（除以下情况外不得调整剂量："
                                         "progression（疾病进展）、grade4_toxicity（4级毒性）、")
    assert r.json()["detail"].endswith("）；请填写偏离原因")
    en = _crf_api(client, world, "drug", {**drug, "dose_mg": 30}, **EN).json()["detail"]
    assert en.startswith("dose_mg 30 differs from the planned dose 40 mg: a protocol deviation (no dose modification "
                         "except for: progression (Disease progression), grade4_toxicity (Grade 4 toxicity),")
