"""API: the HTTP API (API Gateway v2) that routes ``/v1/*`` to the api function.

One ``ANY /v1/{proxy+}`` route: the FastAPI app behind Mangum does the routing, so adding an
endpoint needs no infrastructure change. The ``$default`` stage throttles (rate and burst from the
configuration), answers CORS preflights, and writes JSON access logs.

Clients reach the API through CloudFront (``Delivery.route_api``), where AWS WAF limits each client's
rate; CloudFront adds the edge secret made here as a header, and the api function refuses requests
without it (``shared.api.edge``), so the execute-api URL does not bypass the WAF.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from infra.config import DeploymentConfig
from infra.constructs.functions import retention

API_ROUTE = "/v1/{proxy+}"

ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "requestTime": "$context.requestTime",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "error": "$context.error.message",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":")))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        handler: lambda_.IFunction,
        extra_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=retention(config.log_retention_days),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name=f"roomcraft-{config.stage}",
            description=f"Roomcraft {config.stage} HTTPS API (/v1)",
            create_default_stage=False,
            cors_preflight=apigwv2.CorsPreflightOptions(
                allow_origins=[*config.cors_allowed_origins, *extra_origins],
                allow_methods=[apigwv2.CorsHttpMethod.ANY],
                allow_headers=[
                    "authorization",
                    "content-type",
                    "idempotency-key",
                    "x-api-key",
                    "x-request-id",
                ],
                expose_headers=["location", "retry-after", "x-request-id"],
                max_age=Duration.hours(1),
            ),
        )
        self.routes = self.http_api.add_routes(
            path=API_ROUTE,
            methods=[apigwv2.HttpMethod.ANY],
            integration=HttpLambdaIntegration(
                "ApiFunction", handler, payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0
            ),
        )
        self.stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        self.url = self.stage.url
        """The execute-api URL: not for clients (the API refuses calls without the edge secret)."""
        self.edge_secret = secretsmanager.Secret(
            self,
            "EdgeSecret",
            description=f"Roomcraft {config.stage}: the header CloudFront adds to every API request "
            "(the API refuses requests without it: they skipped the WAF)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                exclude_punctuation=True, password_length=48
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.edge_secret.grant_read(handler)
        if isinstance(handler, lambda_.Function):
            handler.add_environment("ROOMCRAFT_EDGE_SECRET_ARN", self.edge_secret.secret_arn)
        Validations.of(self.edge_secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="The edge secret is a shared value between CloudFront's origin header and the api "
                "function, both set by this stack: a scheduled rotation would change one without the other; "
                "it is rotated by replacing it in a deploy (docs/deploy.md).",
            )
        )
        for route in self.routes:
            Validations.of(route).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="Authentication belongs to the api function: tenant API keys, checked by the "
                    "FastAPI app before any route code, revocable from the next request (an authorizer's "
                    "cache would keep a revoked key working), with health and signed provider callbacks "
                    "public on the same route (docs/tenants.md).",
                )
            )
