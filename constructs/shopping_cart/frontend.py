"""Frontend: the storefront on CloudFront, with the cart and product APIs behind the same distribution.

One origin for everything the browser talks to (except Cognito): the built storefront from a private
S3 bucket (origin access control), and the REST APIs through path behaviours that send the request on
to API Gateway untouched (caching disabled; every viewer header except Host, every cookie and query
string forwarded). The anonymous cart's ``cartId`` cookie is therefore first-party, and the browser
needs no CORS. ``/config.json`` is written at deploy time from the stacks' values, pointing both API
base URLs at the distribution itself.

Behaviours:

- ``/cart``, ``/cart/*``: the cart API (origin path: its stage), ``ALL`` methods, ``CachingDisabled``,
  ``AllViewerExceptHostHeader``; a CloudFront Function writes the viewer's IP into ``X-Viewer-Ip`` for
  the web ACL's per-IP rate limit, and the origin adds the secret ``X-Origin-Verify`` header (prop
  ``origin_verify_secret``) without which the web ACL ignores ``X-Viewer-Ip``.
- ``/product``, ``/product/*``: the product API, the same way.
- everything else: the bucket, ``CachingOptimized``; a CloudFront Function serves ``/index.html`` for
  client routes (a path whose last segment has no dot).

There are no custom error responses: they would apply to the APIs too (an API 404 must stay a JSON
404). A missing file answers S3's 403.

Every response carries the security headers of :attr:`Frontend.response_headers_policy`: the content
security policy of :func:`content_security_policy`, HSTS, ``X-Content-Type-Options``,
``X-Frame-Options``, ``Referrer-Policy``, ``Permissions-Policy`` and cross-origin isolation headers.

Caching: hashed files under ``/assets/`` are uploaded with ``Cache-Control: public, max-age=31536000,
immutable`` and never pruned (a browser holding an older ``index.html`` still finds its chunks); the
rest (``index.html``, ``config.json``, ``favicon.svg``) with ``no-cache``, and each deployment
invalidates the distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Acknowledgment, Aws, CfnCondition, Duration, Fn, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from aws_cdk import aws_secretsmanager as secretsmanager

from constructs import Construct

from .overrides import override_props
from .runtime.shared import config
from .web_acl import ORIGIN_VERIFY_HEADER, VIEWER_IP_HEADER

DEFAULT_CART_PATHS = ("/cart", "/cart/*")
DEFAULT_PRODUCT_PATHS = ("/product", "/product/*")

#: Regions whose S3 buckets CloudFront delivers no standard logs to (CloudFront Developer Guide,
#: "Choose an Amazon S3 bucket for your standard logs"; the same four are named by AWS Config's
#: AWSConfigRemediation-EnableCloudFrontAccessLogs runbook). A distribution whose log bucket is there
#: fails to create.
NO_STANDARD_LOGS_REGIONS = ("af-south-1", "ap-east-1", "eu-south-1", "me-south-1")

#: Viewer-request function of the default behaviour: client routes get the app shell.
SPA_FUNCTION_CODE = """\
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  // A client route (/checkout, /order/abc) has no dot in its last segment; files (/assets/x.js,
  // /config.json, /favicon.svg) are served as they are.
  if (uri.substring(uri.lastIndexOf('/') + 1).indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
"""

#: Viewer-request function of the API behaviours: the viewer's IP for the web ACL's rate limit.
#: It overwrites any value the client sent.
VIEWER_IP_FUNCTION_CODE = f"""\
function handler(event) {{
  var request = event.request;
  request.headers['{VIEWER_IP_HEADER.lower()}'] = {{ value: event.viewer.ip }};
  return request;
}}
"""

IMMUTABLE = (
    s3deploy.CacheControl.set_public(),
    s3deploy.CacheControl.max_age(Duration.days(365)),
    s3deploy.CacheControl.immutable(),
)
REVALIDATE = (s3deploy.CacheControl.no_cache(),)


def content_security_policy(*, connect_sources: Sequence[str] = ()) -> str:
    """The storefront's CSP: everything from the page's own origin, nothing inline, no framing.

    The Vite build has no inline script or style (index.html loads hashed files from /assets/); images
    are same-origin files or data: URIs; the only cross-origin requests are Amplify's calls to Cognito,
    which go in ``connect_sources``.
    """
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", *connect_sources],
        "manifest-src": ["'self'"],
        "worker-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def _api_origin(url: str, custom_headers: Mapping[str, str] | None = None) -> origins.HttpOrigin:
    """An HTTPS origin from an API base URL ``https://{host}/{stage}`` (a token or a plain string)."""
    if Token.is_unresolved(url):
        parts = Fn.split("/", url)
        domain, origin_path = Fn.select(2, parts), "/" + Fn.select(3, parts)
    else:
        parsed = urlsplit(url)
        if parsed.scheme != "https" or not parsed.netloc:
            raise ValueError(f"API URL must be https://host[/stage], got {url!r}")
        domain, origin_path = parsed.netloc, parsed.path.rstrip("/") or None
    return origins.HttpOrigin(
        domain,
        origin_path=origin_path,
        protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        custom_headers=dict(custom_headers) if custom_headers else None,
    )


_DEPLOYMENT_GRANT = (
    "the grant CDK's BucketDeployment gives its handler to sync the storefront into its bucket "
    "(s3 sync reads, lists, writes and prunes objects of any name)"
)


def _deployment_wildcards(asset_bucket: str, site_bucket: str) -> list[tuple[str, str]]:
    """The wildcard permissions of BucketDeployment's handler role, each with the reason it is needed."""
    return [
        ("Action::s3:GetBucket*", f"Read access to the source asset bucket: {_DEPLOYMENT_GRANT}."),
        (
            "Action::s3:GetObject*",
            f"Read access to the source asset and the site bucket: {_DEPLOYMENT_GRANT}.",
        ),
        ("Action::s3:List*", f"Listing both buckets, as s3 sync does: {_DEPLOYMENT_GRANT}."),
        ("Action::s3:Abort*", f"Aborting multipart uploads into the site bucket: {_DEPLOYMENT_GRANT}."),
        (
            "Action::s3:DeleteObject*",
            f"Pruning files of an older build from the site bucket: {_DEPLOYMENT_GRANT}.",
        ),
        (
            f"Resource::arn:<AWS::Partition>:s3:::{asset_bucket}/*",
            "The CDK bootstrap asset bucket holds the zipped storefront under a content-hash key: "
            f"{_DEPLOYMENT_GRANT}.",
        ),
        (f"Resource::<{site_bucket}.Arn>/*", f"Every object of the site bucket: {_DEPLOYMENT_GRANT}."),
        (
            "Resource::*",
            "cloudfront:CreateInvalidation/GetInvalidation after each upload, granted by BucketDeployment "
            "on '*' so that index.html and config.json are refetched at once.",
        ),
    ]


def _built_site(asset_path: str | Path) -> Path:
    site = Path(asset_path)
    if not (site / "index.html").is_file():
        raise ValueError(
            f"Frontend: {site} has no index.html. Build the storefront first "
            "(`make synth` or `make deploy` build it; by hand: `cd frontend && npm ci && npm run build`) "
            "or pass asset_path= the folder of another build."
        )
    return site


#: Distribution properties set through Frontend's own props, so that the rest stays consistent (CSP,
#: the behaviours' functions, the log bucket's ownership).
_OWN_DISTRIBUTION_PROPS = (
    "default_behavior",
    "additional_behaviors",
    "domain_names",
    "certificate",
    "enable_logging",
    "log_bucket",
    "log_file_prefix",
    "minimum_protocol_version",
    "price_class",
    "web_acl_id",
    "geo_restriction",
)


class Frontend(Construct):
    """The storefront and both APIs on one CloudFront distribution.

    Required keyword properties:
        asset_path: folder of the built storefront (``frontend/dist``: ``index.html`` and ``assets/``).
            It must exist and hold an ``index.html``: build the storefront first (``make synth`` and
            ``make deploy`` do), or point it at another build.
        cart_api_url, product_api_url: base URLs of the APIs, ``https://{host}/{stage}`` (tokens welcome).
        user_pool, user_pool_client: written into config.json for Amplify.

    Optional keyword properties:
        cart_paths, product_paths: path patterns of the API behaviours (default ``/cart``, ``/cart/*``
            and ``/product``, ``/product/*``: the API resources, and no SPA route starts with them).
        region: of the user pool (config.json and the CSP's Cognito endpoint); default the stack's.
        extra_config: more keys for config.json.
        max_quantity: the cart's bound on quantities (ShoppingCart's ``max_quantity``), config.json's
            ``maxQuantity``: the storefront checks it before asking the API.
        connect_sources: more origins the storefront may call (CSP connect-src).
        domain_names, certificate: a custom domain (the certificate in us-east-1); then the viewer
            policy is TLSv1.2_2021 and config.json uses ``https://{domain_names[0]}``.
        web_acl_id: a CLOUDFRONT-scope web ACL (created in us-east-1) for the distribution itself.
        geo_restriction: countries to allow or deny.
        price_class: CloudFront edge locations (default PRICE_CLASS_100: North America and Europe).
        removal_policy: of both buckets and the deployment log group; DESTROY also empties the buckets
            (auto-delete objects).
        log_retention: of the log group of CDK's deployment handler.
        access_logs: CloudFront standard logs and S3 server access logs into a log bucket, expired
            after ``access_log_retention``. CloudFront's standard logs are left out in the regions of
            :data:`NO_STANDARD_LOGS_REGIONS` (with a token region, a CloudFormation condition decides
            at deploy time; the bucket then keeps ACLs disabled).
        origin_verify_secret: the secret of :class:`shopping_cart.ApiWebAcl`; its value goes to the APIs
            in the ``X-Origin-Verify`` origin header (a dynamic reference), so the web ACL trusts the
            viewer IP header on these requests only.
        hsts_max_age: the Strict-Transport-Security max-age.
        distribution_props: more ``cloudfront.Distribution`` keyword properties over the defaults
            (``enable_ipv6``, ``http_version``, ``comment``...); the behaviours, domain, certificate,
            web ACL, geo restriction, price class and logging have props of their own above.

    Attributes: ``bucket``, ``log_bucket`` (None without access logs), ``distribution``, ``url`` (the
    storefront's https origin, no trailing slash), ``config`` (config.json's content, with tokens),
    ``content_security_policy``, ``response_headers_policy``, ``spa_function``, ``viewer_ip_function``,
    ``assets_deployment``, ``site_deployment``, ``deployment_log_group``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        asset_path: str | Path,
        cart_api_url: str,
        product_api_url: str,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        cart_paths: Sequence[str] = DEFAULT_CART_PATHS,
        product_paths: Sequence[str] = DEFAULT_PRODUCT_PATHS,
        region: str | None = None,
        extra_config: Mapping[str, Any] | None = None,
        connect_sources: Sequence[str] = (),
        domain_names: Sequence[str] = (),
        certificate: acm.ICertificate | None = None,
        web_acl_id: str | None = None,
        geo_restriction: cloudfront.GeoRestriction | None = None,
        price_class: cloudfront.PriceClass = cloudfront.PriceClass.PRICE_CLASS_100,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        access_logs: bool = True,
        access_log_retention: Duration = Duration.days(90),
        hsts_max_age: Duration = Duration.days(730),
        origin_verify_secret: secretsmanager.ISecret | None = None,
        distribution_props: Mapping[str, Any] | None = None,
        max_quantity: int = config.ENV["MAX_QUANTITY"].default,
    ) -> None:
        super().__init__(scope, construct_id)
        site = _built_site(asset_path)
        if bool(domain_names) != bool(certificate):
            raise ValueError("Frontend: domain_names and certificate go together")
        stack = Stack.of(self)
        region = region or stack.region
        # False only for a concrete region CloudFront delivers no standard logs to; a token region is
        # decided at deploy time by a condition (see _standard_logs_where_supported).
        standard_logs_possible = stack.region not in NO_STANDARD_LOGS_REGIONS
        self._add_buckets(removal_policy, access_logs, access_log_retention, standard_logs_possible)
        identity_provider = f"https://cognito-idp.{region}.{stack.url_suffix}"
        self._add_security_headers(identity_provider, connect_sources, hsts_max_age)
        self._add_functions()
        cloudfront_logs = bool(self.log_bucket) and standard_logs_possible
        self._add_distribution(
            additional_behaviors=self._api_behaviors(
                cart_api_url, product_api_url, cart_paths, product_paths, origin_verify_secret
            ),
            cloudfront_logs=cloudfront_logs,
            price_class=price_class,
            domain_names=domain_names,
            certificate=certificate,
            web_acl_id=web_acl_id,
            geo_restriction=geo_restriction,
            distribution_props=distribution_props,
        )
        self._add_content(
            site,
            region=region,
            user_pool=user_pool,
            user_pool_client=user_pool_client,
            extra_config={"maxQuantity": max_quantity, **(extra_config or {})},
            log_retention=log_retention,
            removal_policy=removal_policy,
        )

    def _add_buckets(
        self,
        removal_policy: RemovalPolicy,
        access_logs: bool,
        access_log_retention: Duration,
        standard_logs_possible: bool,
    ) -> None:
        """The site bucket and, with ``access_logs``, the log bucket."""
        destroy = removal_policy == RemovalPolicy.DESTROY
        self.log_bucket: s3.Bucket | None = None
        if access_logs:
            self.log_bucket = s3.Bucket(
                self,
                "LogBucket",
                encryption=s3.BucketEncryption.S3_MANAGED,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                enforce_ssl=True,
                # CloudFront standard logs are delivered with an ACL grant.
                object_ownership=(
                    s3.ObjectOwnership.BUCKET_OWNER_PREFERRED
                    if standard_logs_possible
                    else s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
                ),
                lifecycle_rules=[s3.LifecycleRule(expiration=access_log_retention)],
                removal_policy=removal_policy,
                auto_delete_objects=destroy,
            )
            Validations.of(self.log_bucket).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-S1",
                    reason="This is the access-log bucket of the storefront's bucket and distribution; "
                    "logging its own accesses into itself would log every log delivery.",
                )
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.log_bucket,
            server_access_logs_prefix="s3/" if self.log_bucket else None,
            removal_policy=removal_policy,
            auto_delete_objects=destroy,
        )
        if self.log_bucket is None:
            Validations.of(self.bucket).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-S1",
                    reason="Access logs are turned off by the embedding app (prop access_logs=False); the "
                    "bucket is private and only CloudFront reads it.",
                )
            )

    def _add_security_headers(
        self, cognito_endpoint: str, connect_sources: Sequence[str], hsts_max_age: Duration
    ) -> None:
        """The response headers policy of every behaviour: CSP, HSTS and the usual security headers."""
        self.content_security_policy = content_security_policy(
            connect_sources=[cognito_endpoint, *connect_sources]
        )
        self.response_headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Shopping cart storefront: CSP, HSTS and the usual security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self.content_security_policy, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=hsts_max_age, include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                # The legacy XSS auditor is gone from browsers and could be abused: turn it off.
                xss_protection=cloudfront.ResponseHeadersXSSProtection(protection=False, override=True),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=header, value=value, override=True)
                    for header, value in (
                        (
                            "Permissions-Policy",
                            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
                        ),
                        ("Cross-Origin-Opener-Policy", "same-origin"),
                        ("Cross-Origin-Resource-Policy", "same-origin"),
                    )
                ]
            ),
        )

    def _add_functions(self) -> None:
        """CloudFront Functions: SPA routing (the site) and the viewer's IP (the APIs)."""
        self.spa_function = cloudfront.Function(
            self,
            "SpaRouting",
            comment="Serve /index.html for client routes of the storefront",
            code=cloudfront.FunctionCode.from_inline(SPA_FUNCTION_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        self.viewer_ip_function = cloudfront.Function(
            self,
            "ViewerIp",
            comment=f"API requests: the viewer's IP in {VIEWER_IP_HEADER} for the web ACL's rate limit",
            code=cloudfront.FunctionCode.from_inline(VIEWER_IP_FUNCTION_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )

    def _api_behaviors(
        self,
        cart_api_url: str,
        product_api_url: str,
        cart_paths: Sequence[str],
        product_paths: Sequence[str],
        origin_verify_secret: secretsmanager.ISecret | None,
    ) -> dict[str, cloudfront.BehaviorOptions]:
        """The API behaviours by path pattern: to API Gateway untouched, never cached."""
        origin_headers = (
            {ORIGIN_VERIFY_HEADER: origin_verify_secret.secret_value.unsafe_unwrap()}
            if origin_verify_secret
            else None
        )

        def api_behavior(url: str) -> cloudfront.BehaviorOptions:
            return cloudfront.BehaviorOptions(
                origin=_api_origin(url, origin_headers),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy=self.response_headers_policy,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.viewer_ip_function,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            )

        cart_behavior, product_behavior = api_behavior(cart_api_url), api_behavior(product_api_url)
        behaviors = {
            **dict.fromkeys(cart_paths, cart_behavior),
            **dict.fromkeys(product_paths, product_behavior),
        }
        if len(behaviors) != len(cart_paths) + len(product_paths):
            raise ValueError("Frontend: cart_paths and product_paths overlap")
        return behaviors

    def _add_distribution(
        self,
        *,
        additional_behaviors: Mapping[str, cloudfront.BehaviorOptions],
        cloudfront_logs: bool,
        price_class: cloudfront.PriceClass,
        domain_names: Sequence[str],
        certificate: acm.ICertificate | None,
        web_acl_id: str | None,
        geo_restriction: cloudfront.GeoRestriction | None,
        distribution_props: Mapping[str, Any] | None,
    ) -> None:
        stack = Stack.of(self)
        defaults = {
            "comment": f"{stack.stack_name}: storefront and shopping cart APIs",
            "default_root_object": "index.html",
            "default_behavior": cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.response_headers_policy,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.spa_function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            "additional_behaviors": dict(additional_behaviors),
            "http_version": cloudfront.HttpVersion.HTTP2_AND_3,
            "price_class": price_class,
            "domain_names": list(domain_names) or None,
            "certificate": certificate,
            "minimum_protocol_version": (
                cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None
            ),
            "web_acl_id": web_acl_id,
            "geo_restriction": geo_restriction,
            "enable_logging": cloudfront_logs,
            "log_bucket": self.log_bucket if cloudfront_logs else None,
            "log_file_prefix": "cloudfront/" if cloudfront_logs else None,
        }
        props = override_props(
            defaults,
            distribution_props,
            owner="Frontend distribution_props",
            fixed=_OWN_DISTRIBUTION_PROPS,
            why="Frontend has a property of its own for it",
        )
        self.distribution = cloudfront.Distribution(self, "Distribution", **props)
        self.standard_logs_condition: CfnCondition | None = None
        if cloudfront_logs and Token.is_unresolved(stack.region):
            self._standard_logs_where_supported()
        self._acknowledge(certificate=certificate, web_acl_id=web_acl_id, geo_restriction=geo_restriction)
        domain = domain_names[0] if domain_names else self.distribution.distribution_domain_name
        self.url = f"https://{domain}"

    def _add_content(
        self,
        site: Path,
        *,
        region: str,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        extra_config: Mapping[str, Any] | None,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        """config.json and the storefront, uploaded at deploy time (hashed assets first)."""
        self.config: dict[str, Any] = {
            "region": region,
            "userPoolId": user_pool.user_pool_id,
            "userPoolClientId": user_pool_client.user_pool_client_id,
            # Same origin: the distribution routes /cart... and /product... to the APIs.
            "cartApiUrl": self.url,
            "productApiUrl": self.url,
            **(extra_config or {}),
        }
        # Both deployments share CDK's singleton handler, so they share its log group too.
        self.deployment_log_group = logs.LogGroup(
            self, "DeploymentLogs", retention=log_retention, removal_policy=removal_policy
        )
        self.assets_deployment = s3deploy.BucketDeployment(
            self,
            "Assets",
            destination_bucket=self.bucket,
            sources=[s3deploy.Source.asset(str(site))],
            exclude=["*"],
            include=["assets/*"],
            cache_control=list(IMMUTABLE),
            prune=False,
            memory_limit=512,
            log_group=self.deployment_log_group,
        )
        self.site_deployment = s3deploy.BucketDeployment(
            self,
            "Site",
            destination_bucket=self.bucket,
            sources=[
                s3deploy.Source.asset(str(site), exclude=["assets"]),
                s3deploy.Source.json_data("config.json", self.config),
            ],
            exclude=["assets/*"],
            cache_control=list(REVALIDATE),
            prune=True,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=self.deployment_log_group,
        )
        # index.html never names a chunk that is not uploaded yet.
        self.site_deployment.node.add_dependency(self.assets_deployment)
        self._acknowledge_deployment_handler()

    def _standard_logs_where_supported(self) -> None:
        """A token region: log only where CloudFront delivers, and keep ACLs off the bucket elsewhere."""
        assert self.log_bucket is not None
        self.standard_logs_condition = CfnCondition(
            self,
            "StandardLogsSupported",
            expression=Fn.condition_not(
                Fn.condition_or(
                    *(Fn.condition_equals(Aws.REGION, region) for region in NO_STANDARD_LOGS_REGIONS)
                )
            ),
        )
        condition = self.standard_logs_condition.logical_id
        distribution = self.distribution.node.default_child
        assert isinstance(distribution, cloudfront.CfnDistribution)
        distribution.add_property_override(
            "DistributionConfig.Logging",
            Fn.condition_if(
                condition,
                {
                    "Bucket": self.log_bucket.bucket_regional_domain_name,
                    "IncludeCookies": False,
                    "Prefix": "cloudfront/",
                },
                Aws.NO_VALUE,
            ),
        )
        bucket = self.log_bucket.node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        # CloudFront delivers standard logs with an ACL grant; without them the bucket needs none.
        bucket.add_property_override(
            "OwnershipControls.Rules.0.ObjectOwnership",
            Fn.condition_if(condition, "BucketOwnerPreferred", "BucketOwnerEnforced"),
        )

    def _acknowledge(
        self,
        *,
        certificate: acm.ICertificate | None,
        web_acl_id: str | None,
        geo_restriction: cloudfront.GeoRestriction | None,
    ) -> None:
        acknowledgments = []
        if self.log_bucket is None or Stack.of(self).region in NO_STANDARD_LOGS_REGIONS:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR3",
                    reason="Standard logs are turned off by the embedding app (prop access_logs=False) or "
                    "the stack's region is one CloudFront delivers no standard logs to (af-south-1, "
                    "ap-east-1, eu-south-1, me-south-1); CloudFront's own metrics still count requests.",
                )
            )
        if geo_restriction is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR1",
                    reason="The shop sells wherever it is offered; no country is blocked by default "
                    "(prop geo_restriction restricts it).",
                )
            )
        if web_acl_id is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR2",
                    reason="The APIs behind the distribution have a REGIONAL web ACL on their stages "
                    "(ApiWebAcl, rate limits per viewer IP and managed rules); the rest is cached static "
                    "files. A CLOUDFRONT-scope ACL must be created in us-east-1: prop web_acl_id.",
                )
            )
        if certificate is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason="Without a custom domain the distribution uses the default *.cloudfront.net "
                    "certificate, whose TLS policy cannot be chosen; with domain_names and certificate "
                    "it is TLSv1.2_2021.",
                )
            )
        if acknowledgments:
            Validations.of(self.distribution).acknowledge(*acknowledgments)

    def _acknowledge_deployment_handler(self) -> None:
        """BucketDeployment's handler: one singleton function per stack, created by the CDK."""
        stack = Stack.of(self)
        qualifier = getattr(stack.synthesizer, "bootstrap_qualifier", None) or "hnb659fds"
        asset_bucket = f"cdk-{qualifier}-assets-<AWS::AccountId>-<AWS::Region>"
        site_bucket = stack.resolve(stack.get_logical_id(self.bucket.node.default_child))
        for child in stack.node.children:
            if not child.node.id.startswith("Custom::CDKBucketDeployment"):
                continue
            handler = child.node.default_child
            role = child.node.try_find_child("ServiceRole")
            if handler is not None:
                cdk_runtime = (
                    "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib and moves with "
                    "it; it only runs during deployments."
                )
                Validations.of(handler).acknowledge(
                    Acknowledgment(id="AwsSolutions-L1", reason=cdk_runtime),
                    Acknowledgment(id="Serverless-LambdaLatestVersion", reason=cdk_runtime),
                    Acknowledgment(
                        id="Serverless-LambdaDLQ",
                        reason="CDK's BucketDeployment handler answers CloudFormation's custom resource "
                        "requests; a failure fails (and rolls back) the deployment, so nothing waits in a DLQ.",
                    ),
                    Acknowledgment(
                        id="Serverless-LambdaTracing",
                        reason="CDK's BucketDeployment handler runs only while CloudFormation uploads the "
                        "storefront; its logs cover it, and the construct offers no tracing option.",
                    ),
                )
            if role is not None:
                Validations.of(role).acknowledge(
                    Acknowledgment(
                        id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSLambdaBasicExecutionRole]",
                        reason="CDK's BucketDeployment handler writes its logs with the basic execution "
                        "policy; it runs only while CloudFormation deploys the storefront.",
                    ),
                    *(
                        Acknowledgment(id=f"AwsSolutions-IAM5[{finding}]", reason=reason)
                        for finding, reason in _deployment_wildcards(asset_bucket, site_bucket)
                    ),
                )
