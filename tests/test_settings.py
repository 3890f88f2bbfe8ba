"""Settings come from the environment (API.md, "Set-up commands")."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "host": settings.DATABASES["default"].get("HOST"),
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "debug": settings.DEBUG,
    "hosts": settings.ALLOWED_HOSTS,
    "secret": settings.SECRET_KEY,
    "tz": settings.TIME_ZONE,
    "lang": settings.LANGUAGE_CODE,
    "use_tz": settings.USE_TZ,
}))
"""


def _settings(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "sentiment_ops.settings", "VAR_DIR": str(tmp_path)}, **env)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_defaults_need_no_server(tmp_path):
    s = _settings(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "db.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["cache"].endswith("LocMemCache")
    assert s["debug"] is False
    assert s["tz"] == "Asia/Shanghai" and s["use_tz"] is True and s["lang"] == "zh-hans"
    # No known default key: one is generated for this installation and kept.
    assert len(s["secret"]) > 50
    assert _settings(tmp_path)["secret"] == s["secret"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_overrides(tmp_path):
    s = _settings(
        tmp_path,
        DATABASE_URL="postgres://ops:pw@db.internal:5432/sentiment",
        REDIS_URL="redis://cache.internal:6379/2",
        SECRET_KEY="k" * 60,
        DEBUG="1",
        ALLOWED_HOSTS="ops.example.gov.cn,10.0.0.5",
    )
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["name"], s["host"]) == ("sentiment", "db.internal")
    assert s["broker"] == "redis://cache.internal:6379/2"
    assert s["cache"].endswith("RedisCache")
    assert s["debug"] is True
    assert s["hosts"] == ["ops.example.gov.cn", "10.0.0.5"]
    assert s["secret"] == "k" * 60
