"""Firewall: the AWS WAF web ACL in front of the API's CloudFront behaviour (``/v1/*``).

An HTTP API cannot have a web ACL of its own, so the API is served through the stack's CloudFront
distribution and the web ACL is attached there (scope CLOUDFRONT). Its rules, on ``/v1/`` only
(images and the web app are static and cached):

1. a per-client rate limit: more than ``api_client_rate_limit`` requests from one IP address in a
   five-minute window are answered 429 until the rate falls again; provider callbacks
   (``/v1/callbacks/``, signed) are not counted, so a burst of finished predictions is not refused;
2. AWS's managed common rule set (with its 8 KB body-size rule only counted: batch bodies may be
   larger) and the known-bad-inputs set.

A CLOUDFRONT-scope web ACL can only be created in us-east-1 (docs/deploy.md): ``infra.app`` puts
this construct in the main stack there, and in a companion ``Roomcraft-<stage>-edge`` stack in
us-east-1 when the main stack lives in another region.
"""

from __future__ import annotations

from aws_cdk import Aws, CfnRule, CfnRuleAssertion, Fn, Stack
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import DeploymentConfig

API_PATH_PREFIX = "/v1/"
CALLBACKS_PATH_PREFIX = "/v1/callbacks/"
RATE_WINDOW_SECONDS = 300
OVERSIZE_BODY_RULE = "SizeRestrictions_BODY"

EDGE_REGION = "us-east-1"
"""CloudFront's global resources (CLOUDFRONT-scope web ACLs, certificates) live in this region."""

W = wafv2.CfnWebACL


def require_region(stack: Stack, region: str, *, why: str) -> None:
    """A template synthesized without a region (an offline ``make synth``) deploys only in
    ``region``: CloudFormation refuses the stack up front elsewhere, saying why."""
    CfnRule(
        stack,
        "DeploysOnlyInEdgeRegion",
        assertions=[
            CfnRuleAssertion(
                assert_=Fn.condition_equals(Aws.REGION, region),
                assert_description=f"Deploy this template in {region}: {why}. For another region "
                "synthesize with CDK_DEFAULT_REGION set (cdk deploy does): the app then adds a "
                f"{region} companion stack for it (docs/deploy.md).",
            )
        ],
    )


def _path_starts_with(prefix: str) -> W.StatementProperty:
    return W.StatementProperty(
        byte_match_statement=W.ByteMatchStatementProperty(
            field_to_match=W.FieldToMatchProperty(uri_path={}),
            positional_constraint="STARTS_WITH",
            search_string=prefix,
            text_transformations=[W.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _visibility(metric: str) -> W.VisibilityConfigProperty:
    return W.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class ApiFirewall(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        api_requests = _path_starts_with(API_PATH_PREFIX)
        counted_requests = W.StatementProperty(
            and_statement=W.AndStatementProperty(
                statements=[
                    api_requests,
                    W.StatementProperty(
                        not_statement=W.NotStatementProperty(
                            statement=_path_starts_with(CALLBACKS_PATH_PREFIX)
                        )
                    ),
                ]
            )
        )
        rate_limit = W.RuleProperty(
            name="PerClientRateLimit",
            priority=0,
            statement=W.StatementProperty(
                rate_based_statement=W.RateBasedStatementProperty(
                    aggregate_key_type="IP",
                    limit=config.api_client_rate_limit,
                    evaluation_window_sec=RATE_WINDOW_SECONDS,
                    scope_down_statement=counted_requests,
                )
            ),
            action=W.RuleActionProperty(
                block=W.BlockActionProperty(
                    custom_response=W.CustomResponseProperty(
                        response_code=429,
                        custom_response_body_key="rate_limited",
                        response_headers=[W.CustomHTTPHeaderProperty(name="retry-after", value="60")],
                    )
                )
            ),
            visibility_config=_visibility("roomcraft-api-per-client-rate"),
        )
        common = self._managed(
            "AWSManagedRulesCommonRuleSet", 1, api_requests, count_only=[OVERSIZE_BODY_RULE]
        )
        bad_inputs = self._managed("AWSManagedRulesKnownBadInputsRuleSet", 2, api_requests)
        self.web_acl = W(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            default_action=W.DefaultActionProperty(allow={}),
            description=f"Roomcraft {config.stage}: per-client rate limit and managed rules on /v1/",
            rules=[rate_limit, common, bad_inputs],
            custom_response_bodies={
                "rate_limited": W.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content='{"error":{"code":"client_rate_limited","message":"too many requests from '
                    'this address; slow down and retry after the Retry-After seconds","request_id":"",'
                    '"details":{}}}',
                )
            },
            visibility_config=_visibility(f"roomcraft-{config.stage}-api"),
        )
        self.web_acl_arn = self.web_acl.attr_arn

    @staticmethod
    def _managed(
        name: str, priority: int, scope: W.StatementProperty, *, count_only: list[str] | None = None
    ) -> W.RuleProperty:
        return W.RuleProperty(
            name=name,
            priority=priority,
            statement=W.StatementProperty(
                managed_rule_group_statement=W.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name=name,
                    scope_down_statement=scope,
                    rule_action_overrides=[
                        W.RuleActionOverrideProperty(name=rule, action_to_use=W.RuleActionProperty(count={}))
                        for rule in count_only or []
                    ]
                    or None,
                )
            ),
            override_action=W.OverrideActionProperty(none={}),
            visibility_config=_visibility(f"roomcraft-{name}"),
        )
