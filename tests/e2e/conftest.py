"""Shared fixtures for the end-to-end suite.

The suite runs against a stack `tests/run.sh` brought up; it reads only what the seed wrote:
`.hippodrome/.env.e2e` (sourced into the environment) and the manifest at HIPPODROME_SEED_MANIFEST.
Tests for one service that can also start that service themselves (test_marqo.py, test_cognito.py)
fall back to doing so when no stack is described.
"""
import json
import os

import pytest


@pytest.fixture(scope="session")
def manifest():
    path = os.environ.get("HIPPODROME_SEED_MANIFEST")
    if not path or not os.path.exists(path):
        pytest.fail("HIPPODROME_SEED_MANIFEST is not set: run the suite through tests/run.sh (it brings up a seeded stack)")
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def aws_kwargs():
    url = os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        pytest.fail("AWS_ENDPOINT_URL is not set: run the suite through tests/run.sh")
    return dict(
        endpoint_url=url,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
