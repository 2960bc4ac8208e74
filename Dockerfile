# Footnote: the Discord bot (the default command) and the `footnote` CLI, with the seeds index and jieba's
# dictionary cache built into the image.
#   docker build -t footnote .
#   docker run --rm --init --env-file .env -v footnote-data:/data footnote          (or: docker compose up -d)
#   docker run --rm footnote ask "What is code red?"
# Every RUN below, except those marked image-only, is replayed word for word outside Docker by
# .ci/docker-steps.sh in CI; tests/test_docker_steps.py keeps the two in step. See docs/operations.md.
FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="footnote" \
      org.opencontainers.image.description="Verbatim, cited answers from a document corpus, on Discord and in a terminal." \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    CORPUS_DIR=/app/seeds \
    DATA_DIR=/app/data \
    DATABASE_PATH=/data/footnote.sqlite3

# docker-steps: image-only (an unprivileged system user that owns only the data folders)
RUN groupadd --system --gid 10001 footnote \
    && useradd --system --uid 10001 --gid footnote --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin footnote \
    && install -d -o footnote -g footnote "$DATA_DIR" "$(dirname "$DATABASE_PATH")"

WORKDIR /app

# The dependency layer: only pyproject.toml, so a change to the code does not reinstall the dependencies. The
# `formats` extra is included: a mounted corpus may hold PDF, HTML, Word and EPUB documents.
COPY pyproject.toml ./
RUN python3 -m venv "$VIRTUAL_ENV" \
    && python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(*p["dependencies"], *p["optional-dependencies"]["formats"], sep="\n")' \
       > requirements.txt \
    && pip install -r requirements.txt \
    && rm requirements.txt

# The code and the seed corpus (the files are named one by one; .dockerignore admits only these).
COPY README.md setup.py bot.py config.py client.py doctor.py lifecycle.py locations.py ./
COPY cli ./cli
COPY bench ./bench
COPY index ./index
COPY cogs ./cogs
COPY store ./store
COPY seeds ./seeds
RUN pip install --no-deps .

# Build the seeds index and jieba's dictionary cache as the runtime user, into DATA_DIR.
USER 10001:10001
RUN footnote index

VOLUME ["/data"]
STOPSIGNAL SIGTERM
# Configuration, corpus, index freshness, database, data folder and (once connected) the bot's heartbeat.
HEALTHCHECK --interval=60s --timeout=20s --start-period=60s --retries=3 \
    CMD ["footnote", "doctor", "--offline", "--quiet"]
ENTRYPOINT ["footnote"]
CMD ["run"]
