"""``python -m inference serve`` (the SageMaker ``serve`` entry point) and ``roomcraft inference serve``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from inference.options import SAGEMAKER_MODEL_DIR, add_serve_options


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from inference.model import Loader, load_from_hub, load_model_dir, pick_device
    from inference.server import ModelServer, ServerConfig, create_app

    device = pick_device(args.device, args.precision)
    loader: Loader
    if args.tiny_random:
        from inference.tiny import tiny_random_model

        loader, what = partial(tiny_random_model, device), "a tiny RANDOM model (noise, not staging)"
    elif args.hub:
        loader, what = partial(load_from_hub, device), "the model from the Hugging Face Hub"
    else:
        folder = Path(args.model_dir or os.environ.get("SM_MODEL_DIR", SAGEMAKER_MODEL_DIR))
        loader, what = partial(load_model_dir, folder, device), f"the model in {folder}"
    server = ModelServer(
        loader, ServerConfig(queue_size=args.queue_size, request_timeout_seconds=args.timeout)
    )
    server.start()
    print(
        f"Roomcraft model server: loading {what} on {device.name} ({device.dtype_name}); "
        f"http://{args.host}:{args.port}/ping answers 200 when ready",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(create_app(server), host=args.host, port=args.port, log_level="warning")
    finally:
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the model server (SageMaker's `serve`)")
    add_serve_options(serve_parser)
    args = parser.parse_args(argv)
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
