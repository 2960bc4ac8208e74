"""The Docker image without a Docker engine: the Dockerfile is linted (hadolint, when installed), and
.ci/docker-steps.sh, which CI runs to prove the image's build steps in a fresh folder, must replay the Dockerfile
step for step. Also: what the image copies is what the package needs, .dockerignore admits exactly that, and
compose.yaml keeps SQLite on a named volume."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import PurePosixPath

from lifecycle import DRAIN_SECONDS

from .conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
SCRIPT = ROOT / ".ci" / "docker-steps.sh"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "compose.yaml"
IMAGE_ONLY = "docker-steps: image-only"
REPLAYED = ("ENV", "WORKDIR", "COPY", "RUN", "USER", "HEALTHCHECK")


@dataclass(frozen=True)
class Step:
    kind: str  # ENV, WORKDIR, COPY, RUN, USER, HEALTHCHECK; "image-only" steps are not replayed
    text: str
    image_only: bool = False


def _squash(text: str) -> str:
    return " ".join(text.replace("\\\n", " ").split())


def dockerfile_instructions() -> list[tuple[str, str, bool]]:
    """(instruction, arguments, marked image-only) for each instruction, continuation lines joined."""
    found: list[tuple[str, str, bool]] = []
    marked = False
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        if line.startswith("#"):
            marked = marked or IMAGE_ONLY in line
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        instruction, _, arguments = line.partition(" ")
        found.append((instruction.upper(), _squash(arguments), marked))
        marked = False
    return found


def dockerfile_steps() -> list[Step]:
    steps = []
    for instruction, arguments, marked in dockerfile_instructions():
        if instruction not in REPLAYED:
            continue
        if instruction == "HEALTHCHECK":
            exec_form = re.search(r"CMD (\[.*\])", arguments)
            assert exec_form, "HEALTHCHECK must use the exec form CMD [...]"
            arguments = shlex.join(json.loads(exec_form.group(1)))
        steps.append(Step(instruction, arguments, image_only=marked or instruction == "USER"))
    return steps


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction, arguments, _ in dockerfile_instructions():
        if instruction == "ENV":
            env.update(token.split("=", 1) for token in shlex.split(arguments, posix=False))
    return env


def script_steps() -> list[Step]:
    """The steps under the `# KIND` markers of .ci/docker-steps.sh, continuation lines joined."""
    steps = []
    lines = SCRIPT.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        marker = re.fullmatch(r"# (ENV|WORKDIR|COPY|RUN|USER|HEALTHCHECK)( image-only.*)?", line.strip())
        if not marker:
            continue
        kind = marker.group(1)
        if marker.group(2):
            steps.append(Step(kind, "", image_only=True))
            continue
        body = []
        for follow in lines[number + 1 :]:
            if kind == "ENV":
                if not follow.startswith("export "):
                    break
                body.append(follow)
                continue
            body.append(follow)
            if not follow.rstrip().endswith("\\"):
                break
        steps.append(Step(kind, _squash("\n".join(body)) if kind != "ENV" else "\n".join(body)))
    return steps


def test_the_script_replays_the_dockerfile_step_for_step():
    expected = dockerfile_steps()
    replayed = script_steps()
    assert [(s.kind, s.image_only) for s in replayed] == [(s.kind, s.image_only) for s in expected]
    for want, got in zip(expected, replayed, strict=True):
        if want.image_only or want.kind == "ENV":
            continue
        if want.kind == "WORKDIR":
            assert got.text == f'mkdir -p "$ROOT{want.text}" && cd "$ROOT{want.text}"'
        elif want.kind == "COPY":
            assert got.text == f"copy {want.text}", "COPY sources and destination must be the same"
        else:
            assert got.text == want.text, f"{want.kind} differs between the Dockerfile and the script"


def test_the_script_exports_the_images_environment_with_paths_under_its_folder():
    [env_step] = [s for s in script_steps() if s.kind == "ENV"]
    exported = {}
    for line in env_step.text.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exported[name] = value.strip('"').replace("$ROOT/", "/")
    assert exported == dockerfile_env()


def test_the_image_runs_as_an_unprivileged_user_and_keeps_sqlite_on_the_volume():
    instructions = dockerfile_instructions()
    users = [arguments for instruction, arguments, _ in instructions if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    healthcheck_at = next(i for i, (instruction, *_) in enumerate(instructions) if instruction == "HEALTHCHECK")
    user_at = max(i for i, (instruction, *_) in enumerate(instructions) if instruction == "USER")
    index_at = next(i for i, (instruction, args, _) in enumerate(instructions) if args == "footnote index")
    assert user_at < index_at < healthcheck_at, "the index is built as the runtime user"

    env = dockerfile_env()
    [volume] = [a for instruction, a, _ in instructions if instruction == "VOLUME"]
    volume_dir = PurePosixPath(json.loads(volume)[0])
    assert PurePosixPath(env["DATABASE_PATH"]).parent == volume_dir
    assert volume_dir not in PurePosixPath(env["DATA_DIR"]).parents, "a volume there would hide the built index"
    assert PurePosixPath(env["CORPUS_DIR"]).parent == PurePosixPath(
        next(a for instruction, a, _ in instructions if instruction == "WORKDIR")
    )


def test_the_base_image_satisfies_requires_python():
    [base] = [a for instruction, a, _ in dockerfile_instructions() if instruction == "FROM"]
    version = re.match(r"python:(\d+)\.(\d+)-slim", base)
    assert version, f"expected a slim python base image, got {base}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    minimum = tuple(int(n) for n in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())
    assert (int(version.group(1)), int(version.group(2))) >= minimum


def copied_sources() -> set[str]:
    sources: set[str] = set()
    for instruction, arguments, _ in dockerfile_instructions():
        if instruction == "COPY":
            sources.update(arguments.split()[:-1])
    return sources


def test_the_image_copies_what_the_package_installs_and_dockerignore_admits_exactly_that():
    sources = copied_sources()
    assert all((ROOT / s).exists() for s in sources), sorted(s for s in sources if not (ROOT / s).exists())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    modules = {f"{m}.py" for m in project["tool"]["setuptools"]["py-modules"]}
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert modules <= sources and packages <= sources and {"pyproject.toml", "README.md"} <= sources

    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", ".dockerignore is an allowlist: everything is excluded first"
    admitted = {p[1:] for p in patterns if p.startswith("!")}
    assert admitted == sources
    assert ".env" not in admitted and "data" not in admitted

    # setup.py is the build script of the C query kernel (index/_bm25kernel.c), not a module
    not_installed = {s for s in sources if s.endswith(".py")} - modules - {"setup.py"}
    assert not not_installed, f"copied but not installed by `pip install .`: {sorted(not_installed)}"


def test_the_healthcheck_is_a_footnote_command():
    from cli import build_parser

    [check] = [s for s in dockerfile_steps() if s.kind == "HEALTHCHECK"]
    program, *arguments = shlex.split(check.text)
    assert program == "footnote"
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # argparse has no public getter
    assert arguments[0] in commands, f"`footnote {arguments[0]}` is not a footnote subcommand"
    parsed = parser.parse_args(arguments)
    assert parsed.offline and parsed.quiet


def test_compose_keeps_sqlite_on_a_named_volume_and_reads_env_file():
    text = COMPOSE.read_text(encoding="utf-8")
    database = dockerfile_env()["DATABASE_PATH"]
    mount = re.search(r"^\s+- ([\w-]+):(/[\w/]+)\s*$", text, re.M)
    assert mount, "a named volume mounted in the service"
    name, target = mount.groups()
    assert PurePosixPath(database).parent == PurePosixPath(target)
    assert re.search(rf"^volumes:\s*\n\s+{re.escape(name)}:", text, re.M), "the volume is declared at top level"
    assert re.search(r"^\s+env_file: \.env\s*$", text, re.M)
    assert re.search(rf"^\s+DATABASE_PATH: {re.escape(database)}\s*$", text, re.M)
    assert re.search(r"^\s+init: true\s*$", text, re.M), "an init forwards SIGTERM to Footnote"
    grace = re.search(r"^\s+stop_grace_period: (\d+)s\s*$", text, re.M)
    assert grace and int(grace.group(1)) >= DRAIN_SECONDS + 5, "docker must wait for the drain before SIGKILL"


def test_the_script_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint")
    # The test extra installs it: a missing linter is a broken install, not a reason to skip.
    assert hadolint is not None, "hadolint is not installed (pip install -e '.[test]'): the Dockerfile was not linted"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_shellcheck_finds_nothing_in_the_script():
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None, "shellcheck is not installed (pip install -e '.[test]'): the script was not linted"
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_scale_profile_splits_the_shards_over_one_database_and_one_index():
    import yaml

    services = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    assert "profiles" not in services["footnote"] and "DATABASE_URL" not in services["footnote"]["environment"]
    shards = {name: s for name, s in services.items() if name.startswith("footnote-shard-")}
    assert len(shards) >= 2 and all(s["profiles"] == ["scale"] for s in shards.values())
    environments = [s["environment"] for s in shards.values()]
    count = {int(e["SHARD_COUNT"]) for e in environments}
    assert len(count) == 1, "every process agrees on the shard count"
    owned = sorted(int(i) for e in environments for i in e["SHARD_IDS"].split(","))
    assert owned == list(range(count.pop())), "each shard is run by exactly one process"
    assert len({e["DATABASE_URL"] for e in environments}) == 1
    assert all(e["DATABASE_URL"].split("@")[1].startswith("postgres:") for e in environments)
    assert all(s["depends_on"]["postgres"]["condition"] == "service_healthy" for s in shards.values())
    assert len({tuple(s["volumes"]) for s in shards.values()}) == 1, "one index volume, memory-mapped by all"
    assert services["postgres"]["profiles"] == ["scale"] and "healthcheck" in services["postgres"]
