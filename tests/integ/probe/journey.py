"""Integration probe, deployed by tests/integ/integ.shop.py and invoked by its assertions.

Each step is one event ``{"step": ...}`` and answers ``{"ok": bool, ...}``, so a failed assertion says
what was seen. It talks to the deployed shop as a client would: through the CloudFront URL, with a
real Cognito user made by the admin API.
"""

import json
import os
import time
import urllib.error
import urllib.request

import boto3

USER_AGENT = "serverless-shopping-cart-integ/1.0"
PRODUCT = os.environ.get("PRODUCT_ID", "trail-lantern")


def _http(method, path, body=None, headers=None):
    request = urllib.request.Request(
        os.environ["STOREFRONT_URL"] + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"User-Agent": USER_AGENT, "Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def storefront(_event):
    status, headers, body = _http("GET", "/")
    csp = headers.get("Content-Security-Policy", "")
    return {
        "ok": status == 200 and '<div id="app">' in body and "default-src 'self'" in csp,
        "status": status,
        "csp": csp,
    }


def journey(_event):
    """Anonymous add through CloudFront (the product lookup passes WAF), then sign-in, migrate, checkout."""
    status, headers, body = _http("POST", "/cart", {"productId": PRODUCT, "quantity": 2})
    if status != 200:
        return {"ok": False, "step": "add", "status": status, "body": body}
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    token = _signed_in_user()
    auth = {"Authorization": f"Bearer {token}", "Cookie": cookie}
    status, _, body = _http("POST", "/cart/migrate", {}, auth)
    if status != 200 or PRODUCT not in body:
        return {"ok": False, "step": "migrate", "status": status, "body": body}
    status, _, body = _http("POST", "/cart/checkout", {}, {"Authorization": f"Bearer {token}"})
    return {"ok": status == 200, "step": "checkout", "status": status, "body": body}


def _signed_in_user():
    cognito = boto3.client("cognito-idp")
    pool, client = os.environ["USER_POOL_ID"], os.environ["USER_POOL_CLIENT_ID"]
    email = f"integ-{int(time.time() * 1000)}@example.com"
    password = "Integ-Test-1-Password!"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    answer = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]["IdToken"]


def totals(_event):
    """The aggregated total of the product (read straight from the table: the admin API needs a group)."""
    table = boto3.client("dynamodb")
    item = table.get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": "totals"}, "sk": {"S": f"product#{PRODUCT}"}}
    ).get("Item")
    quantity = int(item["quantity"]["N"]) if item else 0
    return {"ok": quantity > 0, "quantity": quantity}


def alarm(_event):
    """Force one alarm into ALARM and read the notification from the queue subscribed to the alarm topic."""
    cloudwatch, sqs = boto3.client("cloudwatch"), boto3.client("sqs")
    name = os.environ["ALARM_NAME"]
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="integ test: SetAlarmState")
    deadline = time.time() + 60
    while time.time() < deadline:
        messages = sqs.receive_message(QueueUrl=os.environ["QUEUE_URL"], WaitTimeSeconds=10).get(
            "Messages", []
        )
        for message in messages:
            if name in message["Body"]:
                return {"ok": True, "alarm": name}
    return {"ok": False, "alarm": name}


STEPS = {"storefront": storefront, "journey": journey, "totals": totals, "alarm": alarm}


def handler(event, _context):
    return STEPS[event["step"]](event)
