"""Issue 16: the organisation from an Excel workbook — a 200-person workbook imports, the same
workbook again changes nothing, a workbook with bad rows changes nothing and names each row's
error; people missing from a re-import are deactivated, never deleted; new people get a one-time
password and must change it at first login."""

import io

import pytest
from openpyxl import load_workbook

from organization import workbook
from organization.models import Body, Section, User
from organization.selectors import organization_book
from organization.services import organization_import, user_one_time_password

N = 200


def _book(people=N, bad=()) -> bytes:
    """A workbook generated here: 10 sections, 2 bodies, ``people`` people; ``bad``: rows to spoil."""
    sections = {f"s{i:02d}": (f"第{i}股", i) for i in range(10)}
    bodies = {"command": "舆情信息指挥小组", "leading": "应对网络舆情突发事件领导小组"}
    persons = {}
    for i in range(people):
        persons[f"u{i:03d}"] = workbook.Person(
            username=f"u{i:03d}", full_name=f"人员{i}", phone=f"1380000{i:04d}", email=f"u{i}@unit.example.cn",
            sections=(f"s{i % 10:02d}",), heads=(f"s{(i + 1) % 10:02d}",) if i % 20 == 0 else (),
            bodies=("leading",) if i % 50 == 0 else (), roles=("command_group",) if i % 40 == 0 else ())
    data = workbook.write(workbook.Book(sections, bodies, persons, []))
    if not bad:
        return data
    book = load_workbook(io.BytesIO(data))
    sheet = book[workbook.PEOPLE]
    for row, column, value in bad:
        sheet.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.django_db
def test_a_200_person_workbook_imports_and_again_changes_nothing(demo, django_assert_max_num_queries):
    admin = demo["admin"]
    data = _book()
    dry = organization_import(data=data, actor=admin, dry_run=True)
    assert not dry.errors and not dry.applied and not dry.passwords
    assert sum(c.startswith("新增人员") for c in dry.changes) == N
    assert not User.objects.filter(username="u000").exists()  # a dry run writes nothing

    done = organization_import(data=data, actor=admin, dry_run=False)
    assert done.applied and done.changes == dry.changes and len(done.passwords) == N
    # The demo people are not in the workbook: deactivated, never deleted; the admin stays.
    assert not User.objects.get(username="duty").is_active
    assert User.objects.get(username="admin").is_active
    assert User.objects.filter(username__startswith="u", is_active=True).count() == N
    person = User.objects.get(username="u020")
    assert person.must_change_password and person.check_password(done.passwords["u020"])
    assert person.phone == "13800000020" and person.has_role("command_group") is False
    assert set(person.sections.values_list("code", flat=True)) == {"s00", "s01"}
    assert person.section_memberships.get(section__code="s01").is_head
    assert list(Body.objects.get(code="leading").members.values_list("username", flat=True).order_by(
        "username")) == ["u000", "u050", "u100", "u150"]
    assert Section.objects.get(code="s03").name == "第3股"

    with django_assert_max_num_queries(20):
        again = organization_import(data=data, actor=admin, dry_run=False)
    assert again.applied and again.changes == [] and again.passwords == {}

    # The export is the same shape: importing it changes nothing either.
    exported = workbook.write(organization_book())
    assert organization_import(data=exported, actor=admin, dry_run=True).changes == []


@pytest.mark.django_db
def test_a_workbook_with_bad_rows_changes_nothing_and_names_each_row(demo):
    before = list(User.objects.order_by("pk").values_list("username", "is_active"))
    data = _book(people=5, bad=[(3, 1, "bad user!"), (4, 4, "not-an-email"), (5, 5, "s99"), (6, 8, "神仙")])
    result = organization_import(data=data, actor=demo["admin"], dry_run=False)
    assert not result.applied and result.changes == []
    assert result.errors == [
        "人员 第 3 行：用户名“bad user!”无效（必填，只能包含字母、数字和 @/./+/-/_）。",
        "人员 第 4 行：电子邮件“not-an-email”格式不正确。",
        "人员 第 5 行：股室“s99”不在“股室”表中。",
        "人员 第 6 行：未知的角色“神仙”。",
    ]
    assert list(User.objects.order_by("pk").values_list("username", "is_active")) == before
    assert organization_import(data=b"not a workbook", actor=demo["admin"]).errors == [
        "无法读取文件：请上传由本系统模板填写的 Excel 工作簿（.xlsx）。"]


@pytest.mark.django_db
def test_the_admin_offers_template_dry_run_import_and_export(client, demo):
    client.force_login(demo["admin"])
    template = client.get("/admin/organization/user/workbook/template.xlsx")
    assert template.status_code == 200 and template["Content-Type"].startswith("application/vnd.openxml")
    assert load_workbook(io.BytesIO(template.content)).sheetnames == ["股室", "机构", "人员", "说明"]
    assert "从 Excel 导入组织机构" in client.get("/admin/organization/user/").content.decode()

    upload = io.BytesIO(_book(people=3))
    upload.name = "org.xlsx"
    page = client.post("/admin/organization/user/workbook/", {"upload": upload}).content.decode()
    assert "试运行" in page and "新增人员 u002（人员2）" in page and "确认导入" in page
    assert not User.objects.filter(username="u002").exists()
    page = client.post("/admin/organization/user/workbook/", {"import": "1"}).content.decode()
    assert 'id="one-time-passwords"' in page and "<td>u002</td>" in page
    assert User.objects.get(username="u002").must_change_password

    exported = client.get("/admin/organization/user/workbook/export.xlsx")
    people = list(load_workbook(io.BytesIO(exported.content))["人员"].iter_rows(values_only=True))
    assert people[0] == workbook.COLUMNS["人员"] and {row[0] for row in people[1:]} == {"admin", "u000", "u001", "u002"}

    client.force_login(demo["command"])  # not a superuser
    assert client.get("/admin/organization/user/workbook/").status_code in (302, 403)


@pytest.mark.django_db
def test_a_one_time_password_must_be_changed_first(client, demo):
    admin = demo["admin"]
    organization_import(data=_book(people=1), actor=admin, dry_run=False)
    person = User.objects.get(username="u000")
    password = user_one_time_password(user=person)  # the admin's action: a new one, shown once
    client.force_login(person)
    assert client.get("/").url.startswith("/accounts/password/")
    assert client.get("/api/v1/incidents/").status_code == 403
    token = client.post("/api/v1/auth/token/", {"username": "u000", "password": password},
                        content_type="application/json")
    assert token.status_code == 403
    page = client.get("/accounts/password/").content.decode()
    assert 'id="must-change"' in page
    answer = client.post("/accounts/password/", {"old_password": password, "new_password1": "Xq7!mountain-river",
                                                 "new_password2": "Xq7!mountain-river"})
    assert answer.status_code == 302
    person.refresh_from_db()
    assert not person.must_change_password
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_sections_and_bodies_rows_are_checked_too(demo):
    book = load_workbook(io.BytesIO(_book(people=2)))
    book["股室"].cell(row=3, column=1, value="s00")  # a repeated code
    book["股室"].cell(row=4, column=1, value="第二股")  # not a code
    book["机构"].cell(row=2, column=2).value = None  # no name
    out = io.BytesIO()
    book.save(out)
    result = organization_import(data=out.getvalue(), actor=demo["admin"], dry_run=False)
    assert result.errors[:3] == [
        "股室 第 3 行：代码“s00”重复。",
        "股室 第 4 行：代码“第二股”只能由字母、数字、下划线或连字符组成。",
        "机构 第 2 行：代码和名称必填。",
    ]
    assert not result.applied and not Section.objects.filter(code="s00").exists()
