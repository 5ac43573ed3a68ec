"""Command-line options of the model server, importable without torch (the roomcraft CLI builds its
parser from them even where the inference group is not installed)."""

from __future__ import annotations

import argparse
import os

SAGEMAKER_MODEL_DIR = "/opt/ml/model"


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--model-dir", help=f"a model folder (default $SM_MODEL_DIR or {SAGEMAKER_MODEL_DIR})"
    )
    source.add_argument(
        "--hub", action="store_true", help="the real model from the Hugging Face Hub (cached)"
    )
    source.add_argument(
        "--tiny-random",
        action="store_true",
        help="a tiny randomly initialised model: noise, for trying the path",
    )
    parser.add_argument("--host", default=os.environ.get("ROOMCRAFT_INFERENCE_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SAGEMAKER_BIND_TO_PORT", "8080")))
    parser.add_argument("--device", default=os.environ.get("ROOMCRAFT_INFERENCE_DEVICE", "auto"))
    parser.add_argument(
        "--precision",
        default=os.environ.get("ROOMCRAFT_INFERENCE_PRECISION", "auto"),
        help="fp16 or bf16 on a GPU (CPU always fp32)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("ROOMCRAFT_INFERENCE_TIMEOUT", "300")),
        help="seconds one request may take, queue included",
    )
    parser.add_argument(
        "--queue-size",
        type=int,
        default=int(os.environ.get("ROOMCRAFT_INFERENCE_QUEUE", "8")),
        help="requests waiting beyond this are answered 503 at once",
    )
