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

from incidents.timeline import event, record_many
from organization.models import Body, BodyMembership, Role, SectionMembership, UnitPolicy, User

from . import policy
from .models import Deadline, DeadlineState, Delivery, Heartbeat, Notification, Step
from .selectors import governing_levels

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


def _texts(d: Deadline, step: str, now: dt.datetime) -> tuple[str, str]:
    """Title and body; a classified incident's content never leaves the system (R54)."""
    due = timezone.localtime(d.due_at).strftime("%m-%d %H:%M")
    owner = d.owner_section.name if d.owner_section_id else d.owner_body.name
    what = _("%(owner)s的%(kind)s") % {"owner": owner, "kind": d.get_kind_display()}
    label = Step(step).label
    if step == Step.REMIND and now < d.due_at:
        head = _("【%(step)s】%(what)s将于 %(due)s 到期") % {"step": label, "what": what, "due": due}
    else:
        head = _("【%(step)s】%(what)s已于 %(due)s 到期，尚未完成") % {"step": label, "what": what, "due": due}
    if d.incident.classified:
        return head + _("（涉密事件 #%(id)s）") % {"id": d.incident_id}, _("请登录系统查看。")
    return head + f"：{d.incident.title}", d.incident.summary[:500]


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


def _process_batch(audience: Audience, unit: UnitPolicy, stats: dict) -> int:
    with transaction.atomic():
        now = db_now()
        # The incidents' rows are locked with their deadlines: the timeline events written
        # below extend each incident's hash chain under its row lock (incidents/timeline.py);
        # an incident a service holds is skipped until the next sweep.
        rows = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self", "incident"))
            .filter(next_action_at__lte=now, state__in=[DeadlineState.OPEN, DeadlineState.MISSED])
            .select_related("incident", "owner_section", "owner_body")
            .order_by("next_action_at")[:BATCH]
        )
        if not rows:
            return 0
        levels = governing_levels({d.incident_id for d in rows})
        notifications, deliveries, events = [], [], []
        link_base = settings.SITE_URL.rstrip("/")
        for d in rows:
            exempt = policy.exempt_from_quiet_hours(levels.get(d.incident_id))
            items = policy.ladder(d.due_at, d.hard_due_at, d.created_at, unit)
            fire, _waiting = policy.due_items(items, d.progress_at, now, unit, exempt)
            link = f"/incidents/{d.incident_id}/"
            for item in fire:
                title, body = _texts(d, item.step, now)
                for uid in audience.recipients(d, item.step):
                    notifications.append(Notification(
                        recipient_id=uid, incident_id=d.incident_id, deadline=d, step=item.step,
                        sequence=item.sequence, title=title[:300], body=body, link=link))
                    if uid in audience.emails:
                        deliveries.append(Delivery(
                            key=f"email:{d.pk}:{item.step}:{item.sequence}:{uid}", channel=Delivery.Channel.EMAIL,
                            target=audience.emails[uid], subject=title[:300],
                            text=f"{body}\n\n{link_base}{link}", next_attempt_at=now))
                code, url = audience.webhook(d, item.step)
                if url:
                    deliveries.append(Delivery(
                        key=f"webhook:{d.pk}:{item.step}:{item.sequence}:{code}", channel=Delivery.Channel.WEBHOOK,
                        target=url, subject=title[:300], text=f"{title}\n{link_base}{link}", next_attempt_at=now))
                events.append(event(
                    d.incident_id, None, STEP_VERB[item.step], before=d.incident.state, deadline=d.pk,
                    kind=d.kind, owner=d.owner_code, step=item.step, lead_minutes=item.sequence or None,
                    due_at=d.due_at))
                d.progress_at = item.at
                if item.step != Step.REMIND:
                    d.escalated_at, d.escalation_step = now, item.step
                stats[item.step] += 1
            if d.state == DeadlineState.OPEN and policy.miss_at(d.due_at, d.hard_due_at) <= now:
                d.state = DeadlineState.MISSED
                stats["missed"] += 1
                events.append(event(
                    d.incident_id, None, "deadline_missed", before=d.incident.state, deadline=d.pk,
                    kind=d.kind, owner=d.owner_code, due_at=d.due_at))
            schedule(d, unit, exempt)
        Notification.objects.bulk_create(notifications, ignore_conflicts=True, batch_size=1000)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=1000)
        record_many(events)
        _save_progress(rows)
        stats["claimed"] += len(rows)
        stats["notifications"] += len(notifications)
        stats["deliveries"] += len(deliveries)
        return len(rows)


def process_deadlines(max_batches: int | None = None) -> dict:
    """One sweep now. Returns counts; records the heartbeat."""
    stats = defaultdict(int)
    audience = unit = None
    batches = 0
    with translation.override(settings.LANGUAGE_CODE):
        while max_batches is None or batches < max_batches:
            if not Deadline.objects.filter(**_due_now()).exists():
                break  # the idle sweep: one indexed query, on the database's clock
            if audience is None:
                audience, unit = Audience(), UnitPolicy.current()
            if not _process_batch(audience, unit, stats):
                break  # everything due is held by another sweep
            batches += 1
    beat(timezone.now())
    return dict(stats)


def beat(at):
    """Record the heartbeat: one UPDATE (the row is created by the very first sweep)."""
    if not Heartbeat.objects.filter(name="sweep").update(beat_at=at):
        Heartbeat.objects.get_or_create(name="sweep", defaults={"beat_at": at})


__all__ = ["process_deadlines", "schedule"]
