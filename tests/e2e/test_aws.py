"""boto3 against the stack's moto: the resources the seed created are there and usable."""
import json

import boto3


def test_dynamodb_tables_and_records(manifest, aws_kwargs):
    ddb = boto3.client("dynamodb", **aws_kwargs)
    names = ddb.list_tables()["TableNames"]
    for table in manifest["moto"]["tables"]:
        assert table["name"] in names
        count = ddb.scan(TableName=table["name"], Select="COUNT")["Count"]
        assert count >= table["items"], table
    # The settings table carries a stream for the local event pipe.
    settings = next(t for t in manifest["moto"]["tables"] if t["name"].endswith("EcomIndexSettingsTable"))
    desc = ddb.describe_table(TableName=settings["name"])["Table"]
    assert desc["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_s3_buckets_round_trip(manifest, aws_kwargs):
    s3 = boto3.client("s3", **aws_kwargs)
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(manifest["moto"]["buckets"]) <= buckets
    bucket = manifest["moto"]["buckets"][0]
    s3.put_object(Bucket=bucket, Key="e2e/hello.txt", Body=b"hippodrome")
    assert s3.get_object(Bucket=bucket, Key="e2e/hello.txt")["Body"].read() == b"hippodrome"


def test_sqs_queues_send_and_receive(manifest, aws_kwargs):
    sqs = boto3.client("sqs", **aws_kwargs)
    queue = manifest["moto"]["queues"][0]
    url = sqs.get_queue_url(QueueName=queue["name"])["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"hello": "e2e"}))
    msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
    assert any(json.loads(m["Body"]) == {"hello": "e2e"} for m in msgs)


def test_secrets_manager_has_the_api_key_encryption_secret(manifest, aws_kwargs):
    sm = boto3.client("secretsmanager", **aws_kwargs)
    value = sm.get_secret_value(SecretId="dev/api_key_encryption_key_secret")["SecretString"]
    assert value
