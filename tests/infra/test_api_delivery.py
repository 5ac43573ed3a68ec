"""API (HTTP API to the api function) and delivery (CloudFront with OAC over the outputs bucket)."""

from __future__ import annotations

import json

import pytest

from infra.constructs.api import API_ROUTE
from shared.resources import OUTPUTS_BUCKET
from tests.infra.conftest import TEST_CONFIG, Synthesized

pytestmark = pytest.mark.infra


def test_http_api_routes_v1_to_the_api_function(synth: Synthesized) -> None:
    synth.template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    (route,) = synth.resources("AWS::ApiGatewayV2::Route").values()
    assert route["Properties"]["RouteKey"] == f"ANY {API_ROUTE}"
    (integration,) = synth.resources("AWS::ApiGatewayV2::Integration").values()
    api_function = synth.logical_id(synth.stack.compute.functions["api"])
    assert integration["Properties"]["IntegrationUri"] == {"Fn::GetAtt": [api_function, "Arn"]}
    assert integration["Properties"]["PayloadFormatVersion"] == "2.0"
    (permission,) = [
        p
        for p in synth.resources("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [api_function, "Arn"]}
    ]
    assert permission["Properties"]["Principal"] == "apigateway.amazonaws.com"
    assert json.dumps(permission["Properties"]["SourceArn"]).endswith('"/*/*/v1/{proxy+}"]]}')


def test_api_answers_cors_preflights_for_the_configured_origins(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.api.http_api)["Properties"]
    cors = props["CorsConfiguration"]
    # The configured origins, then the web app's own (it is served by the distribution).
    assert cors["AllowOrigins"][: len(TEST_CONFIG.cors_allowed_origins)] == list(
        TEST_CONFIG.cors_allowed_origins
    )
    assert "authorization" in cors["AllowHeaders"]
    assert cors["AllowMethods"] == ["*"]


def test_default_stage_throttles_and_writes_json_access_logs(synth: Synthesized) -> None:
    (stage,) = synth.resources("AWS::ApiGatewayV2::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": TEST_CONFIG.api_rate_limit,
        "ThrottlingBurstLimit": TEST_CONFIG.api_burst_limit,
    }
    access = props["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.api.access_logs), "Arn"]}
    fields = json.loads(access["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert fields["status"] == "$context.status"
    access_logs = synth.resource(synth.stack.api.access_logs)["Properties"]
    assert access_logs["RetentionInDays"] == TEST_CONFIG.log_retention_days


def test_cloudfront_reads_the_outputs_bucket_through_origin_access_control(synth: Synthesized) -> None:
    config = synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"]
    bucket_id = synth.logical_id(synth.stack.storage.buckets[OUTPUTS_BUCKET.id])
    # The other origin is the web app's bucket (tests/infra/test_web.py).
    (origin,) = [
        o for o in config["Origins"] if o["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    ]
    assert origin["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]
    (oac_id,) = [
        oac_id
        for oac_id, oac in synth.resources("AWS::CloudFront::OriginAccessControl").items()
        if {"Fn::GetAtt": [oac_id, "Id"]} == origin["OriginAccessControlId"]
    ]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    oac = synth.json["Resources"][oac_id]["Properties"]["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"]) == ("s3", "always")
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_only_this_distribution_may_read_output_objects(synth: Synthesized) -> None:
    bucket_id = synth.logical_id(synth.stack.storage.buckets[OUTPUTS_BUCKET.id])
    (policy,) = [
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    distribution_id = synth.logical_id(synth.stack.delivery.distribution)
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    assert {"Ref": distribution_id} in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]


def test_behaviour_serves_immutable_images_over_https_only(synth: Synthesized) -> None:
    config = synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"]
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["CachePolicyId"] == {"Ref": synth.logical_id(synth.stack.delivery.cache_policy)}
    policy = synth.resource(synth.stack.delivery.cache_policy)["Properties"]["CachePolicyConfig"]
    assert policy["DefaultTTL"] == policy["MaxTTL"] == 365 * 86400
    key = policy["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"] == {"QueryStringBehavior": "none"}
    assert key["CookiesConfig"] == {"CookieBehavior": "none"}
    assert key["HeadersConfig"] == {"HeaderBehavior": "none"}
    assert config["Logging"]["Bucket"] == {
        "Fn::GetAtt": [synth.logical_id(synth.stack.storage.access_logs), "RegionalDomainName"]
    }
    assert "Aliases" not in config


def test_functions_get_the_distribution_domain_as_cdn_base_url(synth: Synthesized) -> None:
    for function in synth.stack.compute.functions.values():
        env = synth.resource(function)["Properties"]["Environment"]["Variables"]
        distribution_id = synth.logical_id(synth.stack.delivery.distribution)
        assert env["ROOMCRAFT_CDN_BASE_URL"] == {
            "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]
        }
