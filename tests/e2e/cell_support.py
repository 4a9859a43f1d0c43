"""Helpers for the fake-cell end-to-end tests.

Two ways to get a cell:
* a running stack: env HIPPODROME_CELL_URL and HIPPODROME_CELL_API_KEY are used as they are;
* otherwise the fake-cell binary (env FAKE_CELL_BIN, default <repo>/target/debug/fake-cell) is
  started on a free port with a temporary state file, an account and key are created through the
  admin API, and the process is stopped afterwards.
"""

import os
import random
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import requests

REPO = Path(__file__).resolve().parents[2]


@dataclass
class CellHandle:
    url: str
    api_key: str
    process: Optional[subprocess.Popen] = None
    tmpdir: Optional[tempfile.TemporaryDirectory] = None
    log_path: Optional[Path] = None
    created: list = field(default_factory=list)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.tmpdir is not None:
            self.tmpdir.cleanup()

    def log_tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-4000:]
        return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, proc: subprocess.Popen, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"fake-cell exited early with code {proc.returncode}")
        try:
            r = requests.get(f"{url}/healthz", timeout=2)
            if r.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("fake-cell did not become ready in time")


def start_cell() -> CellHandle:
    url = os.environ.get("HIPPODROME_CELL_URL")
    key = os.environ.get("HIPPODROME_CELL_API_KEY")
    if url and key:
        return CellHandle(url=url.rstrip("/"), api_key=key)
    binary = os.environ.get("FAKE_CELL_BIN", str(REPO / "target" / "debug" / "fake-cell"))
    if not Path(binary).exists():
        raise RuntimeError(f"fake-cell binary not found at {binary}; build it or set FAKE_CELL_BIN")
    tmp = tempfile.TemporaryDirectory(prefix="fake-cell-e2e-")
    port = _free_port()
    low = random.randrange(20000, 60000, 100)
    log_path = Path(tmp.name) / "fake-cell.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [
            binary,
            "--port", str(port),
            "--index-ports", f"{low}-{low + 99}",
            "--state-file", str(Path(tmp.name) / "state.json"),
            "--no-watchdog",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    handle = CellHandle(url=url, api_key="", process=proc, tmpdir=tmp, log_path=log_path)
    try:
        _wait_ready(url, proc)
        acct = requests.post(f"{url}/_fake/accounts", json={"name": "e2e"}, timeout=10)
        acct.raise_for_status()
        account_id = acct.json()["account_id"]
        k = requests.post(f"{url}/_fake/accounts/{account_id}/keys", json={"name": "e2e"}, timeout=10)
        k.raise_for_status()
        handle.api_key = k.json()["key"]
    except Exception:
        handle.stop()
        raise
    return handle


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
