"""``roomcraft admin``: tenants, API keys, inbox writers and dead-letter redrive, on the local cloud
or on a deployment.

It talks to the DynamoDB tables directly, with the caller's AWS credentials; which tables it finds
from the target:

- ``--local`` / ``--endpoint-url URL``: a running ``roomcraft dev`` (its emulator; local table names);
- ``--stack NAME``: a deployment: the api function of that CloudFormation stack holds the table names
  in its environment (``ROOMCRAFT_*_TABLE``), so nothing else needs to be known;
- ``--function NAME``: the same, naming the api function directly;
- none of these: ``ROOMCRAFT_*`` environment variables, as the functions themselves read them.

Output is JSON, for people and for scripts alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from shared.domain.errors import RoomcraftError, ValidationFailed
from shared.domain.tenants import ApiKey, Limits, Tenant, TenantStatus
from shared.resources import GENERATE_QUEUE, QUEUES
from shared.services.tenancy import TenantAdmin
from shared.settings import Settings

LOCAL_EMULATOR_PORT = 8789
"""``roomcraft dev`` runs its emulator here, so ``roomcraft admin --local`` finds it."""
TABLES_PROBE = "ROOMCRAFT_TENANTS_TABLE"

EXIT_OK, EXIT_FAILED, EXIT_TARGET = 0, 1, 3


def add_admin_parser(commands: Any) -> None:
    admin = commands.add_parser("admin", help="manage tenants and API keys (local cloud or deployment)")
    target = admin.add_mutually_exclusive_group()
    target.add_argument(
        "--local",
        action="store_true",
        help=f"the running `roomcraft dev` (emulator port {LOCAL_EMULATOR_PORT})",
    )
    target.add_argument("--endpoint-url", help="an AWS API emulator at this URL (local table names)")
    target.add_argument("--stack", help="a deployed CloudFormation stack: tables from its api function")
    target.add_argument("--function", help="a deployed api function: tables from its environment")
    admin.add_argument("--region", help="AWS region of the deployment (default: your AWS configuration)")
    admin.set_defaults(run=run_admin)
    things = admin.add_subparsers(dest="thing", required=True)

    tenant = things.add_parser("tenant", help="tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="create a tenant")
    create.add_argument("name", help="a human name, e.g. 'Acme Homes'")
    create.add_argument("--id", dest="tenant_id", help="tenant id (tnt_…); default: a new tnt_<ULID>")
    _limit_options(create)
    tenant.add_parser("list", help="every tenant")
    update = tenant.add_parser("update", help="change a tenant's name, limits or status")
    update.add_argument("tenant_id")
    update.add_argument("--name")
    _limit_options(update)
    status = update.add_mutually_exclusive_group()
    status.add_argument("--disable", action="store_true", help="refuse its keys (403 tenant_disabled)")
    status.add_argument("--enable", action="store_true")

    key = things.add_parser("key", help="API keys").add_subparsers(dest="action", required=True)
    key_create = key.add_parser("create", help="a new key for a tenant (printed once, stored as a hash)")
    key_create.add_argument("tenant_id")
    key_create.add_argument("--name", default="default", help="what the key is for, e.g. 'web app'")
    key_list = key.add_parser("list", help="a tenant's keys, with last-used times")
    key_list.add_argument("tenant_id")
    key_revoke = key.add_parser("revoke", help="revoke a key: refused from the next request on")
    key_revoke.add_argument("key_id")

    writer = things.add_parser(
        "inbox-writer", help="IAM identities allowed to drop photos for a tenant (docs/inbox.md)"
    ).add_subparsers(dest="action", required=True)
    writer_role = writer.add_parser(
        "create-role", help="issue the tenant a role that may write under inbox/<tenant>/ only, and allow it"
    )
    writer_role.add_argument("tenant_id")
    writer_role.add_argument("--trust", required=True, help="account or role ARN that may assume the role")
    for action, text in (("allow", "allow an existing role or user"), ("revoke", "stop allowing one")):
        parser = writer.add_parser(action, help=text)
        parser.add_argument("tenant_id")
        parser.add_argument("writer", help="a role/user ARN, or its IAM unique id (AROA…/AIDA…)")
    redrive = things.add_parser(
        "redrive", help="move a queue's dead-lettered messages back to the queue (after fixing the cause)"
    )
    redrive.add_argument(
        "--queue",
        default=GENERATE_QUEUE.id,
        choices=[spec.id for spec in QUEUES],
        help=f"which queue (default: {GENERATE_QUEUE.id})",
    )
    redrive.add_argument("--max", type=int, default=1000, help="move at most this many messages")


def _limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--daily-designs", type=int, help="designs per UTC day (default: deployment's)")
    parser.add_argument("--requests-per-minute", type=int, help="API requests per minute")
    parser.add_argument(
        "--structure-threshold", type=float, help="structure score under which outputs are regenerated (0-1)"
    )
    parser.add_argument("--structure-retries", type=int, help="regenerations per variant under it (0-3)")


def function_environment(function_name: str, region: str | None) -> dict[str, str]:
    import boto3

    config = boto3.client("lambda", region_name=region).get_function_configuration(FunctionName=function_name)
    variables: dict[str, str] = config.get("Environment", {}).get("Variables", {})
    return variables


def stack_environment(stack_name: str, region: str | None) -> dict[str, str]:
    """The environment of the stack's function that knows the tenant tables (the api function)."""
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] != "AWS::Lambda::Function":
                continue
            variables = function_environment(resource["PhysicalResourceId"], region)
            if TABLES_PROBE in variables:
                return variables
    raise LookupError(f"no function in stack {stack_name} has {TABLES_PROBE} in its environment")


def target_settings(args: argparse.Namespace) -> Settings:
    """Settings that point at the target's tables (and at the emulator, for a local cloud)."""
    overrides: dict[str, Any] = {"AWS_REGION": args.region} if args.region else {}
    if args.local or args.endpoint_url:
        from shared.local.cloud import LOCAL_CREDENTIALS

        for name, value in LOCAL_CREDENTIALS.items():  # the emulator accepts any; boto3 wants some
            os.environ.setdefault(name, value)
        endpoint = args.endpoint_url or f"http://127.0.0.1:{LOCAL_EMULATOR_PORT}"
        return Settings(aws_endpoint_url=endpoint, **overrides)
    if args.stack:
        found = stack_environment(args.stack, args.region)
    elif args.function:
        found = function_environment(args.function, args.region)
    else:
        return Settings(**overrides)  # ROOMCRAFT_* from the environment
    fields: dict[str, Any] = {
        name.removeprefix("ROOMCRAFT_").lower(): value
        for name, value in found.items()
        if name.startswith("ROOMCRAFT_") and name.removeprefix("ROOMCRAFT_").lower() in Settings.model_fields
    }
    return Settings(**fields, **overrides)


def _tenant_json(tenant: Tenant) -> dict[str, Any]:
    return tenant.model_dump(mode="json")


def _key_json(key: ApiKey) -> dict[str, Any]:
    return key.model_dump(mode="json", exclude={"secret_hash"})


def _perform(admin: TenantAdmin, args: argparse.Namespace) -> Any:
    if args.thing == "tenant":
        if args.action == "create":
            limits = Limits(daily_designs=args.daily_designs, requests_per_minute=args.requests_per_minute)
            tenant = admin.create_tenant(args.name, tenant_id=args.tenant_id, limits=limits)
            if args.structure_threshold is not None or args.structure_retries is not None:
                tenant = admin.set_quality_policy(
                    tenant.tenant_id, threshold=args.structure_threshold, retries=args.structure_retries
                )
            return _tenant_json(tenant)
        if args.action == "list":
            return [_tenant_json(t) for t in admin.list_tenants()]
        status = TenantStatus.DISABLED if args.disable else TenantStatus.ACTIVE if args.enable else None
        updated = admin.update_tenant(
            args.tenant_id,
            name=args.name,
            status=status,
            daily_designs=args.daily_designs,
            requests_per_minute=args.requests_per_minute,
        )
        if args.structure_threshold is not None or args.structure_retries is not None:
            updated = admin.set_quality_policy(
                args.tenant_id, threshold=args.structure_threshold, retries=args.structure_retries
            )
        return _tenant_json(updated)
    if args.thing == "inbox-writer":
        return _inbox_writer(admin, args)
    if args.action == "create":
        key, token = admin.create_key(args.tenant_id, name=args.name)
        print("The API key is shown once and stored only as a hash: keep it now.", file=sys.stderr)
        return {**_key_json(key), "api_key": token}
    if args.action == "list":
        return [_key_json(k) for k in admin.list_keys(args.tenant_id)]
    return _key_json(admin.revoke_key(args.key_id))


def _inbox_writer(admin: TenantAdmin, args: argparse.Namespace) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    from shared.adapters.iam_inbox_writers import create_writer_role, unique_id_of

    try:
        if args.action == "create-role":
            admin.get_tenant(args.tenant_id)  # TenantNotFound before anything is made in IAM
            settings: Settings = args.settings
            arn, writer = create_writer_role(
                tenant_id=args.tenant_id,
                bucket=settings.inbox_bucket,
                stage=settings.stage,
                trusted=args.trust,
            )
            tenant = admin.allow_inbox_writer(args.tenant_id, writer)
            return {"role_arn": arn, "writer": writer, "tenant": _tenant_json(tenant)}
        writer = unique_id_of(args.writer) if args.writer.startswith("arn:") else args.writer
    except (ValueError, ClientError, BotoCoreError) as error:
        raise ValidationFailed(f"IAM: {error}") from None
    if args.action == "allow":
        return _tenant_json(admin.allow_inbox_writer(args.tenant_id, writer))
    return _tenant_json(admin.revoke_inbox_writer(args.tenant_id, writer))


def redrive(settings: Settings, queue_id: str, limit: int) -> dict[str, Any]:
    import boto3

    from shared.adapters.sqs import DeadLetterRedrive

    spec = next(spec for spec in QUEUES if spec.id == queue_id)
    queue_url = getattr(settings, spec.env_var.removeprefix("ROOMCRAFT_").lower(), "")
    if not queue_url:
        raise LookupError(f"the target names no {spec.env_var}")
    sqs = boto3.client("sqs", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    dead_letters, moved = DeadLetterRedrive(sqs, queue_url).move(limit=limit)
    return {"queue": spec.id, "queue_url": queue_url, "dead_letter_queue_url": dead_letters, "moved": moved}


def run_admin(args: argparse.Namespace) -> int:
    from shared.adapters.dynamodb_tenancy import ApiKeyRepository, TenantRepository

    try:
        settings = target_settings(args)
    except Exception as error:
        print(f"error: cannot find the deployment's tables: {error}", file=sys.stderr)
        return EXIT_TARGET
    if args.thing == "redrive":
        try:
            moved = redrive(settings, args.queue, args.max)
        except Exception as error:
            print(f"error: redrive_failed: {error}", file=sys.stderr)
            return EXIT_FAILED
        print(json.dumps(moved, indent=2))
        return EXIT_OK
    admin = TenantAdmin(tenants=TenantRepository(settings), keys=ApiKeyRepository(settings))
    args.settings = settings
    try:
        result = _perform(admin, args)
    except RoomcraftError as error:
        print(f"error: {error.code}: {error.message}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(result, indent=2))
    return EXIT_OK
