"""``roomcraft``: stage a photo on the embedded local cloud, or keep the local cloud running."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

SAMPLE_PHOTO = Path(__file__).parent / "local" / "sample_room.jpg"
DEFAULT_INBOX = "roomcraft-local-inbox"

EXIT_OK, EXIT_DESIGN_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3


def _say(message: str) -> None:
    print(message, flush=True)


def _progress_line(design: dict[str, Any]) -> None:
    eta = f", eta {design['eta']}" if design.get("eta") else ""
    _say(f"  {design['status']:<11} {design['progress'] * 100:5.1f}%{eta}")


MAX_BATCH = 50
"""``POST /v1/batches`` takes up to this many designs."""


def stage(args: argparse.Namespace) -> int:
    from shared.local.client import ApiError, RoomcraftClient

    photos = [Path(p) for p in args.photo]
    styles = [s.strip() for s in args.style.split(",") if s.strip()]
    for photo in photos:
        if not photo.is_file():
            _say(f"error: no such photo: {photo}")
            return EXIT_USAGE
    if not styles:
        _say("error: --style names no style")
        return EXIT_USAGE
    if len(photos) * len(styles) > MAX_BATCH:
        _say(f"error: {len(photos)} photo(s) x {len(styles)} style(s) is over {MAX_BATCH} designs")
        return EXIT_USAGE
    overrides = _provider_overrides(args)
    if args.api_url is None and args.provider:
        # The local cloud runs the provider here: check its configuration before uploading anything.
        from shared.providers.registry import missing_configuration
        from shared.settings import Settings

        url = overrides.get("ROOMCRAFT_INFERENCE_URL")
        missing = missing_configuration(args.provider, Settings(inference_url=url) if url else Settings())
        if missing:
            _say(f"error: {missing}")
            return EXIT_ENVIRONMENT
    with ExitStack() as stack:
        api_url = args.api_url
        api_key = args.api_key or os.environ.get("ROOMCRAFT_API_KEY")
        if api_url is None:
            from shared.local.cloud import LocalCloud

            _say("Starting the embedded local cloud (moto server, API, queue pollers)…")
            started = time.monotonic()
            try:
                cloud = stack.enter_context(LocalCloud(settings=overrides))
            except Exception as error:
                _say(f"error: the local cloud did not start: {error}")
                return EXIT_ENVIRONMENT
            api_url = cloud.api_url
            api_key = cloud.api_key  # the local cloud's development tenant
            _say(f"  ready in {time.monotonic() - started:.1f} s: API {api_url}, emulator {cloud.moto.url}")
        client = RoomcraftClient(api_url, api_key=api_key)
        stack.callback(client.close)
        if len(photos) * len(styles) > 1:
            return _stage_batch(client, photos, styles, args)
        photo = photos[0]
        try:
            _say(f"Uploading {photo}…")
            upload_id = client.upload(photo)
            design = client.create_design(
                upload_id=upload_id,
                room_type=args.room_type,
                style=styles[0],
                palette=args.palette,
                prompt=args.prompt,
                variants=args.variants,
                seed=args.seed,
                provider=args.provider,
            )
            _say(f"Design {design['id']} accepted ({design['provider']} provider)")
            design = client.wait(design["id"], timeout=args.timeout, on_update=_progress_line)
        except ApiError as error:
            _say(f"error: {error}")
            return EXIT_DESIGN_FAILED
        except TimeoutError as error:
            _say(f"error: {error}")
            return EXIT_DESIGN_FAILED
        if design["status"] != "succeeded":
            problem = design.get("error") or {}
            _say(f"error: design {design['status']}: {problem.get('code')}: {problem.get('message')}")
            return EXIT_DESIGN_FAILED
        _say(f"Succeeded in {design.get('provider_seconds') or 0:.2f} s of provider time. Results:")
        _save_results(client, design, Path(args.out) / design["id"])
    return EXIT_OK


def _provider_overrides(args: argparse.Namespace) -> dict[str, str]:
    """Environment for the local cloud's worker: the chosen provider and where its model server is."""
    overrides = {"ROOMCRAFT_PROVIDER": args.provider} if args.provider else {}
    if getattr(args, "inference_url", None):
        overrides["ROOMCRAFT_INFERENCE_URL"] = args.inference_url
    return overrides


def inference_serve(args: argparse.Namespace) -> int:
    import importlib.util

    missing = [
        name for name in ("torch", "diffusers", "transformers", "numpy") if not importlib.util.find_spec(name)
    ]
    if missing:
        _say(
            f"error: the model server needs its dependency group ({', '.join(missing)}): "
            "make install-inference"
        )
        return EXIT_ENVIRONMENT
    from inference.__main__ import serve

    return serve(args)


def _save_results(client: Any, design: dict[str, Any], out_dir: Path) -> None:
    files = client.download_outputs(design, out_dir)
    (out_dir / "design.json").write_text(json.dumps(design, indent=2))
    for output in design["outputs"]:
        marker = " (PREVIEW: offline provider, not a real model)" if output["preview"] else ""
        _say(f"  variant {output['index']}: {output['url']}{marker}")
    for path in files:
        _say(f"  wrote {path}")
    _say(f"  wrote {out_dir / 'design.json'}")


def _stage_batch(client: Any, photos: list[Path], styles: list[str], args: argparse.Namespace) -> int:
    """Several photos and/or styles: one batch (all designs or none against the quota)."""
    from shared.local.client import ApiError

    try:
        uploads = []
        for photo in photos:
            _say(f"Uploading {photo}…")
            uploads.append(client.upload(photo))
        brief = {
            "room_type": args.room_type,
            "palette": args.palette,
            "prompt": args.prompt,
            "variants": args.variants,
            "seed": args.seed,
            "provider": args.provider,
        }
        batch = client.create_batch(
            defaults={k: v for k, v in brief.items() if v is not None},
            designs=[{"upload_id": u, "style": style} for u in uploads for style in styles],
        )
        _say(f"Batch {batch['id']} accepted: {batch['total']} designs")
        batch = client.wait_batch(batch["id"], timeout=args.timeout, on_update=_batch_progress_line)
    except (ApiError, TimeoutError) as error:
        _say(f"error: {error}")
        return EXIT_DESIGN_FAILED
    out_root = Path(args.out) / batch["id"]
    failed = 0
    for view in batch["designs"]:
        name = f"{view['brief']['style']} ({view['id']})"
        if view["status"] != "succeeded":
            failed += 1
            problem = view.get("error") or {}
            _say(f"{name}: {view['status']}: {problem.get('code')}: {problem.get('message')}")
            continue
        _say(f"{name}: succeeded")
        _save_results(client, client.get_design(view["id"]), out_root / view["id"])
    (out_root / "batch.json").parent.mkdir(parents=True, exist_ok=True)
    (out_root / "batch.json").write_text(json.dumps(batch, indent=2))
    _say(f"  wrote {out_root / 'batch.json'}")
    if failed:
        _say(f"error: {failed} of {batch['total']} designs did not succeed")
        return EXIT_DESIGN_FAILED
    return EXIT_OK


def _batch_progress_line(batch: dict[str, Any]) -> None:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(batch["counts"].items()) if n)
    eta = f", eta {batch['eta']}" if batch.get("eta") else ""
    _say(f"  {batch['finished']}/{batch['total']} finished, {batch['progress'] * 100:5.1f}% ({counts}){eta}")


def demo(args: argparse.Namespace) -> int:
    args.photo = [str(SAMPLE_PHOTO)]
    return stage(args)


def dev(args: argparse.Namespace) -> int:
    from shared.admin_cli import LOCAL_EMULATOR_PORT
    from shared.local.cloud import LocalCloud
    from shared.settings import get_settings

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    ports = {
        "--port (API)": args.port,
        "--cdn-port (CDN)": args.cdn_port,
        "--emulator-port": args.emulator_port,
    }
    for option, port in ports.items():
        if not port_is_free(port):
            _say(
                f"error: port {port} on 127.0.0.1 is already in use ({option}): "
                "stop what uses it, or pick another"
            )
            return EXIT_ENVIRONMENT
    # Explicit handlers: Ctrl-C and `kill` both stop cleanly, even where SIGINT was inherited ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    cloud = LocalCloud(
        api_port=args.port,
        cdn_port=args.cdn_port,
        emulator_port=args.emulator_port,
        settings=_provider_overrides(args),
    )
    try:
        cloud.start()
    except Exception as error:  # a port taken between the check and the start, an emulator that died
        cloud.stop()
        _say(f"error: the local cloud did not start: {error}")
        return EXIT_ENVIRONMENT
    with cloud_stopped_after(cloud):
        _say(f"Roomcraft local cloud is up.\n  API      {cloud.api_url}/v1\n  Docs     {cloud.api_url}/docs")
        _say(
            "  Note     nothing is kept across restarts: tenants, keys, designs and images live in the\n"
            "           emulator's memory and are gone when this stops (README, 'Use it')."
        )
        tenant = get_settings().default_tenant
        _say(f"  API key  {cloud.api_key}  (Authorization: Bearer …, tenant {tenant})")
        target = "--local" if cloud.moto.port == LOCAL_EMULATOR_PORT else f"--endpoint-url {cloud.moto.url}"
        _say(f"  Admin    uv run roomcraft admin {target} key list {tenant}")
        if cloud.app_url:
            _say(f"  App      {cloud.app_url}")
            if args.open:
                import webbrowser

                webbrowser.open(cloud.app_url)
        else:
            _say("  App      not built yet: cd web && npm ci && npm run build, then restart (docs/webapp.md)")
        _say(f"  Emulator {cloud.moto.url} (AWS_ENDPOINT_URL for the aws CLI)")
        inbox = f"s3://{cloud.env['ROOMCRAFT_INBOX_BUCKET']}/inbox/{tenant}/"
        _say(f"  Inbox    {inbox} (roomcraft inbox drop --endpoint-url {cloud.moto.url} ...)")
        _say("Press Ctrl-C to stop.")
        while not stopping:
            time.sleep(0.2)
        _say("Stopping…")
    return EXIT_OK


def port_is_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port whose last connections are still closing (TIME_WAIT) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def cloud_stopped_after(cloud: Any) -> Iterator[Any]:
    try:
        yield cloud
    finally:
        cloud.stop()


def inbox_drop(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from shared.local.drop import metadata_of, plan_drop, s3_client, upload, wait_for_results

    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _say(f"error: no such file or folder: {', '.join(missing)}")
        return EXIT_USAGE
    files = plan_drop(paths, tenant=args.tenant, folder=args.folder)
    photos = [f for f in files if not f.options_file]
    if not photos:
        _say("error: nothing to drop (only options files or hidden files)")
        return EXIT_USAGE
    bucket = args.bucket or os.environ.get("ROOMCRAFT_INBOX_BUCKET") or DEFAULT_INBOX
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    s3 = s3_client(endpoint)
    metadata = metadata_of(
        {
            "room_type": args.room_type,
            "style": args.style,
            "palette": args.palette,
            "prompt": args.prompt,
            "variants": args.variants,
            "seed": args.seed,
        }
    )
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    _say(
        f"Dropping {len(photos)} photo(s) and {len(files) - len(photos)} options file(s) into s3://{bucket}/…"
    )
    try:
        upload(s3, bucket, files, metadata)
    except Exception as error:
        _say(f"error: upload failed: {error}")
        return EXIT_ENVIRONMENT
    for file in files:
        _say(f"  {file.local} -> {file.key}")
    if not args.wait:
        return EXIT_OK
    _say("Waiting for results in the outbox…")
    failures = 0

    def show(photo: Any, key: str, result: dict[str, Any]) -> None:
        nonlocal failures
        if key.endswith(".error.json") or result.get("status") != "succeeded":
            failures += 1
            error = result.get("error") or result
            status = result.get("status", "refused")
            _say(f"  {photo.key}: {status}: {error.get('code')}: {error.get('message')}")
        else:
            _say(
                f"  {photo.key}: succeeded, design {result['design_id']}, results in {key.rsplit('/', 1)[0]}/"
            )

    results = wait_for_results(s3, bucket, photos, since=since, timeout=args.timeout, on_result=show)
    if len(results) < len(photos):
        _say(f"error: {len(photos) - len(results)} photo(s) had no result within {args.timeout:.0f} s")
        return EXIT_DESIGN_FAILED
    return EXIT_DESIGN_FAILED if failures else EXIT_OK


def _add_brief_options(parser: argparse.ArgumentParser, *, room_type: str, style: str, variants: int) -> None:
    parser.add_argument("--room-type", default=room_type, help=f"room type id (default {room_type})")
    parser.add_argument(
        "--style",
        default=style,
        help=f"style id (default {style}), or several separated by commas for a batch; see GET /v1/styles",
    )
    parser.add_argument("--palette", help='comma-separated hex colours, e.g. "#f5f0e6,#8a9a5b"')
    parser.add_argument("--prompt", help="free text added to the brief")
    parser.add_argument("--variants", type=int, default=variants, help="how many images (1-4)")
    parser.add_argument("--seed", type=int, help="seed for reproducible results")
    parser.add_argument("--provider", help="inference provider (default: preview when none is configured)")
    parser.add_argument("--out", default="roomcraft-output", help="folder for the results")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the design")
    parser.add_argument("--api-url", help="use a running Roomcraft API instead of starting a local cloud")
    parser.add_argument("--api-key", help="API key for --api-url (default: $ROOMCRAFT_API_KEY)")
    parser.add_argument(
        "--inference-url",
        help="model server of --provider selfhosted, e.g. http://127.0.0.1:8080 (roomcraft inference serve)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roomcraft", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stage_parser = commands.add_parser(
        "stage", help="stage a room photo end to end (several photos or styles: one batch)"
    )
    stage_parser.add_argument(
        "photo", nargs="+", help="room photo(s): JPEG, PNG, WebP, HEIC, AVIF, GIF, TIFF or BMP"
    )
    _add_brief_options(stage_parser, room_type="living_room", style="scandinavian", variants=1)
    stage_parser.set_defaults(run=stage)

    demo_parser = commands.add_parser("demo", help="stage the bundled sample living room")
    _add_brief_options(demo_parser, room_type="living_room", style="scandinavian", variants=2)
    demo_parser.set_defaults(run=demo, seed=7)

    from shared.local.cloud import DEFAULT_API_PORT

    dev_parser = commands.add_parser("dev", help="run the local cloud and the API until Ctrl-C")
    dev_parser.add_argument(
        "--port", type=int, default=DEFAULT_API_PORT, help=f"API port (default {DEFAULT_API_PORT})"
    )
    dev_parser.add_argument(
        "--cdn-port",
        type=int,
        default=DEFAULT_API_PORT + 1,
        help=f"local CDN port, which also serves the web app at /app/ (default {DEFAULT_API_PORT + 1})",
    )
    dev_parser.add_argument("--open", action="store_true", help="open the web app in a browser")
    dev_parser.add_argument("--provider", help="inference provider of the worker (default: preview)")
    dev_parser.add_argument("--inference-url", help="the model server of --provider selfhosted")
    from shared.admin_cli import LOCAL_EMULATOR_PORT, add_admin_parser

    dev_parser.add_argument(
        "--emulator-port",
        type=int,
        default=LOCAL_EMULATOR_PORT,
        help=f"AWS API emulator port (default {LOCAL_EMULATOR_PORT}; `roomcraft admin --local` looks there)",
    )
    dev_parser.set_defaults(run=dev)

    inbox_parser = commands.add_parser(
        "inbox", help="the S3 inbox: stage photos by dropping them in a bucket"
    )
    inbox_commands = inbox_parser.add_subparsers(dest="inbox_command", required=True)
    drop_parser = inbox_commands.add_parser(
        "drop", help="copy photos (and their .json options files) into a tenant's inbox folder"
    )
    drop_parser.add_argument("paths", nargs="+", help="photos, options files or folders (copied recursively)")
    drop_parser.add_argument("--folder", default="", help="inbox folder to drop into, e.g. listing-42")
    drop_parser.add_argument("--tenant", default="tnt_default", help="tenant id (default tnt_default)")
    drop_parser.add_argument(
        "--bucket", help=f"inbox bucket (default $ROOMCRAFT_INBOX_BUCKET or {DEFAULT_INBOX})"
    )
    drop_parser.add_argument(
        "--endpoint-url",
        help="S3 endpoint: the emulator URL `roomcraft dev` prints (default $AWS_ENDPOINT_URL)",
    )
    drop_parser.add_argument("--room-type", help="room type id, as x-amz-meta-room-type")
    drop_parser.add_argument("--style", help="style id, as x-amz-meta-style")
    drop_parser.add_argument("--palette", help='hex colours separated by spaces, e.g. "#f5f0e6 #8a9a5b"')
    drop_parser.add_argument("--prompt", help="free text added to the brief (ASCII; use a sidecar otherwise)")
    drop_parser.add_argument("--variants", type=int, help="how many images per photo (1-4)")
    drop_parser.add_argument("--seed", type=int, help="seed for reproducible results")
    drop_parser.add_argument(
        "--wait", action="store_true", help="wait for each photo's manifest or error report"
    )
    drop_parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait with --wait")
    drop_parser.set_defaults(run=inbox_drop)
    inference_parser = commands.add_parser("inference", help="Roomcraft's own model server (inference/)")
    inference_commands = inference_parser.add_subparsers(dest="inference_command", required=True)
    serve_parser = inference_commands.add_parser(
        "serve",
        help="serve the staging model on :8080 for --provider selfhosted (make install-inference first)",
    )
    from inference.options import add_serve_options

    add_serve_options(serve_parser)
    serve_parser.set_defaults(run=inference_serve)
    score_parser = commands.add_parser(
        "score", help="structure-preservation score of an output against its room photo (docs/quality.md)"
    )
    score_parser.add_argument("before", help="the room photo (or the prepared model input)")
    score_parser.add_argument("after", help="the generated image")
    score_parser.add_argument("--json", action="store_true", help="print every part of the score as JSON")
    score_parser.set_defaults(run=score)
    add_admin_parser(commands)
    return parser


def score(args: argparse.Namespace) -> int:
    """Print the structure score of AFTER against BEFORE: 0 when both images were read, 2 otherwise."""
    from shared.domain.errors import RoomcraftError
    from shared.imaging.structure import structure_score

    try:
        before, after = Path(args.before).read_bytes(), Path(args.after).read_bytes()
        result = structure_score(before, after)
    except (OSError, RoomcraftError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(result.as_dict(), indent=2) if args.json else f"{result.score:.3f}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    # Before any import makes a logger: the local cloud runs the handlers in this process, and
    # their INFO lines would bury the command's own output (POWERTOOLS_LOG_LEVEL=INFO shows them).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
