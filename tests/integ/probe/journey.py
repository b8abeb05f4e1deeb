"""Integration probe, deployed by tests/integ/integ_shop.py and invoked by its assertions.

Each step is one event ``{"step": ...}`` and answers ``{"ok": bool, ...}``, so a failed assertion says
what was seen. It talks to the deployed shop as a client would: through the CloudFront URL, with a
real Cognito user made by the admin API.
"""

import contextlib
import json
import os
import time
import urllib.error
import urllib.request

import boto3

USER_AGENT = "serverless-shopping-cart-integ/1.0"
PRODUCT = os.environ.get("PRODUCT_ID", "trail-lantern")
#: Quantity left in a cart that is never checked out.
KEPT = 3


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
    """Anonymous adds through CloudFront (the product lookup passes WAF), then sign-in, migrate, checkout.

    A second anonymous cart keeps KEPT of the product and is never checked out, so the total the
    ``totals`` step waits for stays at least KEPT whatever order the stream delivers the changes in.
    """
    status, _, body = _http("POST", "/cart", {"productId": PRODUCT, "quantity": KEPT})
    if status != 200:
        return {"ok": False, "step": "add (kept cart)", "status": status, "body": body}
    status, headers, body = _http("POST", "/cart", {"productId": PRODUCT, "quantity": 2})
    if status != 200:
        return {"ok": False, "step": "add", "status": status, "body": body}
    cookie = headers.get("Set-Cookie", "").split(";")[0]
    token = _signed_in(f"integ-{int(time.time() * 1000)}@example.com")
    status, _, body = _http("POST", "/cart/migrate", {}, {"Authorization": token, "Cookie": cookie})
    if status != 200 or PRODUCT not in body:
        return {"ok": False, "step": "migrate", "status": status, "body": body}
    status, _, body = _http("POST", "/cart/checkout", {}, {"Authorization": token})
    return {"ok": status == 200 and PRODUCT in body, "step": "checkout", "status": status, "body": body}


def _signed_in(email, admin=False):
    """An ID token of a user made with AdminCreateUser and AdminSetUserPassword (made once per email)."""
    cognito = boto3.client("cognito-idp")
    pool, client = os.environ["USER_POOL_ID"], os.environ["USER_POOL_CLIENT_ID"]
    password = "Integ-Test-1-Password!"
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",
        )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    if admin:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=os.environ["ADMIN_GROUP"])
    answer = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return answer["AuthenticationResult"]["IdToken"]


def totals(_event):
    """The product's total over all carts, read by an administrator through CloudFront."""
    token = _signed_in("integ-admin@example.com", admin=True)
    status, _, body = _http("GET", f"/cart/{PRODUCT}/total", headers={"Authorization": token})
    quantity = json.loads(body).get("quantity", 0) if status == 200 else 0
    return {"ok": quantity >= KEPT, "status": status, "quantity": quantity}


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
