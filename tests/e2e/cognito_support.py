"""Helpers for test_cognito.py: start (or reuse) a fake-cognito server, build boto3 clients,
run the node verifier."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import requests

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "node"
PASSWORD = "Correct-Horse-9!"


def binary() -> Path:
    return Path(os.environ.get("FAKE_COGNITO_BIN", REPO / "target" / "debug" / "fake-cognito"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"fake-cognito exited early with code {proc.returncode}")
        try:
            r = requests.get(f"{url}/healthz", timeout=1)
            if r.status_code == 200:
                return
            last = r.status_code
        except requests.RequestException as e:  # not listening yet
            last = e
        time.sleep(0.02)
    raise RuntimeError(f"fake-cognito at {url} not healthy after {timeout}s: {last}")


@contextlib.contextmanager
def spawned_server(*extra_args: str):
    """Start the fake-cognito binary on a free port with a temp state file; stop it afterwards."""
    exe = binary()
    if not exe.exists():
        raise RuntimeError(
            f"fake-cognito binary not found at {exe}; run `cargo build -p fake-cognito` "
            "or set FAKE_COGNITO_BIN"
        )
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.pop("HIPPODROME_RANDOM_SEED", None)
        proc = subprocess.Popen(
            [str(exe), "--port", str(port), "--state-file", str(Path(tmp) / "state.json"), *extra_args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def cognito_server():
    """`HIPPODROME_COGNITO_URL` if set, else a freshly spawned binary."""
    url = os.environ.get("HIPPODROME_COGNITO_URL")
    if url:
        url = url.rstrip("/")
        wait_healthy(url)
        yield url
    else:
        with spawned_server() as u:
            yield u


def idp(url: str, access_key: str = "testing"):
    """A boto3 client; a 12-digit `access_key` makes fake-cognito treat it as the account id."""
    return boto3.client(
        "cognito-idp",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",
    )


def make_pool(c, name: str = "e2e-pool") -> dict:
    """A pool with `custom:account_id` and auto-verified email (sign-up sends a code), a public
    client, a secret client, user alice in admins."""
    pool_id = c.create_user_pool(
        PoolName=name,
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "account_id", "AttributeDataType": "String", "Mutable": True}],
    )["UserPool"]["Id"]
    flows = [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ]
    public = c.create_user_pool_client(UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=flows)
    secret = c.create_user_pool_client(
        UserPoolId=pool_id, ClientName="backend", GenerateSecret=True, ExplicitAuthFlows=flows
    )
    c.admin_create_user(
        UserPoolId=pool_id,
        Username="alice",
        UserAttributes=[
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:account_id", "Value": "acc-42"},
        ],
        MessageAction="SUPPRESS",
    )
    c.admin_set_user_password(UserPoolId=pool_id, Username="alice", Password=PASSWORD, Permanent=True)
    c.create_group(UserPoolId=pool_id, GroupName="admins")
    c.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    return {
        "pool_id": pool_id,
        "client_id": public["UserPoolClient"]["ClientId"],
        "secret_client_id": secret["UserPoolClient"]["ClientId"],
        "client_secret": secret["UserPoolClient"]["ClientSecret"],
    }


def codes(url: str, pool_id: str, username: str) -> list[dict]:
    return requests.get(
        f"{url}/_fake/codes", params={"pool_id": pool_id, "username": username}, timeout=5
    ).json()["results"]


def move_clock(url: str, body: dict) -> requests.Response:
    return requests.post(f"{url}/_fake/clock", json=body, timeout=5)


def login(c, client_id: str, username: str = "alice", password: str = PASSWORD) -> dict:
    return c.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]


def node_tools_missing() -> str | None:
    """Why the node verifier cannot run (None when it can)."""
    for prog in ("node", "npm"):
        if shutil.which(prog) is None:
            return f"`{prog}` is not installed"
    return None


def ensure_node_modules() -> None:
    if (NODE_DIR / "node_modules" / "aws-jwt-verify").exists():
        return
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
    )


def node_verify(token: str, pool_id: str, client_id: str, token_use: str, url: str) -> dict:
    r = subprocess.run(
        ["node", str(NODE_DIR / "verify.mjs"), token, pool_id, client_id, token_use, url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = r.stdout.strip().splitlines()
    assert out, f"verify.mjs printed nothing; stderr: {r.stderr}"
    return json.loads(out[-1])


def server_now(url: str) -> float:
    """fake-cognito's now (its clock may be moved), for computing TOTP codes."""
    return requests.get(f"{url}/_fake/clock", timeout=5).json()["now_epoch_seconds"]


def totp_code(url: str, secret: str, steps_ahead: int = 0) -> str:
    """The RFC 6238 code an authenticator app would show at fake-cognito's now."""
    import pyotp

    return pyotp.TOTP(secret).at(server_now(url) + 30 * steps_ahead)


def latest_code(url: str, pool_id: str, username: str, kind: str) -> str:
    return [r["code"] for r in codes(url, pool_id, username) if r["kind"] == kind][-1]
