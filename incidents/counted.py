"""How many incidents there are, kept by the database (issue 12): the API list's exact
``count`` for whoever sees every incident (``incidents.selectors.count_visible``) without
reading 100,000 rows (``COUNT(*)`` was ~4–8 ms of the page at 100,000 incidents, and grows
with the history).

- Statement-level triggers on ``incidents_incident`` (migration 0013_incident_count; AFTER
  INSERT / AFTER DELETE over the transition tables) append one row per statement to the
  insert-only ``IncidentCountDelta``: +n rows inserted, -n deleted. Every writer is counted
  (the services, bulk inserts, COPY, deletes), and concurrent writers never share a row: a
  counter row updated by every writer would serialise them, and deadlock them in the order
  they lock it and the incidents. A TRUNCATE of the incidents (AFTER TRUNCATE) empties the
  log and the count; ``flush`` truncates the three tables together.
- ``compact`` (the beat's ``compact-tallies``, every minute, beside accountability's tallies)
  folds the log into ``IncidentCount``'s one row.
- ``STATEMENT`` reads the folded row plus the log not yet folded, in one statement (one
  snapshot: a compaction is seen whole or not at all).

PostgreSQL only: on SQLite (the embedded default, no triggers) the count is ``COUNT(*)``,
and the two tables stay empty.
"""

from django.db import connections, transaction

# The count: the folded row and the log not yet folded, summed in one statement.
STATEMENT = ("SELECT CAST(COALESCE(SUM(n), 0) AS bigint) FROM (SELECT n FROM incidents_incidentcount "
             "UNION ALL SELECT n FROM incidents_incidentcountdelta) AS logged")

FOLD = ("INSERT INTO incidents_incidentcount (id, n) VALUES (1, %s) "
        "ON CONFLICT (id) DO UPDATE SET n = incidents_incidentcount.n + excluded.n")


def kept(using: str) -> bool:
    """Whether the database keeps the count (PostgreSQL: the triggers)."""
    return connections[using].vendor == "postgresql"


def compact(using: str = "default") -> int:
    """Fold the log into the count; returns how many log rows it moved. The rows are taken by
    one DELETE … RETURNING, so a row committed meanwhile waits for the next run and two runs at
    once take disjoint rows (the second waits for the first's rows, then skips them)."""
    if not kept(using):
        return 0
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("DELETE FROM incidents_incidentcountdelta RETURNING n")
        moved = [n for (n,) in cursor.fetchall()]
        if moved:
            cursor.execute(FOLD, [sum(moved)])
    return len(moved)
