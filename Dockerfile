# The LRS as a container. Configure with LRS_* variables (see README); for PostgreSQL set
# LRS_DATABASE_URL=postgresql+asyncpg://user:password@host:5432/db and run `lrs db upgrade` once.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LRS_HOST=0.0.0.0 LRS_DATA_DIR=/data
COPY pyproject.toml README.md alembic.ini ./
COPY src ./src
RUN pip install --no-cache-dir . && useradd --system --home /data lrs && mkdir -p /data \
    && chown lrs /data
USER lrs
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["lrs", "serve"]
