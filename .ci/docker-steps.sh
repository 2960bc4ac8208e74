#!/usr/bin/env bash
# The Docker image's build steps, run outside Docker in a fresh folder, so that CI proves them where no Docker
# engine runs: the Dockerfile's environment (its absolute paths moved under the fresh folder), the files it copies,
# its RUN commands word for word, then its HEALTHCHECK command, which must pass. Every replayed step sits under a
# `# ENV` / `# WORKDIR` / `# COPY` / `# RUN` / `# HEALTHCHECK` comment; tests/test_docker_steps.py checks that
# they match the Dockerfile, step by step.
#   bash .ci/docker-steps.sh          KEEP=1 bash .ci/docker-steps.sh   (keeps the folder for a look afterwards)
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(mktemp -d "${TMPDIR:-/tmp}/footnote-image.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  echo "docker-steps: keeping $ROOT"
else
  trap 'rm -rf "$ROOT"' EXIT
fi
echo "docker-steps: replaying the Dockerfile in $ROOT"

# Start from the image's clean slate: no caller's virtual environment, no Footnote setting of the caller's
# (every name .env.example documents).
if [ -n "${VIRTUAL_ENV:-}" ]; then
  PATH="${PATH//"$VIRTUAL_ENV/bin:"/}"
fi
unset VIRTUAL_ENV
while read -r name; do
  unset "$name"
done < <(sed -nE 's/^#? ?([A-Z][A-Z0-9_]*)=.*/\1/p' "$SRC/.env.example")

# Dockerfile COPY from the build context (.dockerignore admits exactly the files copied, less caches).
copy() {
  local dest="${*: -1}" src
  mkdir -p "$dest"
  for src in "${@:1:$#-1}"; do
    if [ -d "$SRC/$src" ]; then
      cp -R "$SRC/$src/." "$dest/"
    else
      cp "$SRC/$src" "$dest/"
    fi
  done
  find "$dest" -name __pycache__ -prune -exec rm -rf {} +
  find "$dest" -name '*.py[cod]' -delete
  find "$dest" -name '*.so' -delete  # a kernel built in the checkout: the image builds its own
}

# ENV
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1
export PIP_NO_CACHE_DIR=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export VIRTUAL_ENV="$ROOT/opt/venv"
export PATH="$ROOT/opt/venv/bin:$PATH"
export CORPUS_DIR="$ROOT/app/seeds"
export DATA_DIR="$ROOT/app/data"
export DATABASE_PATH="$ROOT/data/footnote.sqlite3"

# RUN image-only: the system user (these steps run as whoever runs this script)

# WORKDIR
mkdir -p "$ROOT/app" && cd "$ROOT/app"

# COPY
copy pyproject.toml ./
# RUN
python3 -m venv "$VIRTUAL_ENV" \
    && python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(*p["dependencies"], *p["optional-dependencies"]["formats"], sep="\n")' \
       > requirements.txt \
    && pip install -r requirements.txt \
    && rm requirements.txt

# COPY
copy README.md setup.py bot.py config.py client.py doctor.py lifecycle.py locations.py ./
# COPY
copy cli ./cli
# COPY
copy bench ./bench
# COPY
copy index ./index
# COPY
copy cogs ./cogs
# COPY
copy store ./store
# COPY
copy seeds ./seeds
# RUN
pip install --no-deps .

# USER image-only: the unprivileged user of the image
# RUN
footnote index

# HEALTHCHECK
footnote doctor --offline --quiet

echo "docker-steps: checking what the steps built"
compgen -G "$DATA_DIR/jieba-words-*.npy" > /dev/null || { echo "no jieba dictionary cache in $DATA_DIR" >&2; exit 1; }
compgen -G "$DATA_DIR/index/*.npz" > /dev/null || { echo "no index file in $DATA_DIR/index" >&2; exit 1; }
footnote doctor --offline | tee "$ROOT/doctor.txt"
grep -Eq '^OK +index +current' "$ROOT/doctor.txt" || { echo "the index built in the image is not current" >&2; exit 1; }
(cd / && footnote ask "How many monthly active users does Gemini have?" --json --k 1) \
  | python -c 'import json, sys; d = json.load(sys.stdin); assert d["results"] and not d["abstained"], d; print("docker-steps: footnote ask ok,", d["results"][0]["doc_id"])'
echo "docker-steps: ok"
