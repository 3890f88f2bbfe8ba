"""A realistic history of N incidents, written by bulk inserts through the project's models.

Used by ``benchmarks/pages_benchmark.py`` (N = 1,000 and 100,000) and by the query-count tests
(``tests/test_bounded_pages.py``, two small N). Needs the demo organisation (``seed_demo``).

The mix, per incident (deterministic for a given ``seed``):

- states: 85 % closed, 4 % watching, 3 % judging, 3 % warned, 4 % responding, 1 % aftermath;
  logged over the last three years, the open ones mostly recent;
- one or two responsible sections (``Assignment``), one source, one judgment when judged;
- a warning (with its current notice and a receipt per section, unsigned on a few open
  incidents) on warned, responding, aftermath and a fifth of the closed ones;
- a response on responding (active or lift proposed), aftermath and a tenth of the closed
  ones (lifted); some warned incidents have a start proposal waiting for a body;
- about 5 deadlines (met, late or missed on closed incidents; open, missed or met on the open
  ones) and about 10 timeline events; incident ``big`` (the first) has ``big_events`` events;
- a notification every fifth incident for a demo user, a third unread;
- the search tokens of its texts (incidents/search.py).

On PostgreSQL every table is written with COPY (explicit ids, sequences reset afterwards);
elsewhere with ``bulk_create``. Timeline rows are inserted, never updated, so the append-only
trigger does not object.
"""

import csv
import datetime as dt
import io
import json
import random

from django.db import connection
from django.utils import timezone

from deadlines.models import Deadline, Notification
from early_warnings.models import EarlyWarning, NoticeReceipt, WarningNotice
from incidents.models import Assignment, Incident, Judgment, SearchToken, Source, TimelineEvent
from incidents.search import tokens
from incidents.timeline import GENESIS, link
from organization.models import Body, Section, User
from responses.models import Response, ResponseProposal

PLACES = ["阳光", "锦绣", "滨江", "城南", "和平", "金桥", "翠湖", "东方", "新华", "南山"]
THINGS = ["小区", "学校", "医院", "菜市场", "工地", "商场", "街道", "公园", "车站", "景区"]
MATTERS = ["拆迁", "物业", "延期", "补偿", "欠薪", "噪音", "排污", "停水", "收费", "安全",
           "投诉", "事故", "食品", "交通", "维修", "退费", "环境", "违建", "招生", "医保"]
VERBS = ["网民反映", "业主质疑", "群众投诉", "网帖称", "视频显示", "家长反映"]
PLATFORMS = ["news", "forum", "weibo", "wechat", "video"]
VERBS_TIMELINE = ["logged", "assigned", "permission_granted", "judged", "warning_issued", "notice_signed",
                  "report_submitted", "source_added", "spread_recorded", "stability_assessed"]

# The first three incidents of every seeding are fixed, so that even a small history has
# every kind of row the pages list: the big one (responding at level II, the petition
# section's), a start proposal at level I waiting for the leader (petition and info, its
# notice not yet signed), a lift proposal at level II.
FIXED = {0: ("responding", "active", 2), 1: ("warned", "proposed", 1), 2: ("responding", "lift_proposed", 2)}

STATES = [("closed", 85), ("watching", 4), ("judging", 3), ("warned", 3), ("responding", 4), ("aftermath", 1)]
DEADLINE_KINDS = ["quick", "flash", "feedback", "verification", "status", "briefing", "judgment"]


def _pick_state(rng):
    roll = rng.randrange(100)
    for state, share in STATES:
        if roll < share:
            return state
        roll -= share
    return "closed"


def _text(rng, words: int) -> str:
    return "".join(rng.choice(MATTERS) + rng.choice(["，", "问题", "", "情况"]) for _ in range(words))


class Writer:
    """Rows by model, written in large batches at the end of each table (COPY on PostgreSQL)."""

    def __init__(self):
        self.rows: dict[type, list] = {}
        self.next_id: dict[type, int] = {}
        self.postgres = connection.vendor == "postgresql"

    def new_id(self, model) -> int:
        if model not in self.next_id:
            last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            self.next_id[model] = last + 1
        pk = self.next_id[model]
        self.next_id[model] += 1
        return pk

    def add(self, obj):
        self.rows.setdefault(type(obj), []).append(obj)
        return obj

    def flush(self, model):
        objs = self.rows.pop(model, [])
        if not objs:
            return
        if not self.postgres:
            model.objects.bulk_create(objs, batch_size=2000)
            return
        fields = list(model._meta.concrete_fields)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        for start in range(0, len(objs), 100_000):
            buffer = io.StringIO()
            out = csv.writer(buffer)
            for obj in objs[start:start + 100_000]:
                out.writerow([_csv(getattr(obj, f.attname)) for f in fields])
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    buffer)
        if model._meta.pk.column == "id":
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM "
                               f"{connection.ops.quote_name(model._meta.db_table)}))", [model._meta.db_table])


def _csv(value):
    if value is None:
        return r"\N"  # COPY … NULL '\N': an empty field stays an empty string
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def seed(n: int, *, big_events: int = 500, seed: int = 1, now: dt.datetime | None = None) -> dict:
    """Write ``n`` incidents and everything they carry; returns counts of what was written."""
    rng = random.Random(seed)
    now = now or timezone.now()
    users = {u.username: u for u in User.objects.all()}
    duty, command = users["duty"], users["command"]
    sections = list(Section.objects.order_by("order", "code"))
    bodies = {b.code: b for b in Body.objects.all()}
    command_body = bodies["command"]
    readers = [users[name] for name in ("command", "petition", "leader", "market", "duty") if name in users]
    w = Writer()
    three_years = 3 * 365 * 24 * 3600

    fixed_sections = sorted(sections, key=lambda s: (s.code != "petition", s.code != "info"))  # petition, info
    for i in range(n):
        fixed = FIXED.get(i)
        state = fixed[0] if fixed else _pick_state(rng)
        recent = state != "closed"
        age = rng.uniform(0, 20 * 24 * 3600) if recent else rng.uniform(0, three_years)
        reported_at = now - dt.timedelta(seconds=age)
        pk = w.new_id(Incident)
        title = f"{rng.choice(PLACES)}{rng.choice(THINGS)}{rng.choice(MATTERS)}{rng.choice(MATTERS)}问题"
        summary = f"{rng.choice(VERBS)}{_text(rng, 4)}"
        incident = w.add(Incident(
            pk=pk, title=title, summary=summary, channel="monitoring",
            discovered_at=reported_at - dt.timedelta(minutes=20), reported_at=reported_at, reported_by=duty,
            keywords=rng.choice(MATTERS), classified=rng.random() < 0.03, state=state,
            veracity="" if state == "reported" else "true", severity="" if state == "watching" else "medium",
            judged_at=reported_at + dt.timedelta(hours=1),
            closed_at=reported_at + dt.timedelta(days=10) if state == "closed" else None))
        assigned = fixed_sections[:1 + (i == 1)] if fixed else rng.sample(sections, rng.choice((1, 1, 2)))
        for section in assigned:
            w.add(Assignment(pk=w.new_id(Assignment), incident_id=pk, section=section, assigned_by=command,
                             assigned_at=reported_at))
        url = f"https://{rng.choice(PLATFORMS)}.example.com/t/{pk}"
        w.add(Source(pk=w.new_id(Source), incident_id=pk, url=url, platform=rng.choice(PLATFORMS),
                     added_by=duty, added_at=reported_at))
        w.add(Judgment(pk=w.new_id(Judgment), incident_id=pk, veracity="true", severity="medium",
                       analysis=_text(rng, 3), judged_by=command, judged_at=reported_at + dt.timedelta(hours=1)))
        for token in tokens(title) | tokens(summary) | tokens(incident.keywords) | tokens(url):
            w.add(SearchToken(token=token, incident_id=pk))

        # Warning, notice, receipts.
        warned = state in ("warned", "responding", "aftermath") or (state == "closed" and rng.random() < 0.2)
        if warned:
            level = fixed[2] if fixed else rng.choice((1, 2, 3, 4, 4, 3))
            warning_id, notice_id = w.new_id(EarlyWarning), w.new_id(WarningNotice)
            w.add(EarlyWarning(pk=warning_id, incident_id=pk, level=level, current_id=notice_id,
                               state="active" if state in ("warned", "responding") else "lifted"))
            w.add(WarningNotice(pk=notice_id, warning_id=warning_id, incident_id=pk, kind="issue", level=level,
                                subject=title, start_at=reported_at, scope=_text(rng, 2), matters=_text(rng, 3),
                                measures=_text(rng, 2), issuing_body="舆情信息指挥小组", delivery="system",
                                issued_at=reported_at + dt.timedelta(hours=2), issued_by=command))
            for section in assigned:
                signed = i != 1 and not (recent and rng.random() < 0.3)
                w.add(NoticeReceipt(pk=w.new_id(NoticeReceipt), notice_id=notice_id, section=section,
                                    signed_at=reported_at + dt.timedelta(hours=3) if signed else None,
                                    signed_by=command if signed else None, incident_closed=state == "closed",
                                    issued_at=reported_at + dt.timedelta(hours=2), incident_id=pk))

        # Response.
        responded = state in ("responding", "aftermath") or (state == "closed" and warned and rng.random() < 0.5)
        pending_proposal = (fixed[1] == "proposed") if fixed else (state == "warned" and rng.random() < 0.3)
        if responded or pending_proposal:
            level = fixed[2] if fixed else rng.choice((1, 2, 3, 4, 4, 3, 3))
            proposal_id = w.new_id(ResponseProposal)
            w.add(ResponseProposal(pk=proposal_id, incident_id=pk, level=level, deciding_level=level,
                                   reason=_text(rng, 2),
                                   proposed_by=command, proposed_at=reported_at + dt.timedelta(hours=3),
                                   decision="pending" if pending_proposal else "approved",
                                   decided_by=None if pending_proposal else users["leader"],
                                   decided_at=None if pending_proposal else reported_at + dt.timedelta(hours=4)))
            if pending_proposal:
                rstate = "proposed"
            elif fixed:
                rstate = fixed[1]
            elif state == "responding":
                rstate = "lift_proposed" if rng.random() < 0.15 else "active"
            else:
                rstate = "lifted"
            w.add(Response(pk=w.new_id(Response), incident_id=pk, state=rstate,
                           level=None if pending_proposal else level,
                           proposal_id=proposal_id if pending_proposal else None,
                           activated_at=None if pending_proposal else reported_at + dt.timedelta(hours=4),
                           lift_proposed_by=command if rstate == "lift_proposed" else None,
                           stable_working_days=rng.randrange(0, 6), reported_at=reported_at))

        # Deadlines (~5) and timeline (~10; the first incident ``big_events``).
        for k in range(rng.choice((4, 5, 5, 6))):
            due = reported_at + dt.timedelta(hours=1 + 6 * k)
            kind = DEADLINE_KINDS[k % len(DEADLINE_KINDS)]
            by_section = kind in ("verification", "status")
            owner_section = rng.choice(assigned) if by_section else None
            if state == "closed":
                dstate = rng.choices(("met", "late", "missed", "cancelled"), (80, 10, 7, 3))[0]
            else:
                due = now + dt.timedelta(hours=rng.uniform(-30, 72))
                dstate = rng.choices(("open", "missed", "met"), (60, 10, 30))[0]
            met = dstate in ("met", "late")
            w.add(Deadline(pk=w.new_id(Deadline), incident_id=pk, kind=kind, owner_section=owner_section,
                           owner_body=None if by_section else command_body, due_at=due,
                           hard_due_at=due + dt.timedelta(hours=2), state=dstate, created_at=reported_at,
                           met_at=due - dt.timedelta(minutes=10) if met else None,
                           met_by=(users["petition"] if by_section else command) if met else None,
                           incident_closed=state == "closed"))
        events = big_events if i == 0 else rng.choice((8, 10, 10, 12))
        previous = GENESIS  # each incident's events form its hash chain (incidents/timeline.py)
        for e in range(events):
            event = TimelineEvent(pk=w.new_id(TimelineEvent), incident_id=pk, at=reported_at + dt.timedelta(minutes=e),
                                  actor=command, verb=VERBS_TIMELINE[e % len(VERBS_TIMELINE)], detail={"n": e},
                                  before="", after=state if e == 0 else "", seq=e + 1)
            event.hash = previous = link(previous, event)
            w.add(event)
        if i % 5 == 0:
            reader = readers[(i // 5) % len(readers)]
            w.add(Notification(pk=w.new_id(Notification), recipient=reader, incident_id=pk, step="remind",
                               title=f"【提醒】{title}", created_at=reported_at,
                               read_at=None if rng.random() < 0.33 else reported_at + dt.timedelta(hours=1)))

    counts = {model._meta.label: len(rows) for model, rows in w.rows.items()}
    # EarlyWarning.current and WarningNotice.warning point at each other: foreign keys are
    # checked at commit (Django creates them DEFERRABLE INITIALLY DEFERRED), so the caller
    # runs this in one transaction.
    for model in (Incident, Assignment, Source, Judgment, SearchToken, WarningNotice, EarlyWarning, NoticeReceipt,
                  ResponseProposal, Response, Deadline, TimelineEvent, Notification):
        w.flush(model)
    return counts
