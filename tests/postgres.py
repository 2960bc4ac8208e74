"""A throw-away PostgreSQL server for the tests: `initdb` + `pg_ctl` in a temp folder, on a free local port.

Used by the session fixture in tests/conftest.py (when FOOTNOTE_TEST_DATABASE_URL is not set) and by .ci/run:

    eval "$(python tests/postgres.py start DIR)"   # prints `export FOOTNOTE_TEST_DATABASE_URL=...`
    python tests/postgres.py stop DIR

(`start DIR --durable` keeps PostgreSQL's default fsync and synchronous commits, for measuring.)

The server trusts nothing over TCP: the URL carries a password (scram-sha-256), so a wrong password is refused as
it would be in production. As root (CI, containers) the server runs as the `postgres` system user that Debian's
package creates, since PostgreSQL refuses to run as root. fsync is off: the tests kill bot processes, not the
database server, and a test cluster need not survive a power cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "footnote"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why, in one line)."""


@dataclass
class Cluster:
    root: Path
    port: int
    password: str
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = USER, *, password: str | None = None) -> str:
        return f"postgresql://{USER}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def stop_server(self) -> None:
        """Stop the server (fast shutdown: connections are cut, as in a database restart); the data stays."""
        self._pg_ctl("-m", "fast", "stop")

    def start_server(self) -> None:
        """Start the stopped server again, on the same port."""
        self._pg_ctl("start")

    def _pg_ctl(self, *args: str) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        _run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
             "-w", *args],
            "pg_ctl " + " ".join(args),
        )  # fmt: skip


def find_bindir() -> Path:
    """The folder of initdb/pg_ctl: on PATH, or Debian's /usr/lib/postgresql/N/bin (newest first)."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "PostgreSQL is not installed (no initdb): `apt-get install -y postgresql`, or set FOOTNOTE_TEST_DATABASE_URL"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresUnavailable("running as root and there is no `postgres` user to run the server as") from exc
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        raise PostgresUnavailable(f"{what} failed: {output[-1] if output else result.returncode}")


def start(root: Path | None = None, *, durable: bool = False) -> Cluster:
    """Create and start a cluster; its folder is `root` (made if missing) or a new temp folder. `durable` keeps
    PostgreSQL's default durability (fsync, synchronous commits), as for measuring; tests turn it off."""
    bindir = find_bindir()
    root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="footnote-pg-"))
    root.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(12)
    (root / "pwfile").write_text(password + "\n")
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        os.chmod(root, 0o700)
        os.chown(root, server.pw_uid, server.pw_gid)
        os.chown(root / "pwfile", server.pw_uid, server.pw_gid)
    _run(
        [
            str(bindir / "initdb"),
            "-D", str(root / "data"),
            "-U", USER,
            "--pwfile", str(root / "pwfile"),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E", "UTF8",
            "--locale=C.UTF-8",
            "--no-instructions",
        ],
        "initdb",
    )  # fmt: skip
    (root / "pwfile").unlink()
    cluster = Cluster(root, free_port(), password, bindir)
    options = f"-h 127.0.0.1 -p {cluster.port} -k {root} -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(cluster.data), "-l", str(root / "server.log"), "-o", options, "-w",
         "-t", "60", "start"],
        "pg_ctl start",
    )  # fmt: skip
    asyncio.run(_create_database(cluster, USER))
    (root / "url").write_text(cluster.url())
    return cluster


async def _create_database(cluster: Cluster, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(cluster.url("postgres"), timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def stop(root: Path) -> None:
    """Stop the cluster in `root` (immediately: it holds test data only) and remove the folder."""
    bindir = find_bindir()
    data = Path(root) / "data"
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], "pg_ctl stop")
    shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    durable = "--durable" in argv
    argv = [a for a in argv if a != "--durable"]
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/postgres.py start|stop DIR [--durable]", file=sys.stderr)
        return 2
    if argv[0] == "stop":
        stop(Path(argv[1]))
        return 0
    try:
        cluster = start(Path(argv[1]), durable=durable)
    except PostgresUnavailable as exc:
        print(f"PostgreSQL could not be started: {exc}", file=sys.stderr)
        return 1
    print(f"export FOOTNOTE_TEST_DATABASE_URL={cluster.url()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
