"""Fault injection seen by the real clients (issue 20): rules added through the dashboard's
/api/faults fire in each service exactly as specified, and the injected errors are what boto3
and py-marqo parse as that service's own errors.

Every rule is cleared after each test. Clients never retry here (retries would hide the count).
"""
import json
import os
import time

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, HTTPClientError, ReadTimeoutError

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10)


@pytest.fixture(scope="module")
def dashboard():
    url = os.environ.get("HIPPODROME_DASHBOARD_URL")
    if not url:
        pytest.fail("HIPPODROME_DASHBOARD_URL is not set: run the suite through tests/run.sh")
    return url


@pytest.fixture(autouse=True)
def clear_rules(dashboard):
    requests.delete(f"{dashboard}/api/faults", timeout=10)
    yield
    requests.delete(f"{dashboard}/api/faults", timeout=10)


def add(dashboard, **rule):
    res = requests.post(f"{dashboard}/api/faults", json=rule, timeout=10)
    assert res.status_code == 201, res.text
    return res.json()["rule"]


def rule_state(dashboard, service, rule_id):
    listing = requests.get(f"{dashboard}/api/faults", timeout=10).json()
    for s in listing["services"]:
        if s["service"] == service:
            return next(r for r in s["rules"] if r["id"] == rule_id)
    raise AssertionError(f"{service} not in {listing}")


def client(name, aws_kwargs, config=NO_RETRY):
    return boto3.client(name, config=config, **aws_kwargs)


def outcomes(call, n):
    """The error code of each of n calls, or 'ok'."""
    out = []
    for _ in range(n):
        try:
            call()
            out.append("ok")
        except ClientError as e:
            out.append(e.response["Error"]["Code"])
    return out


def test_dynamodb_next_n_is_provisioned_throughput_exceeded_as_botocore_parses_it(dashboard, aws_kwargs):
    ddb = client("dynamodb", aws_kwargs)
    add(dashboard, service="dynamodb", operation="ListTables",
        error="ProvisionedThroughputExceededException", next=2)
    with pytest.raises(ClientError) as e:
        ddb.list_tables()
    assert e.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "fault rule" in e.value.response["Error"]["Message"]
    assert outcomes(ddb.list_tables, 3) == ["ProvisionedThroughputExceededException", "ok", "ok"]


def test_a_resource_rule_fails_only_its_table(dashboard, aws_kwargs):
    ddb = client("dynamodb", aws_kwargs)
    add(dashboard, service="dynamodb", operation="DescribeTable", resource="faulty-*", error="ThrottlingException")
    assert outcomes(lambda: ddb.describe_table(TableName="faulty-orders"), 1) == ["ThrottlingException"]
    assert outcomes(lambda: ddb.describe_table(TableName="healthy-orders"), 1) == ["ResourceNotFoundException"]


def test_sqs_every_nth_in_the_json_protocol_and_sns_in_query_xml(dashboard, aws_kwargs):
    sqs = client("sqs", aws_kwargs)
    add(dashboard, service="sqs", operation="ListQueues", error="OverLimit", every=2)
    assert outcomes(sqs.list_queues, 4) == ["ok", "OverLimit", "ok", "OverLimit"]
    sns = client("sns", aws_kwargs)
    add(dashboard, service="sns", operation="ListTopics", error="Throttling", next=1)
    assert outcomes(sns.list_topics, 2) == ["Throttling", "ok"]


def test_s3_slow_down_in_s3s_xml(dashboard, aws_kwargs):
    s3 = client("s3", aws_kwargs)
    add(dashboard, service="s3", operation="ListBuckets", error="SlowDown", next=1)
    with pytest.raises(ClientError) as e:
        s3.list_buckets()
    assert e.value.response["Error"]["Code"] == "SlowDown"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_cognito_too_many_requests(dashboard, aws_kwargs):
    idp = boto3.client("cognito-idp", endpoint_url=os.environ["HIPPODROME_COGNITO_URL"], config=NO_RETRY,
                       region_name=aws_kwargs["region_name"], aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    add(dashboard, service="cognito-idp", operation="ListUserPools", error="TooManyRequestsException", next=1)
    assert outcomes(lambda: idp.list_user_pools(MaxResults=10), 2) == ["TooManyRequestsException", "ok"]


def test_lambda_invoke_of_one_function_is_throttled(dashboard, aws_kwargs):
    lam = client("lambda", aws_kwargs)
    add(dashboard, service="lambda", operation="Invoke", resource="some_other_function", error="ServiceException")
    add(dashboard, service="lambda", operation="Invoke", resource="e2e_lambda", error="TooManyRequestsException", next=1)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="e2e_lambda", Payload=json.dumps({"hello": "faults"}))
    assert e.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    ok = lam.invoke(FunctionName="e2e_lambda", Payload=json.dumps({"hello": "faults"}))
    assert ok["StatusCode"] == 200 and "FunctionError" not in ok


def test_marqo_search_answers_429_that_py_marqo_raises(dashboard):
    import marqo
    from marqo.errors import MarqoWebError
    mq = marqo.Client(url=os.environ["HIPPODROME_CELL_URL"], api_key=os.environ["HIPPODROME_CELL_API_KEY"])
    add(dashboard, service="marqo", operation="search", error="too_many_requests", next=1)
    with pytest.raises(MarqoWebError) as e:
        mq.index("any-index").search("shoes")
    assert e.value.status_code == 429
    assert e.value.code == "too_many_requests"


def test_a_seeded_probability_fails_the_same_calls_again_and_another_seed_others(dashboard, aws_kwargs):
    ddb = client("dynamodb", aws_kwargs)

    def run(seed):
        requests.delete(f"{dashboard}/api/faults", timeout=10)
        add(dashboard, service="dynamodb", operation="ListTables", error="ThrottlingException",
            probability=0.5, seed=seed)
        return outcomes(ddb.list_tables, 24)

    first = run(7)
    assert "ok" in first and "ThrottlingException" in first
    assert run(7) == first
    assert run(8) != first


def test_drop_timeout_latency_and_expiry(dashboard, aws_kwargs):
    ddb = client("dynamodb", aws_kwargs)
    add(dashboard, service="dynamodb", operation="ListTables", drop=True, next=1)
    with pytest.raises((ConnectionClosedError, HTTPClientError)):
        ddb.list_tables()
    impatient = client("dynamodb", aws_kwargs, Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=1))
    add(dashboard, service="dynamodb", operation="ListTables", timeout=True, timeout_ms=3000, next=1)
    with pytest.raises(ReadTimeoutError):
        impatient.list_tables()
    slow = add(dashboard, service="dynamodb", operation="ListTables", latency_ms=50, next=1)
    assert outcomes(ddb.list_tables, 1) == ["ok"]
    assert rule_state(dashboard, "aws_gateway", slow["id"])["hits"] == 1
    brief = add(dashboard, service="dynamodb", operation="ListTables", error="ThrottlingException", expires_in_ms=1500)
    assert outcomes(ddb.list_tables, 1) == ["ThrottlingException"]
    deadline = time.time() + 10
    while rule_state(dashboard, "aws_gateway", brief["id"]).get("ended") != "expired":
        assert time.time() < deadline, "the rule never expired"
        time.sleep(0.2)
    assert outcomes(ddb.list_tables, 1) == ["ok"]


def test_active_rules_show_in_healthz_and_status_and_faults_api_is_never_faulted(dashboard, aws_kwargs):
    add(dashboard, service="dynamodb", error="InternalServerError")
    gateway = aws_kwargs["endpoint_url"]
    health = requests.get(f"{gateway}/healthz", timeout=5).json()
    assert health["faults"] == 1
    assert requests.get(f"{gateway}/_fake/faults", timeout=5).json()["active"] == 1
    deadline = time.time() + 10
    while requests.get(f"{dashboard}/api/status", timeout=5).json()["aws_gateway"].get("faults") != 1:
        assert time.time() < deadline, "/api/status never showed the rule"
        time.sleep(0.2)


def test_a_rule_on_a_function_also_fails_the_gateways_own_sqs_invocations(dashboard, aws_kwargs):
    """An SQS event source mapping's invoke is the gateway's own: the rule makes the function fail
    there (the message stays and comes back), and the next delivery, past the rule, succeeds."""
    import uuid
    sqs = client("sqs", aws_kwargs)
    lam = client("lambda", aws_kwargs)
    url = sqs.create_queue(QueueName=f"e2e-faults-{uuid.uuid4().hex[:8]}",
                           Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = add(dashboard, service="lambda", operation="Invoke", resource="e2e_lambda",
               error="Function.InjectedFailure", next=1)
    mapping = lam.create_event_source_mapping(FunctionName="e2e_lambda", EventSourceArn=arn, BatchSize=1)
    try:
        sqs.send_message(QueueUrl=url, MessageBody="faulted once")
        deadline = time.time() + 30
        while sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"] != {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}:
            assert time.time() < deadline, "the message was never consumed"
            time.sleep(0.2)
        assert rule_state(dashboard, "aws_gateway", rule["id"])["hits"] == 1
        lambdas = requests.get(f"{dashboard}/api/lambdas", timeout=10).json()
        fn = next(f for f in lambdas["functions"] if f["name"] == "e2e_lambda")
        errors = [r.get("error") or "" for r in fn["recent"] if r["invocation_type"].lower() == "sqs"]
        assert any("Function.InjectedFailure" in e for e in errors), fn["recent"]
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
