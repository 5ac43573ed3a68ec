"""Web: the reference web app (``web/``), served at ``/app/`` by the same CloudFront distribution as
the output images, from a private bucket of its own through Origin Access Control.

One bucket deployment copies the build (``web/dist``, built at synth time) and a ``config.json``
carrying the API's URL (a deploy-time value) under ``app/``, then invalidates ``/app/*``: one build
serves every stage. Browser caching is set by CloudFront: hashed files under ``/app/assets/`` are
immutable for a year; ``index.html`` and ``config.json`` are revalidated on every load. A CloudFront
Function maps ``/app/`` to ``/app/index.html`` and redirects ``/app`` to ``/app/``. Old hashed files
are not pruned, so a page loaded before a deployment keeps working. No API key is ever written into
``config.json`` here: it is public; users enter theirs in Settings.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import (
    Acknowledgment,
    AssetHashType,
    BundlingOptions,
    CfnElement,
    Duration,
    ILocalBundling,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct, IConstruct

from infra import runtime
from infra.constructs.functions import retention
from infra.packaging import _UNUSED_IMAGE
from shared.content_security import web_app_policy

WEB_DIR = runtime.REPO_ROOT / "web"
APP_PATH = "/app"
APP_PREFIX = "app/"
ASSETS_PATH = f"{APP_PATH}/assets/*"
"""Vite names every file here by its content hash."""
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# CloudFront Functions (JavaScript 2.0 runtime): directory index and the bare /app redirect.
INDEX_FUNCTION = """
function handler(event) {
  var request = event.request;
  if (request.uri === '/app') {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: { location: { value: '/app/' } },
    };
  }
  if (request.uri.endsWith('/')) {
    request.uri += 'index.html';
  }
  return request;
}
""".strip()


class WebBuildError(RuntimeError):
    """The web app could not be built for deployment (no Node.js, or the build failed)."""


@jsii.implements(ILocalBundling)
class WebBundler:
    """Builds ``web/`` (``npm ci`` when needed, then ``npm run build``) and copies ``dist`` out."""

    def __init__(self, web_dir: Path = WEB_DIR) -> None:
        self.web_dir = web_dir

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        npm = shutil.which("npm")
        if npm is None:
            raise WebBuildError("npm not found: the web app is built at synth time (Node.js 20.19+ with npm)")
        steps = [] if (self.web_dir / "node_modules").is_dir() else [[npm, "ci", "--no-audit", "--no-fund"]]
        steps.append([npm, "run", "build"])
        for step in steps:
            done = subprocess.run(step, cwd=self.web_dir, capture_output=True, text=True, check=False)  # noqa: S603
            if done.returncode != 0:
                raise WebBuildError(f"`{' '.join(step[1:])}` in web/ failed:\n{done.stdout}\n{done.stderr}")
        dist = self.web_dir / "dist"
        skip = shutil.ignore_patterns("*.map", "config.json")
        shutil.copytree(dist, output_dir, dirs_exist_ok=True, ignore=skip)
        return True


class WebApp(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        distribution: cloudfront.Distribution,
        base_url: str,
        api_url: str,
        upload_origins: Sequence[str],
        log_bucket: s3.IBucket,
        removal_policy: RemovalPolicy,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            server_access_logs_bucket=log_bucket,
            server_access_logs_prefix="s3/web/",
            removal_policy=removal_policy,
        )

        self.index_function = cloudfront.Function(
            self,
            "IndexFunction",
            comment="Roomcraft web app: /app -> /app/, directory URLs -> index.html",
            code=cloudfront.FunctionCode.from_inline(INDEX_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        # The API is on this origin ('self', /v1/*); photos are posted to the uploads bucket.
        self.content_security_policy = web_app_policy(connect_to=upload_origins)
        self.page_headers = self._headers_policy("PageHeaders", REVALIDATE)
        self.asset_headers = self._headers_policy("AssetHeaders", IMMUTABLE)
        origin = origins.S3BucketOrigin.with_origin_access_control(
            self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ]
        )
        # CloudFront matches behaviours in the order they are added: the assets first.
        index = cloudfront.FunctionAssociation(
            function=self.index_function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
        )
        for path_pattern, headers, functions in (
            (ASSETS_PATH, self.asset_headers, []),
            (f"{APP_PATH}/*", self.page_headers, [index]),
            (APP_PATH, self.page_headers, [index]),
        ):
            distribution.add_behavior(
                path_pattern,
                origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cached_methods=cloudfront.CachedMethods.CACHE_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                compress=True,
                function_associations=functions,
            )

        build = s3deploy.Source.asset(
            str(WEB_DIR),
            bundling=BundlingOptions(image=_UNUSED_IMAGE, local=WebBundler()),
            asset_hash_type=AssetHashType.OUTPUT,
        )
        self.deployment_logs = logs.LogGroup(
            self,
            "DeploymentLogs",
            retention=retention(log_retention_days),
            removal_policy=removal_policy,
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[build, s3deploy.Source.json_data("config.json", {"apiUrl": api_url})],
            destination_bucket=self.bucket,
            destination_key_prefix=APP_PREFIX,
            prune=False,
            distribution=distribution,
            distribution_paths=[f"{APP_PATH}/*", APP_PATH],
            memory_limit=256,
            log_group=self.deployment_logs,
        )
        self.url = f"{base_url}{APP_PATH}/"
        self._acknowledge_deployment_provider()

    def _headers_policy(self, construct_id: str, cache_control: str) -> cloudfront.ResponseHeadersPolicy:
        """Browser caching for one kind of file, and the security headers every page gets."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            construct_id,
            comment=f"Roomcraft web app: Cache-Control {cache_control}, security headers",
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Cache-Control", value=cache_control, override=True
                    )
                ]
            ),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365), include_subdomains=False, override=True
                ),
                # The whole policy (shared.content_security), narrower than the build's meta tag
                # (web/vite.config.ts), which cannot know this stack's origins; browsers apply both.
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=self.content_security_policy, override=True
                ),
            ),
        )

    def _acknowledge_deployment_provider(self) -> None:
        """cdk-nag findings on CDK's own bucket-deployment function (one per stack, shared)."""
        stack = Stack.of(self)
        provider = next(
            child for child in stack.node.children if child.node.id.startswith("Custom::CDKBucketDeployment")
        )
        bucket = stack.get_logical_id(cast(CfnElement, self.bucket.node.default_child))
        Validations.of(provider).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="CDK's bucket-deployment function writes its own logs with the AWS managed basic "
                "execution policy (logs:CreateLogGroup/Stream, PutLogEvents) and nothing else.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::s3:GetBucket*]",
                reason="CDK's bucket-deployment function reads the CDK asset bucket (GetBucket*, GetObject*, "
                "List*) to copy the web build; CDK generates these actions for the staging bucket only.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::s3:GetObject*]",
                reason="CDK's bucket-deployment function reads the web build's zip from the CDK asset bucket "
                "and the web bucket it syncs; the actions are CDK's, on those two buckets only.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::s3:List*]",
                reason="CDK's bucket-deployment function lists the CDK asset bucket and the web bucket to "
                "sync and prune the app's files; the actions are CDK's, on those two buckets only.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::s3:DeleteObject*]",
                reason="CDK's bucket-deployment function prunes stale app files from the web bucket, which "
                "holds nothing but the build (no user data).",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Action::s3:Abort*]",
                reason="CDK's bucket-deployment function aborts its own failed multipart uploads of the "
                "app's files into the web bucket; CDK generates this action for the destination only.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="CloudFront's CreateInvalidation takes no resource scoping narrower than '*' in the "
                "policy CDK writes; the function invalidates /app/* after each deployment of the app.",
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{asset_objects}]",
                    reason="CDK's bucket-deployment function reads the web build's zip from the CDK "
                    "bootstrap asset bucket, whose objects CDK names by content hash: it cannot name one "
                    "key in advance.",
                )
                for asset_objects in _asset_bucket_objects(provider)
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
                reason="CDK's bucket-deployment function syncs the whole web bucket (it holds only the app's "
                "build under app/), so it needs every key of that one bucket.",
            ),
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="CDK's bucket-deployment function runs on the Python runtime CDK pins for it; it is "
                "not project code and is updated with aws-cdk-lib.",
            ),
        )


def _asset_bucket_objects(provider: IConstruct) -> list[str]:
    """The CDK asset bucket's ``<bucket>/*`` ARNs in the bucket-deployment role's policy, written as
    cdk-nag writes them. Read from the policy itself, because their form depends on what synth knows:
    ``arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/*`` with a concrete account and region
    (every ``cdk deploy``), ``<AWS::AccountId>``-style placeholders without, another qualifier with a
    customised bootstrap."""
    stack = Stack.of(provider)
    policy = provider.node.find_child("ServiceRole").node.find_child("DefaultPolicy").node.default_child
    document = stack.resolve(cast(iam.CfnPolicy, policy).policy_document)
    found: list[str] = []
    for statement in document["Statement"]:
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            arn = nag_form(resource)
            if _ASSET_OBJECTS.match(arn) and arn not in found:
                found.append(arn)
    if not found:
        raise ValueError(
            "CDK's bucket-deployment role no longer reads a cdk-*-assets-* bucket: review web.py"
        )
    return found


_ASSET_OBJECTS = re.compile(r"^arn:(?:[a-z-]+|<AWS::Partition>):s3:::cdk-[^/]+-assets-[^/]+/\*$")


def nag_form(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag prints it in a finding's id: ``Ref`` as ``<Name>``,
    ``Fn::GetAtt`` as ``<Id.Attr>``, ``Fn::Sub`` placeholders as ``<Name>``, ``Fn::Join`` joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        if function == "Fn::Sub" and isinstance(argument, str):
            return re.sub(r"\$\{([^}]+)\}", r"<\1>", argument)
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(nag_form(part) for part in parts)
    return json.dumps(value, sort_keys=True)
