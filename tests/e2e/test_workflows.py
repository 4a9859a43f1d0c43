"""Lambdas and Step Functions with boto3, as a team's suite uses them: the stack's hippodrome.toml
(written by tests/run.sh) declares a fixture Lambda process (fixtures/lambdas/fixture_lambda.py)
and two state machines from fixtures/state_machines/; every call goes to AWS_ENDPOINT_URL (the AWS
gateway), which runs Invoke on the local process and forwards the rest to moto."""
import json
import os
import time
import urllib.request
import uuid

import boto3
import pytest

FUNCTION = "e2e_lambda"


@pytest.fixture(scope="module")
def fixture_url():
    offset = int(os.environ.get("HIPPODROME_PORT_OFFSET", "0"))
    return f"http://127.0.0.1:{9016 + offset}"


def received(fixture_url):
    """Every payload the fixture Lambda process got, in order."""
    with urllib.request.urlopen(f"{fixture_url}/_received", timeout=5) as r:
        return json.load(r)


def wait_for(predicate, timeout=30.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def machine_arn(manifest, name):
    return next(m["arn"] for m in manifest["moto"]["state_machines"] if m["name"] == name)


def run_execution(sfn, arn, payload):
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))
    done = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=started["executionArn"]))["status"] != "RUNNING" and d,
        timeout=60,
        step=0.2,
    )
    assert done, "the execution was still RUNNING after 60 s"
    return done


def test_the_seed_created_the_declared_function(manifest, aws_kwargs):
    lam = boto3.client("lambda", **aws_kwargs)
    config = lam.get_function(FunctionName=FUNCTION)["Configuration"]
    assert config["Timeout"] == 5
    assert "AWS gateway" in config["Description"]
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert FUNCTION in names
    assert [f["name"] for f in manifest["moto"]["functions"]] == [FUNCTION]
    assert manifest["moto"]["functions"][0]["arn"] == config["FunctionArn"]


def test_invoke_request_response_answers_with_the_handlers_result(aws_kwargs):
    lam = boto3.client("lambda", **aws_kwargs)
    ok = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps({"hello": "e2e"}))
    assert ok["StatusCode"] == 200
    assert "FunctionError" not in ok
    assert json.loads(ok["Payload"].read()) == {"echo": {"hello": "e2e"}}

    failed = lam.invoke(FunctionName=FUNCTION, Payload=json.dumps({"action": "fail"}))
    assert failed["StatusCode"] == 200
    assert failed["FunctionError"] == "Unhandled"
    error = json.loads(failed["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "fixture was told to fail"

    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName="no_such_function", Payload=b"{}")


def test_invoke_event_is_queued_and_delivered_once(aws_kwargs, fixture_url):
    lam = boto3.client("lambda", **aws_kwargs)
    marker = str(uuid.uuid4())
    queued = lam.invoke(FunctionName=FUNCTION, InvocationType="Event", Payload=json.dumps({"marker": marker}))
    assert queued["StatusCode"] == 202
    assert wait_for(lambda: any(p.get("marker") == marker for p in received(fixture_url)))
    time.sleep(1)  # a duplicate delivery would have arrived by now
    assert sum(1 for p in received(fixture_url) if p.get("marker") == marker) == 1


def test_a_state_machine_with_every_kind_of_state_succeeds(manifest, aws_kwargs, fixture_url):
    sfn = boto3.client("stepfunctions", **aws_kwargs)
    sqs = boto3.client("sqs", **aws_kwargs)
    sns = boto3.client("sns", **aws_kwargs)
    ddb = boto3.client("dynamodb", **aws_kwargs)
    prefix = os.environ.get("HIPPODROME_TABLE_PREFIX", "e2e-")

    # Listen on the topic the machine announces on, through a queue of our own.
    listener = sqs.create_queue(QueueName=f"e2e-sfn-listener-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    listener_arn = sqs.get_queue_attributes(QueueUrl=listener, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = next(t["arn"] for t in manifest["moto"]["topics"] if t["name"].endswith("account-events"))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=listener_arn, Attributes={"RawMessageDelivery": "true"})

    fails_before = sum(1 for p in received(fixture_url) if p == {"action": "fail"})
    order_id = uuid.uuid4().hex[:12]
    items = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": 3}]
    done = run_execution(sfn, machine_arn(manifest, "e2e-order-flow"), {"order_id": order_id, "items": items})
    assert done["status"] == "SUCCEEDED", done
    output = json.loads(done["output"])
    assert output["validated"]["order"]["order_id"] == order_id
    assert output["priced"] == items  # Map ran the Lambda once per item, in order
    assert output["recovered"]["Error"] == "ValueError"  # Retry once, then Catch
    assert "fixture was told to fail" in output["recovered"]["Cause"]
    # The failing step ran twice: the first try and one retry.
    assert sum(1 for p in received(fixture_url) if p == {"action": "fail"}) - fails_before == 2

    item = ddb.get_item(TableName=f"{prefix}AccountsTable", Key={"account_id": {"S": f"sfn-{order_id}"}})
    assert item["Item"]["source"] == {"S": "order_flow"}

    export = sqs.get_queue_url(QueueName=f"{prefix}ecom-settings-export")["QueueUrl"]
    bodies = []
    wait_for(lambda: bodies.extend(m["Body"] for m in sqs.receive_message(
        QueueUrl=export, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])) or
        any(order_id in b for b in bodies), timeout=10)
    assert any(json.loads(b).get("order_id") == order_id for b in bodies), bodies

    announced = []
    wait_for(lambda: announced.extend(m["Body"] for m in sqs.receive_message(
        QueueUrl=listener, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])) or
        announced, timeout=10)
    assert f"order {order_id} priced" in announced

    history = sfn.get_execution_history(executionArn=done["executionArn"], maxResults=1000)["events"]
    kinds = {e["type"] for e in history}
    assert {"MapStateEntered", "ChoiceStateEntered", "TaskFailed", "ExecutionSucceeded"} <= kinds, kinds


def test_a_failing_lambda_fails_the_execution_with_its_error(manifest, aws_kwargs):
    sfn = boto3.client("stepfunctions", **aws_kwargs)
    done = run_execution(sfn, machine_arn(manifest, "e2e-failing-flow"), {})
    assert done["status"] == "FAILED"
    assert done["error"] == "ValueError"
    assert "fixture was told to fail" in done["cause"]
    history = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    failed = [e for e in history if e["type"] == "ExecutionFailed"]
    assert failed and failed[0]["executionFailedEventDetails"]["error"] == "ValueError"


def test_an_sqs_message_reaches_the_lambda_once(aws_kwargs, fixture_url):
    sqs = boto3.client("sqs", **aws_kwargs)
    lam = boto3.client("lambda", **aws_kwargs)
    url = sqs.create_queue(QueueName=f"e2e-esm-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lam.create_event_source_mapping(FunctionName=FUNCTION, EventSourceArn=arn, BatchSize=5)
    try:
        assert mapping["State"] in ("Creating", "Enabled")
        body = f"hello-{uuid.uuid4().hex}"
        sqs.send_message(QueueUrl=url, MessageBody=body)

        def deliveries():
            return [
                r
                for p in received(fixture_url)
                if isinstance(p.get("Records"), list)
                for r in p["Records"]
                if r.get("body") == body
            ]

        got = wait_for(deliveries, timeout=30)
        assert got, "the message never reached the Lambda"
        record = got[0]
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == arn
        # Deleted after the successful invoke: the queue drains and nothing is delivered twice.
        assert wait_for(lambda: sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"] == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}, timeout=15)
        time.sleep(1)
        assert len(deliveries()) == 1
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
