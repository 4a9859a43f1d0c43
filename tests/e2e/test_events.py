"""The local event flow: a PutItem on the settings table reaches a recording exporter through the
DynamoDB stream on moto, the webhook router's local pipe and its EcomIndexSettings. route."""
import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import requests


class Recorder(BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        Recorder.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


def test_put_item_reaches_the_settings_exporter(manifest, aws_kwargs):
    offset = int(os.environ["HIPPODROME_PORT_OFFSET"])
    # The router's default EcomIndexSettings. route targets ecom_settings_exporter on 9010 + offset.
    server = ThreadingHTTPServer(("127.0.0.1", 9010 + offset), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        table = next(t for t in manifest["moto"]["tables"] if t["name"].endswith("EcomIndexSettingsTable"))
        ddb = boto3.client("dynamodb", **aws_kwargs)
        key_schema = ddb.describe_table(TableName=table["name"])["Table"]["KeySchema"]
        marker = f"e2e-{uuid.uuid4()}"
        item = {k["AttributeName"]: {"S": marker} for k in key_schema}
        item["boost"] = {"N": "3"}
        ddb.put_item(TableName=table["name"], Item=item)

        deadline = time.time() + 30
        event = None
        while time.time() < deadline and event is None:
            for e in list(Recorder.received):
                keys = e.get("detail", {}).get("dynamodb", {}).get("Keys", {})
                if any(v.get("S") == marker for v in keys.values()):
                    event = e
            time.sleep(0.1)
        assert event is not None, f"no event for {marker}; router events: {requests.get(os.environ['HIPPODROME_ROUTER_URL'] + '/events', timeout=5).text[:2000]}"
        assert event["detail-type"] == "EcomIndexSettings.INSERT"
        assert event["source"] == "marqo.dynamodb"
        assert event["detail"]["eventName"] == "INSERT"
        assert event["detail"]["dynamodb"]["NewImage"]["boost"] == {"N": "3"}
        assert event["detail"]["eventSourceARN"].startswith("arn:aws:dynamodb:")
    finally:
        server.shutdown()


def test_webhook_post_through_the_dashboard_is_routed(manifest):
    dashboard = os.environ["HIPPODROME_DASHBOARD_URL"]
    r = requests.post(dashboard + "/webhook/eventbridge", json={"detail-type": "Nobody.Listens", "detail": {}}, timeout=10)
    assert r.status_code == 200
    assert r.json() == {"status": "ignored", "reason": "No route configured for detail-type: Nobody.Listens"}
    r = requests.post(dashboard + "/webhook/eventbridge", json={"detailType": "X"}, timeout=10)
    assert r.status_code == 400
    assert "detail-type" in r.json()["error"]
