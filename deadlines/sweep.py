"""process_deadlines(): one sweep of every deadline that has something due (R40).

Run by Celery beat every few seconds and by ``manage.py process_deadlines``. It claims rows
with ``SELECT … FOR UPDATE SKIP LOCKED`` where ``next_action_at`` has come (an idle sweep is
one indexed query), marks missed deadlines, and writes reminders and escalations as
Notification rows under a unique constraint plus their outbox Delivery rows, all in the
batch's transaction: two sweeps at once, a redelivered task or a worker killed mid-sweep
never notify twice and never lose a notification.
"""

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.models import Incident
from incidents.timeline import event, record_many
from organization.models import (
    ROMAN,
    Body,
    BodyMembership,
    LevelPolicy,
    Role,
    SectionMembership,
    UnitPolicy,
    User,
)

from . import policy
from .models import Deadline, DeadlineState, Delivery, Heartbeat, Notification, Step
from .selectors import incident_levels

BATCH = 500


def db_now() -> dt.datetime:
    """The clock the sweep compares with: the database's (one clock for every web, worker and
    beat process), or the application's when settings.DEADLINE_CLOCK = "application" (tests
    walking simulated days with time-machine, which cannot move the database's clock)."""
    if getattr(settings, "DEADLINE_CLOCK", "database") == "application":
        return timezone.now()
    # PostgreSQL's CURRENT_TIMESTAMP is the transaction's start; clock_timestamp() is now.
    sql = "SELECT clock_timestamp()" if connection.vendor == "postgresql" else "SELECT CURRENT_TIMESTAMP"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        value = cursor.fetchone()[0]
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS' in UTC
        value = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value


def _due_now():
    """The filter for rows with something due, evaluated on the sweep's clock in SQL."""
    if getattr(settings, "DEADLINE_CLOCK", "database") == "application":
        return {"next_action_at__lte": timezone.now()}
    return {"next_action_at__lte": Now()}


def schedule(deadline: Deadline, unit: UnitPolicy | None = None, exempt: bool = False) -> None:
    """Set ``next_action_at`` for a new or changed row (called by deadlines/services.py)."""
    if deadline.state not in (DeadlineState.OPEN, DeadlineState.MISSED):
        deadline.next_action_at = None
        return
    unit = unit or UnitPolicy.current()
    items = policy.ladder(deadline.due_at, deadline.hard_due_at, deadline.created_at or timezone.now(), unit)
    waiting = [policy.effective_at(i, unit, exempt) for i in items
               if deadline.progress_at is None or i.at > deadline.progress_at]
    if deadline.state == DeadlineState.OPEN:
        waiting.append(policy.miss_at(deadline.due_at, deadline.hard_due_at))
    deadline.next_action_at = min(waiting) if waiting else None


class Audience:
    """Who is told at each step, loaded once per sweep (small tables)."""

    def __init__(self):
        self.section_members = defaultdict(list)
        self.section_heads = defaultdict(list)
        for m in SectionMembership.objects.values("section_id", "user_id", "is_head", "user__is_active"):
            if m["user__is_active"]:
                self.section_members[m["section_id"]].append(m["user_id"])
                if m["is_head"]:
                    self.section_heads[m["section_id"]].append(m["user_id"])
        self.body_members = defaultdict(list)
        for m in BodyMembership.objects.filter(user__is_active=True).values("body_id", "user_id"):
            self.body_members[m["body_id"]].append(m["user_id"])
        self.bodies = {b.code: b for b in Body.objects.all()}
        self.body_by_id = {b.pk: b for b in self.bodies.values()}
        self.leadership = list(User.objects.filter(groups__name=Role.LEADERSHIP, is_active=True)
                               .values_list("pk", flat=True))
        self.emails = dict(User.objects.exclude(email="").filter(is_active=True).values_list("pk", "email"))

    def owners(self, d: Deadline) -> list[int]:
        if d.owner_section_id:
            return self.section_members[d.owner_section_id]
        return self.body_members[d.owner_body_id]

    def recipients(self, d: Deadline, step: str) -> list[int]:
        if step == Step.REMIND:
            return self.owners(d)
        if step == Step.URGE:
            if d.owner_section_id:
                return self.section_heads[d.owner_section_id] or self.section_members[d.owner_section_id]
            return self.body_members[d.owner_body_id]
        if step == Step.SUPERVISE:
            command = self.bodies.get(policy.COMMAND)
            return self.body_members[command.pk] if command else []
        return self.leadership

    def webhook(self, d: Deadline, step: str) -> tuple[str, str]:
        """The group robot of the step's audience: the owner's for remind/urge, else the
        command group's."""
        if step in (Step.REMIND, Step.URGE):
            owner = d.owner_section if d.owner_section_id else self.body_by_id.get(d.owner_body_id)
        else:
            owner = self.bodies.get(policy.COMMAND)
        return (owner.code, owner.webhook_url) if owner is not None and owner.webhook_url else ("", "")


STEP_VERB = {Step.REMIND: "deadline_reminded", Step.URGE: "deadline_urged",
             Step.SUPERVISE: "deadline_supervised", Step.NOTIFY: "deadline_notified"}
STEP_RANK = {Step.REMIND: 0, Step.URGE: 1, Step.SUPERVISE: 2, Step.NOTIFY: 3}


def _line(d: Deadline, step: str) -> str:
    """One item: what is due or overdue, and what is asked. No incident content (R54)."""
    due = timezone.localtime(d.due_at).strftime("%m-%d %H:%M")
    owner = d.owner_section.name if d.owner_section_id else d.owner_body.name
    what = _("%(owner)s的%(kind)s") % {"owner": owner, "kind": d.get_kind_display()}
    label = Step(step).label
    if step == Step.REMIND:
        return _("【%(step)s】%(what)s将于 %(due)s 到期") % {"step": label, "what": what, "due": due}
    if d.state == DeadlineState.MISSED:
        return _("【%(step)s】%(what)s已于 %(due)s 到期，已逾期") % {"step": label, "what": what, "due": due}
    return _("【%(step)s】%(what)s已于 %(due)s 到期，尚未完成") % {"step": label, "what": what, "due": due}


def _subject(d: Deadline) -> str:
    if d.incident.classified:
        return _("（涉密事件 #%(id)s）") % {"id": d.incident_id}
    return f"：{d.incident.title}"


def _texts(d: Deadline, step: str) -> tuple[str, str]:
    """Title and body of one item; a classified incident's content never leaves the system (R54)."""
    if d.incident.classified:
        return _line(d, step) + _subject(d), _("请登录系统查看。")
    return _line(d, step) + _subject(d), d.incident.summary[:500]


def _digest_texts(items: list, morning: bool) -> tuple[str, str]:
    """One message listing several items (distinct lines, most urgent first)."""
    lines = list(dict.fromkeys(_line(d, step) + ("" if not morning else _subject(d)) for d, step, _seq in items))
    top_d, top_step, _seq = items[0]
    if morning:
        title = _("【免打扰时段汇总】%(n)s 项期限事项，最急：%(first)s") % {"n": len(lines), "first": lines[0]}
    else:
        title = _("【%(step)s】%(n)s 项期限事项%(subject)s") % {
            "step": Step(top_step).label, "n": len(lines), "subject": _subject(top_d)}
    return title, "\n".join(lines)


class Outgoing:
    """What one batch tells: items gathered per person and incident (per person alone for
    what quiet hours deferred: the morning digest) and per group robot, then written as one
    message each — a digest when there are several items, never the same line twice."""

    def __init__(self, audience: "Audience", now: dt.datetime):
        self.audience, self.now = audience, now
        self.people = defaultdict(list)  # (uid, incident id or None) -> [(deadline, step, sequence)]
        self.robots = defaultdict(list)  # (code, url, incident id or None) -> [...]
        self.cache = {}

    def add(self, d: Deadline, step: str, sequence: int, recipients, deferred: bool):
        scope = None if deferred else d.incident_id
        for uid in dict.fromkeys(recipients):
            self.people[(uid, scope)].append((d, step, sequence))
        code, url = self.audience.webhook(d, step)
        if url:
            self.robots[(code, url, scope)].append((d, step, sequence))

    @staticmethod
    def _ordered(items):
        return sorted(items, key=lambda i: (-STEP_RANK[i[1]], i[0].due_at, i[0].pk))

    def _texts(self, items, morning: bool) -> tuple[str, str]:
        """Title and body, worked out once per item list (the members of a section share it)."""
        key = (morning, *((d.pk, step, seq) for d, step, seq in items))
        if key not in self.cache:
            d, step, _seq = items[0]
            self.cache[key] = _texts(d, step) if len(items) == 1 else _digest_texts(items, morning)
        return self.cache[key]

    @staticmethod
    def _incident(items) -> int | None:
        """The incident a message is about; None for a morning digest over several."""
        ids = {d.incident_id for d, _step, _seq in items}
        return ids.pop() if len(ids) == 1 else None

    def write(self) -> tuple[int, int]:
        link_base = settings.SITE_URL.rstrip("/")
        notifications, deliveries = [], []
        for (uid, scope), items in self.people.items():
            items = self._ordered(items)
            d, step, seq = items[0]
            title, body = self._texts(items, morning=scope is None)
            scope = self._incident(items)
            link = f"/incidents/{scope}/" if scope else "/notifications/"
            notifications.append(Notification(
                recipient_id=uid, incident_id=scope, deadline=d, step=step, sequence=seq,
                title=title[:300], body=body, link=link))
            if uid in self.audience.emails:
                deliveries.append(Delivery(
                    key=f"email:{d.pk}:{step}:{seq}:{uid}", channel=Delivery.Channel.EMAIL,
                    target=self.audience.emails[uid], subject=title[:300],
                    text=f"{body}\n\n{link_base}{link}", next_attempt_at=self.now))
        for (code, url, scope), items in self.robots.items():
            items = self._ordered(items)
            d, step, seq = items[0]
            title, body = self._texts(items, morning=scope is None)
            text = title if len(items) == 1 else f"{title}\n{body}"
            scope = self._incident(items)
            link = f"/incidents/{scope}/" if scope else "/notifications/"
            deliveries.append(Delivery(
                key=f"webhook:{d.pk}:{step}:{seq}:{code}", channel=Delivery.Channel.WEBHOOK,
                target=url, subject=text.split("\n")[0][:300], text=f"{text}\n{link_base}{link}",
                next_attempt_at=self.now))
        Notification.objects.bulk_create(notifications, ignore_conflicts=True, batch_size=1000)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
        return len(notifications), len(deliveries)


PROGRESS_FIELDS = ["state", "progress_at", "next_action_at", "escalated_at", "escalation_step"]


def _save_progress(rows: list[Deadline]) -> None:
    """Write the sweep's fields of the claimed rows back, in the batch's transaction.

    On PostgreSQL one ``UPDATE … FROM unnest(arrays)``: Django's bulk_update builds a
    CASE WHEN per row and field, O(rows × fields) expressions resolved in Python, which
    took about half of a sweep's time (benchmarks/sweep_benchmark.py, docs/benchmarks.md).
    Same rows, same values; bulk_update elsewhere (SQLite)."""
    if connection.vendor != "postgresql":
        Deadline.objects.bulk_update(rows, PROGRESS_FIELDS, batch_size=BATCH)
        return
    meta, qn = Deadline._meta, connection.ops.quote_name
    columns = [qn(meta.get_field(f).column) for f in PROGRESS_FIELDS]
    types = [meta.get_field(f).db_type(connection).split("(")[0] for f in PROGRESS_FIELDS]
    sql = (f"UPDATE {qn(meta.db_table)} AS d SET " + ", ".join(f"{c} = u.{c}" for c in columns)
           + f" FROM unnest(%s::{meta.pk.rel_db_type(connection)}[], " + ", ".join(f"%s::{t}[]" for t in types)
           + f") AS u(pk, {', '.join(columns)}) WHERE d.{qn(meta.pk.column)} = u.pk")
    params = [[d.pk for d in rows]] + [[getattr(d, f) for d in rows] for f in PROGRESS_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _due(now: dt.datetime, **where):
    return Deadline.objects.filter(next_action_at__lte=now, state__in=[DeadlineState.OPEN, DeadlineState.MISSED],
                                   **where)


def _claim_incidents(now: dt.datetime) -> list[int]:
    """The incidents of the ``BATCH`` soonest due rows, locked; an incident a concurrent sweep
    or a service holds is skipped, not waited for. Incidents first, then their rows
    (``_claim``): a skipped row of a joined lock (``FOR UPDATE OF deadline, incident SKIP
    LOCKED``) keeps the lock taken on its deadline until the transaction ends, so a concurrent
    sweep that then claimed that incident's other rows skipped this one too and wrote its
    incident a second digest."""
    soonest = _due(now).order_by("next_action_at").values("incident_id")[:BATCH]
    return list(Incident.objects.select_for_update(skip_locked=True).filter(pk__in=soonest)
                .order_by().values_list("pk", flat=True))


def _claim(now: dt.datetime, incidents, **where):
    """The due rows of ``incidents`` (locked by this transaction: ``_claim_incidents``),
    locked; no other sweep takes a row of an incident it does not hold."""
    return (_due(now, incident_id__in=incidents, **where).select_for_update(of=("self",))
            .select_related("incident", "owner_section", "owner_body")
            .order_by("next_action_at"))


def _process_batch(audience: Audience, unit: UnitPolicy, level_policies: dict, stats: dict) -> int:
    """One transaction: claim the incidents of up to BATCH due rows and every due row of theirs
    (one digest per person and incident), advance them, and — for a repeating duty whose slot
    was missed — open the next slot and, when it is already due (an outage), advance it too in
    the same pass, so that a day of silence is one message per person and incident."""
    with transaction.atomic():
        now = db_now()
        # The incidents' rows are locked before their deadlines (``_claim_incidents``): the
        # timeline events written below extend each incident's hash chain under its row lock
        # (incidents/timeline.py); an incident a service holds is skipped until the next sweep.
        incidents = _claim_incidents(now)
        rows = list(_claim(now, incidents)) if incidents else []  # every due row of each: one digest each
        if not rows:
            return 0
        levels = incident_levels(incidents)
        outgoing, events, done, opened = Outgoing(audience, now), [], set(), 0
        while rows:
            slots = _advance(rows, levels, outgoing, events, now, unit, level_policies, stats)
            _save_progress(rows)  # first: the missed slots leave "open" before their successors come
            done |= {d.pk for d in rows}
            Deadline.objects.bulk_create(slots, ignore_conflicts=True, batch_size=1000)
            opened += len(slots)
            due = {s.incident_id for s in slots if s.next_action_at is not None and s.next_action_at <= now}
            rows = list(_claim(now, due, created_at=now, state=DeadlineState.OPEN)
                        .exclude(pk__in=done)) if due else []
        claimed = len(done)
        written, sent = outgoing.write()
        record_many(events)
        stats["claimed"] += claimed
        stats["notifications"] += written
        stats["deliveries"] += sent
        stats["slots"] += opened
        return claimed


def _advance(rows, levels, outgoing, events, now, unit, level_policies, stats) -> list[Deadline]:
    """Fire what is due for each row, mark missed ones, and return the slots to open."""
    plans = []
    for d in rows:
        governing, running = levels.get(d.incident_id, (None, None))
        exempt = policy.exempt_from_quiet_hours(governing)
        items = policy.ladder(d.due_at, d.hard_due_at, d.created_at, unit)
        fire, _waiting = policy.due_items(items, d.progress_at, now, unit, exempt)
        # Quiet hours never hide a miss: owners whose reminders or 催办 quiet hours held
        # back, and who heard no reminder, are told with the 催办 that says it was missed.
        hushed = any(i.step in (Step.REMIND, Step.URGE) and policy.effective_at(i, unit, exempt) != i.at
                     for i in items)
        plans.append((d, exempt, running, fire, hushed))
    urged = [p[0].pk for p in plans if p[4] and any(i.step == Step.URGE for i in p[3])]
    reminded = set(Notification.objects.filter(deadline_id__in=urged, step=Step.REMIND)
                   .values_list("deadline_id", flat=True)) if urged else set()
    slots = []
    for d, exempt, running, fire, hushed in plans:
        missing = d.state == DeadlineState.OPEN and policy.miss_at(d.due_at, d.hard_due_at) <= now
        if missing:
            d.state = DeadlineState.MISSED  # before the texts: they say it was missed
        for item in fire:
            d.progress_at = item.at
            if item.step == Step.REMIND and now >= d.due_at:
                stats["remind_skipped"] += 1  # its "will be due" moment has passed
                continue
            recipients = outgoing.audience.recipients(d, item.step)
            if item.step == Step.URGE and hushed and d.pk not in reminded:
                recipients = recipients + outgoing.audience.owners(d)
            deferred = policy.effective_at(item, unit, exempt) != item.at
            outgoing.add(d, item.step, item.sequence, recipients, deferred)
            events.append(event(
                d.incident_id, None, STEP_VERB[item.step], before=d.incident.state, deadline=d.pk,
                kind=d.kind, owner=d.owner_code, step=item.step, lead_minutes=item.sequence or None,
                due_at=d.due_at))
            if item.step != Step.REMIND:
                d.escalated_at, d.escalation_step = now, item.step
            stats[item.step] += 1
        if missing:
            stats["missed"] += 1
            events.append(event(
                d.incident_id, None, "deadline_missed", before=d.incident.state, deadline=d.pk,
                kind=d.kind, owner=d.owner_code, due_at=d.due_at))
            if running and policy.repeating(d.kind):
                slots.append(_next_slot(d, level_policies[running], now, unit, exempt))
        schedule(d, unit, exempt)
    return slots


def _next_slot(d: Deadline, level, now: dt.datetime, unit: UnitPolicy, exempt: bool) -> Deadline:
    """The slot after a missed one of a repeating duty (policy.slot_after_miss)."""
    slot = Deadline(incident_id=d.incident_id, kind=d.kind, owner_section_id=d.owner_section_id,
                    owner_body_id=d.owner_body_id, due_at=policy.slot_after_miss(d.kind, d.due_at, level),
                    created_at=now)
    schedule(slot, unit, exempt)
    return slot


def process_deadlines(max_batches: int | None = None) -> dict:
    """One sweep now. Returns counts; records the heartbeat."""
    stats = defaultdict(int)
    audience = unit = level_policies = None
    batches = 0
    with translation.override(settings.LANGUAGE_CODE):
        while max_batches is None or batches < max_batches:
            if not Deadline.objects.filter(**_due_now()).exists():
                break  # the idle sweep: one indexed query, on the database's clock
            if audience is None:
                audience, unit = Audience(), UnitPolicy.current()
                configured = {p.level: p for p in LevelPolicy.objects.all()}
                level_policies = {n: configured.get(n) or LevelPolicy.for_level(n) for n in ROMAN}
            if not _process_batch(audience, unit, level_policies, stats):
                break  # everything due is held by another sweep
            batches += 1
    beat(timezone.now())
    return dict(stats)


def beat(at):
    """Record the heartbeat: one UPDATE (the row is created by the very first sweep)."""
    if not Heartbeat.objects.filter(name="sweep").update(beat_at=at):
        Heartbeat.objects.get_or_create(name="sweep", defaults={"beat_at": at})


__all__ = ["process_deadlines", "schedule"]
