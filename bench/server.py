"""Start an LRS server for a benchmark: a fresh PostgreSQL database, a credential, N workers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

PG_ADMIN = os.environ.get("LRS_BENCH_POSTGRES", "postgres@127.0.0.1:5432")
LRS = str(Path(sys.executable).with_name("lrs"))


@dataclass
class Server:
    url: str
    key: str
    secret: str
    process: subprocess.Popen[bytes]
    database: str | None
    env: dict[str, str]

    def worker_pids(self) -> list[int]:
        """The uvicorn master and its worker processes."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        return pids

    def rss_mib(self) -> dict[int, float]:
        found: dict[int, float] = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                found[pid] = int(match.group(1)) / 1024
        return found

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.database and not os.environ.get("LRS_BENCH_KEEP_DB"):
            _psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        elif self.database:
            print(f"kept database {self.database}")


def _psql(sql: str) -> None:
    user, _, hostport = PG_ADMIN.partition("@")
    host, _, port = hostport.partition(":")
    subprocess.run(
        ["psql", "-h", host, "-p", port or "5432", "-U", user, "-q", "-c", sql, "postgres"],
        check=True,
    )


def start(*, port: int, workers: int, backend: str = "postgres", keep: str | None = None) -> Server:
    """Start `lrs serve` on 127.0.0.1:port on a fresh database (or ``keep``, an existing one)."""
    env = dict(os.environ)
    database = None
    if backend == "postgres":
        database = keep or f"lrs_bench_{uuid.uuid4().hex[:8]}"
        if keep is None:
            _psql(f'CREATE DATABASE "{database}"')
        env["LRS_DATABASE_URL"] = f"postgresql+asyncpg://{PG_ADMIN}/{database}"
        env["LRS_AUTO_MIGRATE"] = "true"
    else:
        data_dir = Path(keep or Path(tempfile.gettempdir()) / f"lrs-bench-{uuid.uuid4().hex[:8]}")
        env["LRS_DATA_DIR"] = str(data_dir)
    env.update(
        {
            "LRS_HOST": "127.0.0.1",
            "LRS_PORT": str(port),
            "LRS_WORKERS": str(workers),
            "LRS_LOG_LEVEL": "warning",
        }
    )
    created = subprocess.run(
        [LRS, "credentials", "create", "--name", "bench", "--scopes", "all"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = re.search(r"key:\s+(\S+)", created)
    secret = re.search(r"secret:\s+(\S+)", created)
    if key is None or secret is None:
        raise RuntimeError(f"could not read the new credential from: {created}")
    process = subprocess.Popen([LRS, "serve"], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        process.kill()
        raise RuntimeError("the LRS did not become ready")
    return Server(
        url, key.group(1), secret.group(1), process, database if keep is None else None, env
    )
