"""``roomcraft``: stage a photo on the embedded local cloud, or keep the local cloud running."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

SAMPLE_PHOTO = Path(__file__).parent / "local" / "sample_room.jpg"

EXIT_OK, EXIT_DESIGN_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3


def _say(message: str) -> None:
    print(message, flush=True)


def _progress_line(design: dict[str, Any]) -> None:
    eta = f", eta {design['eta']}" if design.get("eta") else ""
    _say(f"  {design['status']:<11} {design['progress'] * 100:5.1f}%{eta}")


def stage(args: argparse.Namespace) -> int:
    from shared.local.client import ApiError, RoomcraftClient

    photo = Path(args.photo)
    if not photo.is_file():
        _say(f"error: no such photo: {photo}")
        return EXIT_USAGE
    with ExitStack() as stack:
        api_url = args.api_url
        api_key = args.api_key or os.environ.get("ROOMCRAFT_API_KEY")
        if api_url is None:
            from shared.local.cloud import LocalCloud

            _say("Starting the embedded local cloud (moto server, API, queue pollers)…")
            started = time.monotonic()
            settings = {"ROOMCRAFT_PROVIDER": args.provider} if args.provider else {}
            try:
                cloud = stack.enter_context(LocalCloud(settings=settings))
            except Exception as error:
                _say(f"error: the local cloud did not start: {error}")
                return EXIT_ENVIRONMENT
            api_url = cloud.api_url
            api_key = cloud.api_key  # the local cloud's development tenant
            _say(f"  ready in {time.monotonic() - started:.1f} s: API {api_url}, emulator {cloud.moto.url}")
        client = RoomcraftClient(api_url, api_key=api_key)
        stack.callback(client.close)
        try:
            _say(f"Uploading {photo}…")
            upload_id = client.upload(photo)
            design = client.create_design(
                upload_id=upload_id,
                room_type=args.room_type,
                style=args.style,
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
        out_dir = Path(args.out) / design["id"]
        files = client.download_outputs(design, out_dir)
        (out_dir / "design.json").write_text(json.dumps(design, indent=2))
        _say(f"Succeeded in {design.get('provider_seconds') or 0:.2f} s of provider time. Results:")
        for output in design["outputs"]:
            marker = " (PREVIEW: offline provider, not a real model)" if output["preview"] else ""
            _say(f"  variant {output['index']}: {output['url']}{marker}")
        for path in files:
            _say(f"  wrote {path}")
        _say(f"  wrote {out_dir / 'design.json'}")
    return EXIT_OK


def demo(args: argparse.Namespace) -> int:
    args.photo = str(SAMPLE_PHOTO)
    return stage(args)


def dev(args: argparse.Namespace) -> int:
    from shared.admin_cli import LOCAL_EMULATOR_PORT
    from shared.local.cloud import LocalCloud
    from shared.settings import get_settings

    stopping = False

    def _stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _stop)
    with LocalCloud(api_port=args.port, emulator_port=args.emulator_port) as cloud:
        _say(f"Roomcraft local cloud is up.\n  API      {cloud.api_url}/v1\n  Docs     {cloud.api_url}/docs")
        tenant = get_settings().default_tenant
        _say(f"  API key  {cloud.api_key}  (Authorization: Bearer …, tenant {tenant})")
        target = "--local" if cloud.moto.port == LOCAL_EMULATOR_PORT else f"--endpoint-url {cloud.moto.url}"
        _say(f"  Admin    uv run roomcraft admin {target} key list {tenant}")
        _say(f"  Emulator {cloud.moto.url} (AWS_ENDPOINT_URL for the aws CLI)\nPress Ctrl-C to stop.")
        try:
            while not stopping:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        _say("Stopping…")
    return EXIT_OK


def _add_brief_options(parser: argparse.ArgumentParser, *, room_type: str, style: str, variants: int) -> None:
    parser.add_argument("--room-type", default=room_type, help=f"room type id (default {room_type})")
    parser.add_argument("--style", default=style, help=f"style id (default {style}); see GET /v1/styles")
    parser.add_argument("--palette", help='comma-separated hex colours, e.g. "#f5f0e6,#8a9a5b"')
    parser.add_argument("--prompt", help="free text added to the brief")
    parser.add_argument("--variants", type=int, default=variants, help="how many images (1-4)")
    parser.add_argument("--seed", type=int, help="seed for reproducible results")
    parser.add_argument("--provider", help="inference provider (default: preview when none is configured)")
    parser.add_argument("--out", default="roomcraft-output", help="folder for the results")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the design")
    parser.add_argument("--api-url", help="use a running Roomcraft API instead of starting a local cloud")
    parser.add_argument("--api-key", help="API key for --api-url (default: $ROOMCRAFT_API_KEY)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="roomcraft", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stage_parser = commands.add_parser("stage", help="stage one room photo end to end")
    stage_parser.add_argument("photo", help="path to a room photo (JPEG, PNG or WebP)")
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
    from shared.admin_cli import LOCAL_EMULATOR_PORT, add_admin_parser

    dev_parser.add_argument(
        "--emulator-port",
        type=int,
        default=LOCAL_EMULATOR_PORT,
        help=f"AWS API emulator port (default {LOCAL_EMULATOR_PORT}; `roomcraft admin --local` looks there)",
    )
    dev_parser.set_defaults(run=dev)
    add_admin_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
