"""Handlers of the test-only edge app: one echoes who called it, one calls it signed with SigV4."""

import json
import os
import urllib.error
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


def echo(event, context):
    identity = event["requestContext"]["identity"]
    return {"statusCode": 200, "body": json.dumps({"userArn": identity.get("userArn")})}


def call(event, context):
    """GET TARGET_URL, signed with this function's own credentials (execute-api, AWS_REGION)."""
    url = os.environ["TARGET_URL"]
    request = AWSRequest(method="GET", url=url, headers={"Accept": "application/json"})
    if event.get("signed", True):
        credentials = botocore.session.get_session().get_credentials().get_frozen_credentials()
        SigV4Auth(credentials, "execute-api", os.environ["AWS_REGION"]).add_auth(request)
    headers = {**dict(request.headers), "User-Agent": "edge-test/1"}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return {"status": response.status, "body": json.loads(response.read())}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "body": json.loads(error.read())}
