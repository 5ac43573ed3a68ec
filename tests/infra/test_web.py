"""Web: the reference web app at /app/ on the same CloudFront distribution, from its own private bucket."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.constructs import web
from infra.constructs.web import INDEX_FUNCTION, WebBuildError, WebBundler
from shared.resources import UPLOADS_BUCKET
from tests.infra.conftest import TEST_CONFIG, Synthesized

pytestmark = pytest.mark.infra

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""CloudFront's managed CachingOptimized policy."""


def behaviors(synth: Synthesized) -> dict[str, dict[str, Any]]:
    config = synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"]
    return {b["PathPattern"]: b for b in config["CacheBehaviors"] if b["PathPattern"].startswith("/app")}


def web_origin(synth: Synthesized) -> dict[str, Any]:
    config = synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"]
    bucket = synth.logical_id(synth.stack.web.bucket)
    (origin,) = [
        o for o in config["Origins"] if o["DomainName"] == {"Fn::GetAtt": [bucket, "RegionalDomainName"]}
    ]
    return dict(origin)


def test_web_bucket_is_private_encrypted_tls_only_and_logged(synth: Synthesized) -> None:
    resource = synth.resource(synth.stack.web.bucket)
    props = resource["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": synth.logical_id(synth.stack.storage.access_logs)},
        "LogFilePrefix": "s3/web/",
    }
    assert resource["DeletionPolicy"] == "Retain"


def test_only_the_distribution_may_read_the_web_bucket(synth: Synthesized) -> None:
    bucket = synth.logical_id(synth.stack.web.bucket)
    (policy,) = [
        p
        for p in synth.resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    distribution = synth.logical_id(synth.stack.delivery.distribution)
    assert {"Ref": distribution} in allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert any("aws:SecureTransport" in json.dumps(s) for s in denies)


def test_app_paths_go_to_the_web_bucket_through_origin_access_control(synth: Synthesized) -> None:
    origin = web_origin(synth)
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "OriginAccessControlId" in origin
    found = behaviors(synth)
    # CloudFront takes the first match: the hashed assets come before the catch-all.
    assert list(found) == ["/app/assets/*", "/app/*", "/app"]
    function = synth.logical_id(synth.stack.web.index_function)
    for pattern, behavior in found.items():
        assert behavior["TargetOriginId"] == origin["Id"]
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["AllowedMethods"] == ["GET", "HEAD"]
        assert behavior["CachePolicyId"] == CACHING_OPTIMIZED
        assert behavior["Compress"] is True
        expected = (
            []
            if pattern == "/app/assets/*"
            else [{"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [function, "FunctionARN"]}}]
        )
        assert behavior.get("FunctionAssociations", []) == expected
    default = synth.resource(synth.stack.delivery.distribution)["Properties"]["DistributionConfig"][
        "DefaultCacheBehavior"
    ]
    assert default["TargetOriginId"] != origin["Id"], "images stay on the outputs bucket"


def assert_strict_policy(header: dict[str, Any]) -> None:
    """Issue 13: the API key sits in localStorage, so the page's scripts and connections are pinned."""
    assert header["Override"] is True
    text = json.dumps(header["ContentSecurityPolicy"])  # a join: S3's endpoints carry the region
    for must in (
        "default-src 'self';",
        "script-src 'self';",  # and nothing else: no inline, no eval, no other host
        "object-src 'none';",
        "base-uri 'self';",
        "frame-ancestors 'none'",
        "connect-src 'self' https://*.s3.",  # the API is on this origin; photos go to S3
    ):
        assert must in text
    assert "'unsafe-eval'" not in text
    assert "https:;" not in text, "no scheme-wide source"
    assert "https: " not in text, "no scheme-wide source"


def test_browsers_keep_hashed_assets_and_revalidate_pages(synth: Synthesized) -> None:
    found = behaviors(synth)

    def headers(pattern: str) -> dict[str, Any]:
        policy_id = found[pattern]["ResponseHeadersPolicyId"]["Ref"]
        return dict(synth.json["Resources"][policy_id]["Properties"]["ResponseHeadersPolicyConfig"])

    def cache_control(pattern: str) -> str:
        (header,) = headers(pattern)["CustomHeadersConfig"]["Items"]
        assert (header["Header"], header["Override"]) == ("Cache-Control", True)
        return str(header["Value"])

    assert cache_control("/app/assets/*") == "public, max-age=31536000, immutable"
    assert cache_control("/app/*") == cache_control("/app") == "no-cache"
    for pattern in found:
        security = headers(pattern)["SecurityHeadersConfig"]
        assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
        assert security["ContentTypeOptions"] == {"Override": True}
        assert_strict_policy(security["ContentSecurityPolicy"])
        assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 365 * 86400
        assert security["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"


def test_index_function_serves_directories_and_redirects_the_bare_path(synth: Synthesized) -> None:
    props = synth.resource(synth.stack.web.index_function)["Properties"]
    assert props["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert props["AutoPublish"] is True
    node = shutil.which("node")
    assert node, "the CDK needs Node.js, so it is here"
    script = (
        f"{INDEX_FUNCTION}\n"
        "const uris = ['/app', '/app/', '/app/assets/index-1.js', '/app/config.json'];\n"
        "console.log(JSON.stringify(uris.map((uri) => handler({ request: { uri } }))));"
    )
    run = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    bare, root, asset, config = json.loads(run.stdout)
    assert bare["statusCode"] == 301
    assert bare["headers"]["location"]["value"] == "/app/"
    assert root == {"uri": "/app/index.html"}
    assert asset == {"uri": "/app/assets/index-1.js"}
    assert config == {"uri": "/app/config.json"}


def test_deployment_copies_the_build_and_writes_config_json_with_the_api_url(synth: Synthesized) -> None:
    (deployment,) = synth.resources("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {"Ref": synth.logical_id(synth.stack.web.bucket)}
    assert props["DestinationBucketKeyPrefix"] == "app/"
    assert props["Prune"] is False, "pages loaded before a deployment keep their assets"
    assert props["DistributionId"] == {"Ref": synth.logical_id(synth.stack.delivery.distribution)}
    assert props["DistributionPaths"] == ["/app/*", "/app"]
    assert len(props["SourceObjectKeys"]) == 2  # the build, and config.json
    (markers,) = [m for m in props["SourceMarkers"] if m]
    (api_url,) = markers.values()
    # The API through CloudFront and its WAF (/v1/* on the same distribution), not execute-api.
    distribution = synth.logical_id(synth.stack.delivery.distribution)
    assert {"Fn::GetAtt": [distribution, "DomainName"]} in api_url["Fn::Join"][1]
    assert synth.logical_id(synth.stack.api.http_api) not in json.dumps(api_url)
    assert "apiKey" not in json.dumps(props), "config.json is public: no key goes in it"
    logs = synth.resource(synth.stack.web.deployment_logs)
    assert logs["Properties"]["RetentionInDays"] == TEST_CONFIG.log_retention_days


def test_restricted_cors_origins_still_admit_the_web_app(synth: Synthesized) -> None:
    app_origin = {
        "Fn::Join": [
            "",
            ["https://", {"Fn::GetAtt": [synth.logical_id(synth.stack.delivery.distribution), "DomainName"]}],
        ]
    }
    # The app calls the API on its own origin (/v1/* on the distribution): the API's CORS lists
    # only the configured origins; the app posts photos to the uploads bucket from its origin.
    api_cors = synth.resource(synth.stack.api.http_api)["Properties"]["CorsConfiguration"]
    assert api_cors["AllowOrigins"] == list(TEST_CONFIG.cors_allowed_origins)
    uploads = synth.resource(synth.stack.storage.buckets[UPLOADS_BUCKET.id])["Properties"]
    (rule,) = uploads["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == [app_origin, *TEST_CONFIG.cors_allowed_origins]


def test_stack_outputs_the_app_url(synth: Synthesized) -> None:
    output = synth.json["Outputs"]["AppUrl"]
    distribution = synth.logical_id(synth.stack.delivery.distribution)
    assert output["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}, "/app/"]]
    }


# ---- building the app at synth time (no synth needed) ----


def _fake_npm(bin_dir: Path, log: Path) -> None:
    """An ``npm`` that records its arguments and writes a build like Vite's."""
    script = bin_dir / "npm"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        'if [ "$1" = "run" ]; then\n'
        "  mkdir -p dist/assets\n"
        "  echo '<!doctype html>' > dist/index.html\n"
        "  echo 'js' > dist/assets/index-abc.js\n"
        "  echo 'map' > dist/assets/index-abc.js.map\n"
        "  echo '{}' > dist/config.json\n"
        "fi\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_bundler_installs_when_needed_builds_and_copies_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, web_dir, out = tmp_path / "bin", tmp_path / "web", tmp_path / "out"
    for folder in (bin_dir, web_dir, out):
        folder.mkdir()
    log = tmp_path / "npm.log"
    _fake_npm(bin_dir, log)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    assert WebBundler(web_dir).try_bundle(str(out)) is True
    assert log.read_text().splitlines() == ["ci --no-audit --no-fund", "run build"]
    copied = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # Source maps stay home; config.json comes from the deployment, never from the build.
    assert copied == ["assets/index-abc.js", "index.html"]

    (web_dir / "node_modules").mkdir()
    log.write_text("")
    WebBundler(web_dir).try_bundle(str(out))
    assert log.read_text().splitlines() == ["run build"]


def test_bundler_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web.shutil, "which", lambda _: None)
    with pytest.raises(WebBuildError, match="npm not found"):
        WebBundler(tmp_path).try_bundle(str(tmp_path))


def test_bundler_reports_a_failed_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text("#!/bin/sh\necho 'src/main.ts(1,1): error TS2304' >&2\nexit 2\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    (tmp_path / "node_modules").mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(WebBuildError, match=r"(?s)run build.*failed.*TS2304"):
        WebBundler(tmp_path).try_bundle(str(tmp_path / "out"))
