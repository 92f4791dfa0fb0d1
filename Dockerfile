# The bot in one image. Build: docker build -t tashakkol .  Run: see compose.yaml and README "Deploying".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY db ./db
RUN pip install . \
 && pybabel compile -d bot/locale -D messages \
 && useradd --create-home --uid 10001 tashakkol \
 && mkdir -p /app/data && chown tashakkol /app/data

USER tashakkol
# Webhook mode listens here when WEBHOOK_URL is set (WEBHOOK_LISTEN=0.0.0.0 inside a container).
EXPOSE 8080
CMD ["python", "-m", "bot", "run"]
