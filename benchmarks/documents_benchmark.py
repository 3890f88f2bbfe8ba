#!/usr/bin/env python
"""Benchmark of ledgers and documents (issue 13, item 4): a script that prints figures, not a test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sentiment_bench \\
        .venv/bin/python benchmarks/documents_benchmark.py [--incidents 10000] [--unoserver 127.0.0.1:19201]

Only the server of DATABASE_URL is used: the script creates its own database (``--db-name``,
default ``sentiment_docs_bench``; the name must contain ``bench``), migrates it, seeds the demo
organisation and ``--incidents`` incidents (two sections assigned, a deadline each), and drops
the database at the end unless ``--keep``. It prints, in the same run:

1. the incidents ledger (incidents.xlsx) of every row, as the command group downloads it:
   wall time, rows per second, the Python heap's peak while writing (tracemalloc) and the
   file's size — beside a plain CSV export of the same rows (the same query, csv.writer);
2. the deadlines ledger (deadlines.xlsx) likewise;
3. one document (the summary report): DOCX render time, and PDF conversion time with a cold
   ``soffice --convert-to`` and, with ``--unoserver host:port`` (a running unoserver, e.g.
   ``unoserver --port 19201``), with the warm converter — median of ``--repeat`` runs.
"""

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "benchmarks"))

from sweep_benchmark import create_database, drop_database, server_url  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--incidents", type=int, default=10_000)
    p.add_argument("--unoserver", default="", help="host:port of a running unoserver (the warm converter)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--db-name", default="sentiment_docs_bench")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    if "bench" not in args.db_name:
        p.error("--db-name must contain 'bench' (the script drops it)")
    return args


def line(label, value):
    print(f"  {label:<48} {value}")


def measure(fn):
    """(result, wall seconds, Python heap peak): timed on a plain run, the peak measured on a
    second run under tracemalloc (which slows allocation-heavy code several times)."""
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    again = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    if hasattr(again, "close"):
        again.close()
    return result, elapsed, peak


def seed(n):
    import datetime as dt

    from django.utils import timezone

    from deadlines.models import Deadline
    from incidents.models import Assignment, Incident
    from organization.models import Section, User

    duty = User.objects.get(username="duty")
    petition, market = Section.objects.get(code="petition"), Section.objects.get(code="market")
    start = timezone.now() - dt.timedelta(days=60)
    batch = [Incident(title=f"基准测试舆情 {i}", summary="业主集中反映交房延期。" * 3, channel="monitoring",
                      discovered_at=start + dt.timedelta(minutes=i), reported_by=duty, severity="medium",
                      veracity="true") for i in range(n)]
    Incident.objects.bulk_create(batch, batch_size=2000)
    incidents = list(Incident.objects.order_by("pk"))
    Assignment.objects.bulk_create(
        [Assignment(incident=inc, section=s, assigned_by=duty) for inc in incidents for s in (petition, market)],
        batch_size=4000)
    Deadline.objects.bulk_create(
        [Deadline(incident=inc, kind="verification", owner_section=petition, due_at=inc.discovered_at + dt.timedelta(hours=3))
         for inc in incidents], batch_size=4000)


def main():
    args = parse_args()
    bench, conn = server_url(args.db_name)
    create_database(conn, args.db_name)
    os.environ["DATABASE_URL"] = bench
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sentiment_ops.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test.utils import override_settings

        call_command("migrate", verbosity=0)
        with override_settings(DEBUG=True):
            call_command("seed_demo", verbosity=0)
        from organization.models import User

        print(f"== seeding {args.incidents} incidents")
        t0 = time.perf_counter()
        seed(args.incidents)
        line("(seed wall time)", f"{time.perf_counter() - t0:.1f} s")
        command = User.objects.get(username="command")
        run_ledgers(command, args.incidents)
        run_document(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(conn, args.db_name)


def run_ledgers(user, n):
    from documents import ledgers

    def params(**data):
        form = ledgers.LedgerFilter(data)
        assert form.is_valid(), form.errors
        return form

    def csv_of(rows, fields):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8-sig") as f:
            writer = csv.writer(f)
            count = 0
            for row in rows:
                writer.writerow([getattr(row, name) for name in fields])
                count += 1
            f.flush()
            return count, os.path.getsize(f.name)

    for name, build, rows, fields in (
        ("incidents.xlsx", lambda: ledgers.incidents_xlsx(user, params()),
         lambda: ledgers.with_section_names(ledgers.incident_rows(user, params())),
         ["pk", "title", "channel", "discovered_at", "reported_at", "severity", "veracity", "top_warning",
          "top_response", "section_names", "state", "closed_at"]),
        ("deadlines.xlsx", lambda: ledgers.deadlines_xlsx(user, params()),
         lambda: ledgers.deadline_rows(user, params()).iterator(chunk_size=ledgers.CHUNK),
         ["incident_id", "owner_section_id", "kind", "due_at", "hard_due_at", "met_at", "state", "met_by_id"]),
    ):
        print(f"\n== {name}: every row, as the command group downloads it")
        file, seconds, peak = measure(build)
        size = os.path.getsize(file.name)
        file.close()
        line("XLSX wall time", f"{seconds:.2f} s ({n / seconds:,.0f} rows/s)")
        line("XLSX Python heap peak (tracemalloc)", f"{peak / 2**20:.1f} MiB")
        line("XLSX file size", f"{size / 2**20:.2f} MiB")
        (count, csv_size), seconds, peak = measure(lambda rows=rows, fields=fields: csv_of(rows(), fields))
        line(f"plain CSV of the same {count} rows: wall time", f"{seconds:.2f} s ({count / seconds:,.0f} rows/s)")
        line("CSV Python heap peak (tracemalloc)", f"{peak / 2**20:.1f} MiB")
        line("CSV file size", f"{csv_size / 2**20:.2f} MiB")


def run_document(args):
    from django.conf import settings
    from django.test.utils import override_settings

    from documents import convert, render, selectors
    from documents.models import IssuedDocument
    from incidents.models import Incident
    from organization.models import User
    from responses.models import Report

    print("\n== one document: the summary report (舆情分析专题报告)")
    incident = Incident.objects.order_by("pk").first()
    command = User.objects.get(username="command")
    report = Report.objects.create(incident=incident, kind="summary", author=command, characteristics="集中爆发",
                                   measures_effect="及时回应", experience="快速核实", problems="首报偏慢",
                                   recommendations="加强监看")
    issued = IssuedDocument.objects.create(incident=incident, kind="summary", source_key=selectors.source_key(report),
                                           year=2026, series="number", number=1, issued_by=command)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        docx = render.docx(incident=incident, kind="summary", item=report, issued=issued)
        times.append(time.perf_counter() - t0)
    line("DOCX render (docxtpl), median", f"{statistics.median(times) * 1000:.0f} ms")
    with override_settings(UNOSERVER=""):
        times = []
        for _ in range(min(args.repeat, 3)):
            t0 = time.perf_counter()
            convert.to_pdf(docx)
            times.append(time.perf_counter() - t0)
    line("PDF, cold soffice --convert-to, median", f"{statistics.median(times):.2f} s")
    if args.unoserver:
        with override_settings(UNOSERVER=args.unoserver):
            convert.to_pdf(docx)  # first call loads the document filters
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                convert.to_pdf(docx)
                times.append(time.perf_counter() - t0)
        line(f"PDF, warm unoserver ({settings.UNOSERVER or args.unoserver}), median",
             f"{statistics.median(times) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
