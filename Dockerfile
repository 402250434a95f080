# dspo: one image for the dashboard and the collector loop.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MLFLOW_DISABLE_TELEMETRY=true \
    DO_NOT_TRACK=1

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY dspo ./dspo
COPY store ./store
COPY collectors ./collectors
COPY kpis ./kpis
COPY alerts ./alerts
COPY dashboard ./dashboard
COPY config ./config
# Debian's Chromium renders the PDF and PNG exports; Playwright drives it and downloads none.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium \
    && rm -rf /var/lib/apt/lists/*
RUN pip install -c constraints.txt . gunicorn \
    && useradd --create-home --uid 10001 dspo
USER dspo
EXPOSE 8050
CMD ["dspo", "serve", "--config", "/etc/dspo/dspo.yaml", "--host", "0.0.0.0", "--port", "8050"]
