"""The organisation as an Excel workbook (issue 16): sections, bodies and people in the shape the
admin offers as a template, reads back (``read``) and writes out (``write``, the export). Pure
reading and writing: what an import changes is ``services.organization_import``'s.

Sheets and columns (the header row is the first; multi-valued cells are separated by 、 , ，
or ;):

- 股室: 代码, 名称, 排序
- 机构: 代码, 名称
- 人员: 用户名, 姓名, 电话, 电子邮件, 股室, 负责的股室, 机构, 角色 (a role's Chinese name or code)

Passwords never travel in the workbook: new people get a one-time password at import.
"""

import dataclasses
import io
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from .models import Role, User

SECTIONS, BODIES, PEOPLE, README = "股室", "机构", "人员", "说明"
COLUMNS = {
    SECTIONS: ("代码", "名称", "排序"),
    BODIES: ("代码", "名称"),
    PEOPLE: ("用户名", "姓名", "电话", "电子邮件", "股室", "负责的股室", "机构", "角色"),
}
# Roles that follow from section membership (section_add_member gives them): not written out.
IMPLIED_ROLES = (Role.SECTION_STAFF, Role.SECTION_HEAD)
_SPLIT = re.compile(r"[、,，;；\s]+")
MAX_ROWS = 5000


@dataclasses.dataclass
class Person:
    username: str
    full_name: str
    phone: str
    email: str
    sections: tuple[str, ...]
    heads: tuple[str, ...]
    bodies: tuple[str, ...]
    roles: tuple[str, ...]


@dataclasses.dataclass
class Book:
    sections: dict[str, tuple[str, int]]  # code → (name, order)
    bodies: dict[str, str]  # code → name
    people: dict[str, Person]  # username → person
    errors: list[str]  # "人员 第 5 行：…", in Chinese


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _many(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in _SPLIT.split(value) if p))


def _role(value: str) -> str | None:
    labels = {str(label): code for code, label in Role.choices}
    return value if value in Role.values else labels.get(value)


def _rows(book, sheet: str, errors: list[str]):
    """(row number, {column: text}) of the sheet's non-empty rows; a missing sheet or column is an error."""
    if sheet not in book.sheetnames:
        errors.append(_("缺少工作表“%(sheet)s”。") % {"sheet": sheet})
        return
    rows = book[sheet].iter_rows(values_only=True)
    header = [_cell(v) for v in next(rows, ())]
    missing = [c for c in COLUMNS[sheet] if c not in header]
    if missing:
        errors.append(_("工作表“%(sheet)s”缺少列：%(columns)s") % {"sheet": sheet, "columns": "、".join(missing)})
        return
    at = {c: header.index(c) for c in COLUMNS[sheet]}
    for number, row in enumerate(rows, start=2):
        if number > MAX_ROWS:
            errors.append(_("工作表“%(sheet)s”超过 %(n)s 行。") % {"sheet": sheet, "n": MAX_ROWS})
            return
        values = {c: _cell(row[i]) if i < len(row) else "" for c, i in at.items()}
        if any(values.values()):
            yield number, values


def _code(value: str, where: str, errors: list[str]) -> bool:
    try:
        validate_slug(value)
    except ValidationError:
        errors.append(_("%(where)s：代码“%(code)s”只能由字母、数字、下划线或连字符组成。") % {"where": where, "code": value})
        return False
    return True


def _coded(book, sheet: str, where: str, errors: list[str]):
    """(where, code, name, row) of each row of a sheet of coded units (股室, 机构) with a valid,
    unrepeated code and a name; the other rows' errors go to ``errors``."""
    seen = set()
    for number, row in _rows(book, sheet, errors):
        here = where % {"sheet": sheet, "row": number}
        code, name = row["代码"], row["名称"]
        if not (code and name):
            errors.append(_("%(where)s：代码和名称必填。") % {"where": here})
        elif code in seen:
            errors.append(_("%(where)s：代码“%(code)s”重复。") % {"where": here, "code": code})
        elif _code(code, here, errors):
            seen.add(code)
            yield here, code, name, row


def read(data: bytes) -> Book:
    """The workbook's contents and every row's errors (nothing is written)."""
    errors: list[str] = []
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        return Book({}, {}, {}, [_("无法读取文件：请上传由本系统模板填写的 Excel 工作簿（.xlsx）。")])
    where = _("%(sheet)s 第 %(row)s 行")
    sections: dict[str, tuple[str, int]] = {}
    for here, code, name, row in _coded(book, SECTIONS, where, errors):
        order = row["排序"] or str(len(sections))
        if not order.isdigit():
            errors.append(_("%(where)s：排序须为非负整数。") % {"where": here})
        sections[code] = (name[:64], int(order) if order.isdigit() else 0)
    bodies = {code: name[:64] for _here, code, name, _row in _coded(book, BODIES, where, errors)}
    people: dict[str, Person] = {}
    username_field = User._meta.get_field("username")
    for number, row in _rows(book, PEOPLE, errors):
        here = where % {"sheet": PEOPLE, "row": number}
        problems = []
        username = row["用户名"]
        try:
            username_field.run_validators(username)
            if not username:
                raise ValidationError("")
        except ValidationError:
            problems.append(_("用户名“%(username)s”无效（必填，只能包含字母、数字和 @/./+/-/_）") % {"username": username})
        if username in people:
            problems.append(_("用户名“%(username)s”重复") % {"username": username})
        if not row["姓名"]:
            problems.append(_("姓名必填"))
        if row["电子邮件"]:
            try:
                validate_email(row["电子邮件"])
            except ValidationError:
                problems.append(_("电子邮件“%(email)s”格式不正确") % {"email": row["电子邮件"]})
        person_sections, heads, person_bodies = _many(row["股室"]), _many(row["负责的股室"]), _many(row["机构"])
        unknown = [c for c in (*person_sections, *heads) if c not in sections]
        if unknown:
            problems.append(_("股室“%(codes)s”不在“股室”表中") % {"codes": "、".join(unknown)})
        unknown = [c for c in person_bodies if c not in bodies]
        if unknown:
            problems.append(_("机构“%(codes)s”不在“机构”表中") % {"codes": "、".join(unknown)})
        roles = [(_role(r), r) for r in _many(row["角色"])]
        unknown = [text for role, text in roles if role is None]
        if unknown:
            problems.append(_("未知的角色“%(roles)s”") % {"roles": "、".join(unknown)})
        if problems:
            errors.append(_("%(where)s：%(problems)s。") % {"where": here, "problems": "；".join(problems)})
            continue
        people[username] = Person(
            username=username, full_name=row["姓名"][:64], phone=row["电话"][:32], email=row["电子邮件"],
            sections=tuple(c for c in person_sections if c not in heads), heads=heads, bodies=person_bodies,
            roles=tuple(sorted({role for role, _text in roles} - set(IMPLIED_ROLES))))
    return Book(sections, bodies, people, errors)


def write(book: Book) -> bytes:
    """The workbook of ``book`` (the export; with nothing in it, the template)."""
    out = Workbook()
    out.remove(out.active)
    bold = Font(bold=True)
    labels = dict(Role.choices)
    sheets = {
        SECTIONS: [(code, name, order) for code, (name, order) in book.sections.items()],
        BODIES: list(book.bodies.items()),
        PEOPLE: [(p.username, p.full_name, p.phone, p.email, "、".join(p.sections), "、".join(p.heads),
                  "、".join(p.bodies), "、".join(str(labels[r]) for r in p.roles)) for p in book.people.values()],
    }
    for title, rows in sheets.items():
        sheet = out.create_sheet(title)
        sheet.append(COLUMNS[title])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
        for letter in "ABCDEFGH"[:len(COLUMNS[title])]:
            sheet.column_dimensions[letter].width = 22
    notes = out.create_sheet(README)
    for line in (
        _("每个工作表第一行为列名，请勿修改；从第二行起每行一条。"),
        _("多个股室、机构或角色用顿号（、）或逗号分隔；填写股室和机构的代码。"),
        _("“负责的股室”中的股室，此人为负责人（接收催办）；“股室”中的股室，此人为工作人员。"),
        _("角色可填：%(roles)s。") % {"roles": "、".join(str(labels[r]) for r in Role.values if r not in IMPLIED_ROLES)},
        _("工作簿中不含密码：新人员导入后获得一次性密码（只显示一次），首次登录须修改。"),
        _("再次导入时，工作簿中没有的人员将被停用（不会删除）；股室和机构只新增或改名，不会删除。"),
        _("各响应级别由哪个机构决定，在“分级响应策略”中设置。"),
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()
