"""Stack snapshots through the real clients (issue 20): save, change the stack with boto3
(DynamoDB items, an S3 object, SQS queues and messages, a Cognito user) and py-marqo (documents),
`orchestrator snapshot restore` in place, and every read equals the snapshot again; `diff` names
what changed; boto3 writers and readers racing a restore see the old state or the restored one,
never a half-replayed moto, and keep their writes acknowledged after it.

The suite's other tests share this stack: everything here is named `e2e-snap…`, and the module
restores the snapshot it takes first, so the stack is left as it was found.
"""
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import boto3
import marqo
import pytest
from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
PREFIX = "e2e-snap"
ROWS = 200


def orchestrator_bin():
    if os.environ.get("HIPPODROME_ORCHESTRATOR"):
        return os.environ["HIPPODROME_ORCHESTRATOR"]
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return str(target / "debug" / "orchestrator")


def orch(*args, check=True):
    root = os.environ.get("HIPPODROME_E2E_ROOT")
    offset = os.environ.get("HIPPODROME_PORT_OFFSET")
    if not root or not offset:
        pytest.fail("HIPPODROME_E2E_ROOT / HIPPODROME_PORT_OFFSET are not set: run the suite through tests/run.sh")
    argv = [orchestrator_bin(), "--project-root", root, "snapshot", *args, "--port-offset", offset]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if check:
        assert out.returncode == 0, f"{' '.join(args)}: {out.stdout}{out.stderr}"
    return out


def snapshot(name):
    orch("save", name)


def restore(name):
    return json.loads(orch("restore", name, "--json").stdout)


@pytest.fixture(scope="module")
def aws(aws_kwargs):
    return {s: boto3.client(s, **aws_kwargs) for s in ("dynamodb", "s3", "sqs")}


@pytest.fixture(scope="module")
def idp():
    return boto3.client(
        "cognito-idp",
        endpoint_url=os.environ["HIPPODROME_COGNITO_URL"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def index(manifest):
    """A seeded index and a py-marqo client on its account's key."""
    for account in manifest["accounts"]:
        for ix in account.get("indexes", []):
            key = next(k["key"] for k in account["api_keys"] if "write" in k["scopes"])
            return ix["name"], marqo.Client(url=os.environ["HIPPODROME_CELL_URL"], api_key=key)
    pytest.skip("the seed made no index")


def create_table(ddb, name):
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )


def put_rows(ddb, table, n, tag):
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"pk": {"S": f"row-{i:04d}"}, "tag": {"S": tag}}}}
            for i in range(start, min(n, start + 25))
        ]})


def count(ddb, table):
    return ddb.scan(TableName=table, Select="COUNT")["Count"]


@pytest.fixture(scope="module", autouse=True)
def own_state(aws, idp, manifest, index):
    """This file's resources, created once, then the snapshot the module ends by restoring."""
    ddb, s3, sqs = aws["dynamodb"], aws["s3"], aws["sqs"]
    snapshot(f"{PREFIX}-start")
    create_table(ddb, f"{PREFIX}-rows")
    create_table(ddb, f"{PREFIX}-writes")
    put_rows(ddb, f"{PREFIX}-rows", ROWS, "original")
    s3.create_bucket(Bucket=f"{PREFIX}-bucket")
    s3.put_object(Bucket=f"{PREFIX}-bucket", Key="doc.txt", Body=b"original")
    url = sqs.create_queue(QueueName=f"{PREFIX}-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    pool = manifest["cognito"]["pool_id"]
    idp.admin_create_user(UserPoolId=pool, Username=f"{PREFIX}-user",
                          UserAttributes=[{"Name": "given_name", "Value": "Original"}])
    name, mq = index
    mq.index(name).add_documents([{"_id": f"{PREFIX}-doc", "title": "original"}], tensor_fields=[])
    yield
    restore(f"{PREFIX}-start")
    for snap in ("start", "a", "race"):
        orch("delete", f"{PREFIX}-{snap}", check=False)


def reads(aws, idp, manifest, index):
    """What a client reads of everything this file touches, in a comparable form."""
    ddb, s3, sqs = aws["dynamodb"], aws["s3"], aws["sqs"]
    tables = {}
    for t in sorted(ddb.list_tables()["TableNames"]):
        items = ddb.scan(TableName=t)["Items"]
        tables[t] = sorted(json.dumps(i, sort_keys=True) for i in items)
    buckets = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
    objects = {o["Key"]: s3.get_object(Bucket=f"{PREFIX}-bucket", Key=o["Key"])["Body"].read().decode()
               for o in s3.list_objects_v2(Bucket=f"{PREFIX}-bucket").get("Contents", [])}
    queues = {}
    for q in sorted(sqs.list_queues(QueueNamePrefix=PREFIX).get("QueueUrls", [])):
        attrs = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["ApproximateNumberOfMessages"])
        queues[q.rsplit("/", 1)[-1]] = attrs["Attributes"]["ApproximateNumberOfMessages"]
    pool = manifest["cognito"]["pool_id"]
    users = {}
    for page in idp.get_paginator("list_users").paginate(UserPoolId=pool):
        for u in page["Users"]:
            users[u["Username"]] = sorted((a["Name"], a["Value"]) for a in u["Attributes"])
    name, mq = index
    stats = mq.index(name).get_stats()["numberOfDocuments"]
    doc = mq.index(name).get_documents([f"{PREFIX}-doc", f"{PREFIX}-new"])["results"]
    docs = sorted((d["_id"], d.get("_found", True), d.get("title")) for d in doc)
    return {"tables": tables, "buckets": buckets, "objects": objects, "queues": queues,
            "users": users, "documents": stats, "docs": docs}


def mutate(aws, idp, manifest, index):
    ddb, s3, sqs = aws["dynamodb"], aws["s3"], aws["sqs"]
    rows = f"{PREFIX}-rows"
    ddb.put_item(TableName=rows, Item={"pk": {"S": "row-new"}, "tag": {"S": "later"}})
    ddb.update_item(TableName=rows, Key={"pk": {"S": "row-0001"}},
                    UpdateExpression="SET tag = :t", ExpressionAttributeValues={":t": {"S": "changed"}})
    ddb.delete_item(TableName=rows, Key={"pk": {"S": "row-0002"}})
    s3.put_object(Bucket=f"{PREFIX}-bucket", Key="doc.txt", Body=b"overwritten")
    s3.put_object(Bucket=f"{PREFIX}-bucket", Key="new.txt", Body=b"new")
    sqs.create_queue(QueueName=f"{PREFIX}-queue-later")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-queue")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later")
    pool = manifest["cognito"]["pool_id"]
    idp.admin_update_user_attributes(UserPoolId=pool, Username=f"{PREFIX}-user",
                                     UserAttributes=[{"Name": "given_name", "Value": "Changed"}])
    idp.admin_create_user(UserPoolId=pool, Username=f"{PREFIX}-user-later")
    name, mq = index
    mq.index(name).add_documents([{"_id": f"{PREFIX}-new", "title": "later"},
                                  {"_id": f"{PREFIX}-doc", "title": "changed"}], tensor_fields=[])


def test_restore_brings_every_read_back_and_diff_names_the_changes(aws, idp, manifest, index):
    before = reads(aws, idp, manifest, index)
    assert before["objects"] == {"doc.txt": "original"}
    assert before["queues"] == {f"{PREFIX}-queue": "1"}
    snapshot(f"{PREFIX}-a")

    mutate(aws, idp, manifest, index)
    changed = reads(aws, idp, manifest, index)
    for part in ("tables", "objects", "queues", "users", "documents", "docs"):
        assert changed[part] != before[part], part
    diff = json.loads(orch("diff", f"{PREFIX}-a", "--json").stdout)["services"]
    assert diff["moto"]["changed"]["calls"]["now"] > diff["moto"]["changed"]["calls"]["snapshot"], diff["moto"]
    assert "users" in diff["fake-cognito"]["changed"], diff["fake-cognito"]
    assert "documents" in diff["fake-cell"]["changed"], diff["fake-cell"]

    done = restore(f"{PREFIX}-a")
    assert done["parts"]["moto"]["replayed"] > 0, done
    assert reads(aws, idp, manifest, index) == before
    diff = json.loads(orch("diff", f"{PREFIX}-a", "--json").stdout)["services"]
    for service in ("moto", "fake-cognito", "fake-cell"):
        assert diff[service]["changed"] == {}, (service, diff[service])

    # Nothing changed since: moto is left alone, and still reads the same.
    again = restore(f"{PREFIX}-a")
    assert again["parts"]["moto"].get("unchanged") is True, again
    # fake-cell says it still equals the document: neither sent nor parsed.
    assert again["parts"]["fake-cell"].get("unchanged") is True, again
    assert reads(aws, idp, manifest, index) == before


def test_clients_racing_a_restore_see_old_or_restored_state_and_keep_later_writes(aws_kwargs):
    ddb = boto3.client("dynamodb", **aws_kwargs)
    rows, writes = f"{PREFIX}-rows", f"{PREFIX}-writes"
    put_rows(ddb, rows, ROWS, "original")
    ddb.delete_item(TableName=rows, Key={"pk": {"S": "row-new"}})
    snapshot(f"{PREFIX}-race")
    snapped = count(ddb, rows)
    # After the snapshot: half the rows gone, so a restore's every step shows in the count.
    for i in range(0, ROWS, 2):
        ddb.delete_item(TableName=rows, Key={"pk": {"S": f"row-{i:04d}"}})
    live = count(ddb, rows)
    assert live != snapped

    stop = threading.Event()
    seen, acked, refused = set(), [], []

    def reader():
        c = boto3.client("dynamodb", **aws_kwargs)
        while not stop.is_set():
            try:
                seen.add(count(c, rows))
            except ClientError as e:
                refused.append(e.response)

    def writer():
        c = boto3.client("dynamodb", **aws_kwargs)
        n = 0
        while not stop.is_set():
            n += 1
            key = f"w-{n:05d}"
            try:
                c.put_item(TableName=writes, Item={"pk": {"S": key}})
                acked.append((key, time.monotonic()))
            except ClientError as e:
                refused.append(e.response)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    started = time.monotonic()
    restore(f"{PREFIX}-race")
    finished = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=60)

    # A refusal is AWS's 503 ServiceUnavailable, naming the restore.
    for r in refused:
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 503, r
        assert "restore" in r["Error"]["Message"], r
    assert seen <= {live, snapped}, f"a half-replayed table: counts {seen}, expected {live} or {snapped}"
    assert snapped in seen, "the restore never became visible"
    assert count(ddb, rows) == snapped
    present = {i["pk"]["S"] for i in ddb.scan(TableName=writes)["Items"]}
    before = [k for k, at in acked if at < started]
    after = [k for k, at in acked if at > finished]
    assert before and after, (len(before), len(after))
    assert not present & set(before), "writes from before the restore survived it"
    missing = [k for k in after if k not in present]
    assert not missing, f"writes acknowledged after the restore are gone: {missing[:5]}"


def test_a_restore_brings_back_neither_consumed_messages_nor_deleted_mappings(aws_kwargs):
    """moto draws receipt handles, mapping UUIDs and subscription ARNs at random, so the recorded
    DeleteMessage, DeleteEventSourceMapping and Unsubscribe replay against nothing; the restore
    puts them right from what the snapshot saved beside the recording (a resurrected mapping
    would have the gateway poll it, a resurrected subscription would deliver again)."""
    sqs = boto3.client("sqs", **aws_kwargs)
    lam = boto3.client("lambda", **aws_kwargs)
    jobs = sqs.create_queue(QueueName=f"{PREFIX}-jobs")["QueueUrl"]
    for body in ("first", "second", "third"):
        sqs.send_message(QueueUrl=jobs, MessageBody=body)
    jobs_arn = sqs.get_queue_attributes(QueueUrl=jobs, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    got = sqs.receive_message(QueueUrl=jobs, MaxNumberOfMessages=2, VisibilityTimeout=60)["Messages"]
    assert [m["Body"] for m in got] == ["first", "second"]
    sqs.delete_message_batch(QueueUrl=jobs, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    idle = sqs.create_queue(QueueName=f"{PREFIX}-idle")["QueueUrl"]
    idle_arn = sqs.get_queue_attributes(QueueUrl=idle, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    mapping = lam.create_event_source_mapping(FunctionName="e2e_lambda", EventSourceArn=idle_arn, BatchSize=1)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    sns = boto3.client("sns", **aws_kwargs)
    topic = sns.create_topic(Name=f"{PREFIX}-topic")["TopicArn"]
    gone = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=jobs_arn)["SubscriptionArn"]
    sns.unsubscribe(SubscriptionArn=gone)
    kept = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=idle_arn)["SubscriptionArn"]
    snapshot(f"{PREFIX}-consumed")

    sqs.send_message(QueueUrl=jobs, MessageBody="after")  # moto changed: a full replay
    done = restore(f"{PREFIX}-consumed")
    moto = done["parts"]["moto"]
    assert moto["replayed"] > 0, done
    assert moto["put_right"]["messages_removed"] >= 2, moto
    assert moto["put_right"]["mappings_removed"] >= 1, moto
    assert moto["put_right"]["subscriptions_removed"] >= 1, moto

    left = sqs.receive_message(QueueUrl=jobs, MaxNumberOfMessages=10, VisibilityTimeout=0)
    assert [m["Body"] for m in left.get("Messages", [])] == ["third"]
    assert lam.list_event_source_mappings(EventSourceArn=idle_arn)["EventSourceMappings"] == []
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("sqs", idle_arn)], (subs, kept)
    orch("delete", f"{PREFIX}-consumed", check=False)
