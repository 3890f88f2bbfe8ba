# One image for web (gunicorn), worker, beat and the document converter (LibreOffice kept warm
# by unoserver; documents/convert.py). LibreOffice runs under Debian's python3 with python3-uno,
# unoserver in its own venv; the fonts are the free substitutes of documents/fonts/fonts.conf.
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/var/lib/sentiment-ops MEDIA_ROOT=/var/lib/sentiment-ops/media \
    FONTCONFIG_FILE=/app/documents/fonts/fonts.conf
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
       libreoffice-writer-nogui python3-uno python3-venv fonts-noto-cjk fonts-arphic-ukai \
    && rm -rf /var/lib/apt/lists/* \
    && /usr/bin/python3 -m venv --system-site-packages /opt/unoserver \
    && /opt/unoserver/bin/pip install --no-cache-dir "unoserver>=3,<4" \
    && useradd --system --home /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY . .
COPY --from=assets /app/node_modules ./node_modules
RUN pip install --no-cache-dir -e . \
    && python manage.py compilemessages --ignore=node_modules -v 0 \
    && SECRET_KEY=build-only-not-used python manage.py collectstatic --noinput -v 0 \
    && mkdir -p "$VAR_DIR/media" && chown -R app "$VAR_DIR"
USER app
EXPOSE 8000
CMD ["gunicorn", "sentiment_ops.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
