"""Delivery: CloudFront in front of the outputs bucket, through Origin Access Control.

Output image keys are immutable (a new result gets a new key), so the cache policy keeps objects for
a year and varies on nothing: no cookies, headers or query strings reach the cache key. An optional
custom domain (with its us-east-1 ACM certificate) replaces the ``*.cloudfront.net`` name in URLs.

The same distribution serves the HTTP API at ``/v1/*`` (``route_api``), so that the AWS WAF web ACL
attached here (``infra/constructs/firewall.py``) limits each client's rate before the API sees it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Fn, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import DeploymentConfig
from shared.api.edge import EDGE_HEADER

IMMUTABLE_TTL = Duration.days(365)
API_PATH = "/v1/*"


class Delivery(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        bucket: s3.IBucket,
        log_bucket: s3.IBucket,
        web_acl_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cache_policy = cloudfront.CachePolicy(
            self,
            "ImmutableImages",
            comment="Roomcraft outputs: immutable keys, cached for a year, nothing varies",
            default_ttl=IMMUTABLE_TTL,
            max_ttl=IMMUTABLE_TTL,
            min_ttl=Duration.days(1),
            cookie_behavior=cloudfront.CacheCookieBehavior.none(),
            header_behavior=cloudfront.CacheHeaderBehavior.none(),
            query_string_behavior=cloudfront.CacheQueryStringBehavior.none(),
            # Images are already compressed; asking for gzip/brotli would only split the cache.
            enable_accept_encoding_gzip=False,
            enable_accept_encoding_brotli=False,
        )
        self.headers_policy = cloudfront.ResponseHeadersPolicy(
            self,
            "ImageHeaders",
            comment="Roomcraft outputs: CORS for canvas use, long browser caching, security headers",
            cors_behavior=cloudfront.ResponseHeadersCorsBehavior(
                access_control_allow_credentials=False,
                access_control_allow_headers=["*"],
                access_control_allow_methods=["GET", "HEAD"],
                access_control_allow_origins=list(config.cors_allowed_origins),
                access_control_max_age=Duration.days(1),
                origin_override=True,
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Cache-Control", value="public, max-age=31536000, immutable", override=False
                    )
                ]
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=False, override=True
                ),
            ),
        )

        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if config.certificate_arn
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Roomcraft {config.stage} output images",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=self.cache_policy,
                response_headers_policy=self.headers_policy,
                compress=False,
            ),
            domain_names=[config.domain_name] if config.domain_name else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate else None,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
            # The API's behaviour (/v1/*) is why: a per-client rate limit (infra/constructs/firewall.py).
            web_acl_id=web_acl_arn,
        )
        self.domain_name = config.domain_name or self.distribution.distribution_domain_name
        self.base_url = f"https://{self.domain_name}"

        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions-CFR1",
                reason="Staged room images are served to a worldwide audience; no country is excluded.",
            ),
        ]
        if certificate is None:
            acknowledgments.append(
                Acknowledgment(
                    id="AwsSolutions-CFR4",
                    reason="Without a custom domain CloudFront uses its default *.cloudfront.net "
                    "certificate, whose minimum protocol AWS fixes; set domain_name + certificate_arn to "
                    "get TLSv1.2_2021.",
                )
            )
        Validations.of(self.distribution).acknowledge(*acknowledgments)

    def route_api(self, http_api: apigwv2.IHttpApi, *, edge_secret: secretsmanager.ISecret) -> None:
        """Serve the HTTP API at ``/v1/*`` on this distribution, behind its web ACL: never cached, every
        viewer header, query and cookie forwarded (but Host: API Gateway routes on its own name), and
        the edge secret added so that the API can refuse calls that skipped CloudFront."""
        # api_endpoint is https://<id>.execute-api.<region>.<suffix>: keep the host.
        api_host = Fn.select(2, Fn.split("/", http_api.api_endpoint))
        origin = origins.HttpOrigin(
            api_host,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={EDGE_HEADER: edge_secret.secret_value.unsafe_unwrap()},
            read_timeout=Duration.seconds(30),
        )
        self.distribution.add_behavior(
            API_PATH,
            origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            compress=True,
        )
