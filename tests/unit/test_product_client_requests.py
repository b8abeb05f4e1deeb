"""What the product client puts on the wire: a User-Agent always, a SigV4 signature when asked.

AWS WAF's Common Rule Set (NoUserAgent_HEADER) blocks a request without User-Agent; API Gateway's
AWS_IAM authorization refuses a request whose SigV4 signature does not match the request it received.
The server below recomputes the signature from the request as it arrived (method, path, the signed
headers' values), as API Gateway does, so a client that signed something else fails here.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cart.errors import DependencyUnavailableError
from cart.product_client import SIGNING_SERVICE, USER_AGENT, ProductClient, RequestSigner

from .support import serve

REGION = "eu-west-1"
CREDENTIALS = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()


def _server(recorder: Recorder) -> tuple[Any, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with recorder.lock:
                recorder.requests.append({"path": self.path, "headers": dict(self.headers.items())})
            product_id = self.path.rsplit("/", 1)[-1]
            body = json.dumps({"product": {"productId": product_id, "price": 100}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return serve(Handler)


def _signature_verifies(request: dict[str, Any], host: str) -> bool:
    """API Gateway's check: the same credentials, over the request as received, give the same signature."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    authorization = headers["authorization"]
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    received = AWSRequest(
        method="GET",
        url=f"http://{host}{request['path']}",
        headers={name: headers[name] for name in signed if name != "host"},
    )
    received.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(CREDENTIALS, SIGNING_SERVICE, REGION)
    expected = signer.signature(signer.string_to_sign(received, signer.canonical_request(received)), received)
    return authorization.endswith(f"Signature={expected}")


@pytest.fixture
def recorder() -> Any:
    recorder = Recorder()
    server, url = _server(recorder)
    yield recorder, url
    server.shutdown()


def test_every_request_carries_a_user_agent(recorder: Any) -> None:
    requests, url = recorder
    ProductClient(url, timeout_seconds=2, cache_seconds=0).get_product("trail-lantern")

    [request] = requests.requests
    assert request["headers"]["User-Agent"] == USER_AGENT
    assert "Authorization" not in request["headers"]


def test_a_signed_request_verifies_against_what_arrived(recorder: Any) -> None:
    requests, url = recorder
    client = ProductClient(
        f"{url}/prod/internal",
        timeout_seconds=2,
        cache_seconds=0,
        signer=RequestSigner(REGION, credentials=lambda: CREDENTIALS),
    )
    assert client.get_product("trail-lantern")["productId"] == "trail-lantern"

    [request] = requests.requests
    headers = request["headers"]
    assert request["path"] == "/prod/internal/product/trail-lantern"
    assert headers["User-Agent"] == USER_AGENT
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert headers["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{headers['X-Amz-Date'][:8]}/{REGION}/execute-api/aws4_request"
    )
    signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
    assert _signature_verifies(request, url.removeprefix("http://"))


def test_a_tampered_request_does_not_verify(recorder: Any) -> None:
    """The check above can fail: the same signature over another path is refused."""
    requests, url = recorder
    signer = RequestSigner(REGION, credentials=lambda: CREDENTIALS)
    ProductClient(url, timeout_seconds=2, cache_seconds=0, signer=signer).get_product("trail-lantern")

    [request] = requests.requests
    assert _signature_verifies(request, url.removeprefix("http://"))
    assert not _signature_verifies({**request, "path": "/product/another"}, url.removeprefix("http://"))


def test_no_credentials_is_a_dependency_error_not_an_unsigned_call(recorder: Any) -> None:
    requests, url = recorder
    client = ProductClient(
        url, timeout_seconds=2, cache_seconds=0, signer=RequestSigner(REGION, credentials=lambda: None)
    )
    with pytest.raises(DependencyUnavailableError):
        client.get_product("trail-lantern")
    assert requests.requests == []


def test_the_container_client_signs_only_when_configured(
    monkeypatch: pytest.MonkeyPatch, runtime_env: Any
) -> None:
    from cart import product_client, settings

    monkeypatch.setenv("AWS_REGION", REGION)
    for auth, signed in (("iam", True), ("none", False), ("", False)):
        monkeypatch.setenv("PRODUCT_SERVICE_AUTH", auth)
        settings.get_settings.cache_clear()
        product_client.get_product_client.cache_clear()
        assert (product_client.get_product_client()._signer is not None) is signed
    monkeypatch.setenv("PRODUCT_SERVICE_AUTH", "kerberos")
    settings.get_settings.cache_clear()
    product_client.get_product_client.cache_clear()
    with pytest.raises(settings.MissingSettingError, match="PRODUCT_SERVICE_AUTH"):
        product_client.get_product_client()
