"""DOCX → PDF with LibreOffice, so that a unit's own template prints as it looks.

Production keeps LibreOffice warm with unoserver (the ``converter`` service of
docker-compose.yml; ``UNOSERVER=host:port``); without it (development, tests) each call runs
``soffice --headless --convert-to pdf`` on a batch of files. Either way LibreOffice resolves the
official fonts through documents/fonts/fonts.conf and embeds the free substitutes, text kept."""

import os
import subprocess
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from unoserver.client import UnoClient

FONTS_CONF = Path(__file__).resolve().parent / "fonts" / "fonts.conf"
_soffice = threading.Lock()  # one LibreOffice profile per process: one conversion at a time


class ConversionFailed(RuntimeError):
    pass


def to_pdf(docx: bytes) -> bytes:
    return to_pdf_many([docx])[0]


def to_pdf_many(documents: list[bytes]) -> list[bytes]:
    if not documents:
        return []
    if settings.UNOSERVER:
        host, _, port = settings.UNOSERVER.rpartition(":")
        client = UnoClient(server=host, port=port, host_location="remote")
        return [client.convert(indata=d, convert_to="pdf") for d in documents]
    return _soffice_batch(documents)


def _soffice_batch(documents: list[bytes]) -> list[bytes]:
    with _soffice, tempfile.TemporaryDirectory(prefix="sentiment-docs-") as tmp:
        work = Path(tmp)
        names = []
        for n, data in enumerate(documents):
            path = work / f"{n:05d}.docx"
            path.write_bytes(data)
            names.append(str(path))
        profile = Path(tempfile.gettempdir()) / f"sentiment-ops-lo-{os.getuid()}-{os.getpid()}"
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": str(work)}
        result = subprocess.run(
            [settings.SOFFICE, "--headless", "--norestore", "--nologo", "--nolockcheck",
             f"-env:UserInstallation=file://{profile}", "--convert-to", "pdf:writer_pdf_Export",
             "--outdir", str(work), *names],
            capture_output=True, env=env, timeout=300, check=False)
        out = [work / f"{n:05d}.pdf" for n in range(len(documents))]
        if result.returncode != 0 or not all(p.exists() for p in out):
            raise ConversionFailed(result.stderr.decode(errors="replace")[-2000:])
        return [p.read_bytes() for p in out]
