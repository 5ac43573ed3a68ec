"""Issue 13 item 5: a per-client rate limit in front of the API (CloudFront + AWS WAF), which the
execute-api URL does not bypass, in us-east-1 and in any other region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from infra.config import DeploymentConfig
from shared.api.edge import EDGE_HEADER
from tests.infra.conftest import TEST_CONFIG, Synthesized, deploy_environ, synthesize

pytestmark = pytest.mark.infra


def distribution_config(synth: Synthesized) -> dict[str, Any]:
    return dict(synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"])


def api_behavior(synth: Synthesized) -> dict[str, Any]:
    (behavior,) = [b for b in distribution_config(synth)["CacheBehaviors"] if b["PathPattern"] == "/v1/*"]
    return dict(behavior)


def test_the_api_is_served_through_cloudfront_with_the_edge_secret(synth: Synthesized) -> None:
    behavior = api_behavior(synth)
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert set(behavior["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # all but Host
    (origin,) = [o for o in distribution_config(synth)["Origins"] if o["Id"] == behavior["TargetOriginId"]]
    api = synth.logical_id(synth.stack.api.http_api)
    assert origin["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [api, "ApiEndpoint"]}]}]
    }
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    (header,) = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == EDGE_HEADER
    secret = synth.logical_id(synth.stack.api.edge_secret)
    assert "{{resolve:secretsmanager:" in json.dumps(header["HeaderValue"])
    assert {"Ref": secret} in header["HeaderValue"]["Fn::Join"][1]


def test_the_api_function_checks_the_edge_secret(synth: Synthesized) -> None:
    api = synth.stack.compute.functions["api"]
    env = synth.resource(api)["Properties"]["Environment"]["Variables"]
    secret = {"Ref": synth.logical_id(synth.stack.api.edge_secret)}
    assert env["ROOMCRAFT_EDGE_SECRET_ARN"] == secret
    policies = json.dumps(
        [
            p
            for p in synth.resources("AWS::IAM::Policy").values()
            if synth.logical_id(api.role) in json.dumps(p)
        ]
    )
    assert '"secretsmanager:GetSecretValue"' in policies
    assert json.dumps(secret) in policies


def test_clients_web_app_and_providers_use_the_cloudfront_url(synth: Synthesized) -> None:
    distribution = synth.logical_id(synth.stack.delivery.distribution)
    through_cloudfront = {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/"]]}
    assert synth.json["Outputs"]["ApiUrl"]["Value"] == through_cloudfront
    for function_id in ("worker", "inference_events"):
        env = synth.resource(synth.stack.compute.functions[function_id])["Properties"]["Environment"]
        assert env["Variables"]["ROOMCRAFT_API_BASE_URL"] == through_cloudfront


def web_acl(synth: Synthesized) -> dict[str, Any]:
    (acl,) = synth.resources("AWS::WAFv2::WebACL").values()
    return dict(acl["Properties"])


def test_the_web_acl_limits_each_client_ip_on_the_api(synth: Synthesized) -> None:
    assert distribution_config(synth)["WebACLId"] == {
        "Fn::GetAtt": [synth.logical_id(synth.stack.firewall.web_acl), "Arn"]  # type: ignore[union-attr]
    }
    acl = web_acl(synth)
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    rate, common, bad_inputs = sorted(acl["Rules"], key=lambda r: r["Priority"])
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == TEST_CONFIG.api_client_rate_limit
    assert statement["EvaluationWindowSec"] == 300
    scope = json.dumps(statement["ScopeDownStatement"])
    assert '"SearchString": "/v1/"' in scope
    assert '"NotStatement"' in scope
    assert '"SearchString": "/v1/callbacks/"' in scope
    block = rate["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    assert "client_rate_limited" in acl["CustomResponseBodies"][block["CustomResponseBodyKey"]]["Content"]
    for rule, name in (
        (common, "AWSManagedRulesCommonRuleSet"),
        (bad_inputs, "AWSManagedRulesKnownBadInputsRuleSet"),
    ):
        group = rule["Statement"]["ManagedRuleGroupStatement"]
        assert (group["VendorName"], group["Name"]) == ("AWS", name)
        assert '"SearchString": "/v1/"' in json.dumps(group["ScopeDownStatement"])
    overrides = common["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


def test_a_stack_in_us_east_1_holds_its_web_acl_and_needs_no_region_rule(synth: Synthesized) -> None:
    assert synth.stack.region == "us-east-1"
    assert "DeploysOnlyInEdgeRegion" not in synth.json.get("Rules", {})


def test_another_region_gets_a_us_east_1_companion_stack(tmp_path: Path) -> None:
    config = DeploymentConfig(stage="eu", provider="preview", api_client_rate_limit=300)
    synthesized = synthesize(config, tmp_path, environ=deploy_environ("eu-west-1"))
    stacks = {s.stack_name: s for s in synthesized.app.node.children if hasattr(s, "stack_name")}
    assert set(stacks) == {"Roomcraft-eu", "Roomcraft-eu-edge"}
    edge = stacks["Roomcraft-eu-edge"]
    assert (edge.region, edge.account) == ("us-east-1", "123456789012")
    edge_template = json.loads((tmp_path / "Roomcraft-eu-edge.template.json").read_text())
    (acl,) = [r for r in edge_template["Resources"].values() if r["Type"] == "AWS::WAFv2::WebACL"]
    assert acl["Properties"]["Scope"] == "CLOUDFRONT"
    assert json.dumps(acl).count('"Limit": 300') == 1
    assert synthesized.resources("AWS::WAFv2::WebACL") == {}
    web_acl_id = distribution_config(synthesized)["WebACLId"]
    assert web_acl_id["Fn::GetStackOutput"]["StackName"] == "Roomcraft-eu-edge"
    assert web_acl_id["Fn::GetStackOutput"]["Region"] == "us-east-1"
    for stack_name, region in (("Roomcraft-eu-edge", "us-east-1"), ("Roomcraft-eu", "eu-west-1")):
        template = (tmp_path / f"{stack_name}.template.json").read_text()
        found = lint(template, config=ManualArgs(regions=[region], ignore_checks=["W3005"]))
        assert [f"{m.rule.id} {m.message}" for m in found if m.rule.id[0] in {"E", "W"}] == [], stack_name


def test_an_offline_synth_deploys_only_in_us_east_1(tmp_path: Path) -> None:
    """Without a region the web ACL stays in the stack, and CloudFormation refuses it elsewhere."""
    synthesized = synthesize(DeploymentConfig(stage="x"), tmp_path, environ=deploy_environ(None))
    (assertion,) = synthesized.json["Rules"]["DeploysOnlyInEdgeRegion"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    assert "CDK_DEFAULT_REGION" in assertion["AssertDescription"]
