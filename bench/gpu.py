"""``make bench-gpu``: seconds per image of the staging model, written to bench/results/gpu.json.

768x512, 20 steps, classifier-free guidance, both ControlNets, batch 1 and batch 4, with the real
model's shapes (SD 1.5 UNet, two SD 1.5 ControlNets, the SD VAE, a CLIP-L text encoder) and random
weights: the compute is the same as with the real weights, and nothing is downloaded.

Configurations: ``eager`` (fp16, the reference's setup), then what a serving engineer adds:
``channels_last`` + SDPA (diffusers' default attention on torch 2), and ``compiled``
(``torch.compile`` of the UNet and the ControlNets, compile time measured and reported apart).
Without CUDA the GPU numbers stay empty with the reason, and the tiny model runs the same code path
on the CPU (``cpu_smoke``) so the script itself is known to work; those numbers say nothing about a GPU.

    uv run python -m bench.gpu              # what the machine allows
    uv run python -m bench.gpu --cpu-smoke  # only the tiny CPU run
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

RESULTS = Path(__file__).resolve().parent / "results" / "gpu.json"
REFERENCE_H200_FP16_EAGER = {"batch_1_s_per_image": 1.06, "batch_4_s_per_image": 0.46}
WIDTH, HEIGHT, STEPS, GUIDANCE = 768, 512, 20, 7.0


def full_size_pipeline(dtype: Any) -> Any:
    """SD 1.5's architecture with random weights (the classes' defaults are SD 1.x's shapes)."""
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from inference.tiny import assemble_pipeline

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
    controlnets = [ControlNetModel(cross_attention_dim=768, attention_head_dim=8) for _ in range(2)]
    vae = AutoencoderKL(
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(128, 256, 512, 512),
        layers_per_block=2,
        sample_size=512,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12)
    )
    pipe = assemble_pipeline(vae=vae, text_encoder=text_encoder, unet=unet, controlnets=controlnets)
    return pipe.to("cuda", dtype=dtype)


def seconds_per_image(
    run: Callable[[int], None], batch: int, repeats: int, sync: Callable[[], None]
) -> float:
    run(batch)  # warm-up (cuDNN autotuning, allocator)
    sync()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(batch)
        sync()
        samples.append((time.perf_counter() - started) / batch)
    return round(statistics.median(samples), 4)


def runner(pipe: Any, width: int, height: int, steps: int, guidance: float) -> Callable[[int], None]:
    maps = [Image.new("RGB", (width, height), (0, 0, 0)), Image.new("RGB", (width, height), (120, 120, 80))]

    def run(batch: int) -> None:
        pipe(
            prompt="a bright scandinavian living room, professional photo",
            negative_prompt="blurry, distorted",
            image=maps,
            width=width,
            height=height,
            num_images_per_prompt=batch,
            num_inference_steps=steps,
            guidance_scale=guidance,
            output_type="pil",
        )

    return run


def gpu_section(
    repeats: int,
    compile_budget_s: float,
    compile_mode: str,
    checkpoint: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Each configuration's numbers are checkpointed as soon as measured: a run cut short keeps them."""
    import torch

    sync = torch.cuda.synchronize
    started = time.perf_counter()
    pipe = full_size_pipeline(torch.float16)
    build_seconds = time.perf_counter() - started
    pipe.set_progress_bar_config(disable=True)
    run = runner(pipe, WIDTH, HEIGHT, STEPS, GUIDANCE)
    results: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0),
        "dtype": "float16",
        "build_random_weights_seconds": round(build_seconds, 1),
    }
    results["eager"] = {f"batch_{b}_s_per_image": seconds_per_image(run, b, repeats, sync) for b in (1, 4)}
    checkpoint(results)

    pipe.unet.to(memory_format=torch.channels_last)
    for net in pipe.controlnet.nets:
        net.to(memory_format=torch.channels_last)
    results["channels_last_sdpa"] = {
        f"batch_{b}_s_per_image": seconds_per_image(run, b, repeats, sync) for b in (1, 4)
    }
    checkpoint(results)

    started = time.perf_counter()
    pipe.unet = torch.compile(pipe.unet, mode=compile_mode, fullgraph=False)
    for index, net in enumerate(pipe.controlnet.nets):
        pipe.controlnet.nets[index] = torch.compile(net, mode=compile_mode, fullgraph=False)
    run(1)
    sync()
    compile_seconds = time.perf_counter() - started
    results["compiled"] = {"mode": compile_mode, "compile_seconds": round(compile_seconds, 1)}
    if compile_seconds <= compile_budget_s:
        results["compiled"].update(
            {f"batch_{b}_s_per_image": seconds_per_image(run, b, repeats, sync) for b in (1, 4)}
        )
    else:
        results["compiled"]["skipped"] = f"compiling took over the {compile_budget_s:g} s budget"

    checkpoint(results)
    fast = runner(pipe, WIDTH, HEIGHT, 10, GUIDANCE)
    results["compiled_unipc_10_steps"] = {"batch_4_s_per_image": seconds_per_image(fast, 4, repeats, sync)}
    best = min(
        (section["batch_4_s_per_image"], name)
        for name, section in results.items()
        if isinstance(section, dict)
        and "batch_4_s_per_image" in section
        and name != "compiled_unipc_10_steps"
    )
    results["ratio_vs_reference_batch_4"] = round(
        REFERENCE_H200_FP16_EAGER["batch_4_s_per_image"] / best[0], 2
    )
    results["best_batch_4"] = best[1]
    return results


def cpu_smoke() -> dict[str, Any]:
    """The tiny random model through the same pipeline call on the CPU (proves the script runs)."""
    from inference.model import pick_device
    from inference.tiny import tiny_random_model

    model = tiny_random_model(pick_device("cpu"))
    run = runner(model.pipe, 96, 64, 2, GUIDANCE)
    return {
        "model": "tiny-random (a few thousand parameters per network): not comparable to any GPU number",
        "size": "96x64",
        "steps": 2,
        **{f"batch_{b}_s_per_image": seconds_per_image(run, b, 2, lambda: None) for b in (1, 4)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__)
    parser.add_argument("--cpu-smoke", action="store_true", help="only the tiny CPU run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compile-budget", type=float, default=240.0, help="seconds torch.compile may take")
    parser.add_argument(
        "--compile-mode",
        default="max-autotune-no-cudagraphs",
        help="torch.compile mode; 'default' compiles in a fraction of the time (for a short GPU lease)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch

    document: dict[str, Any] = {
        "benchmark": f"{WIDTH}x{HEIGHT}, {STEPS} steps, guidance {GUIDANCE}, M-LSD + segmentation ControlNets",  # noqa: E501
        "reference_h200_fp16_eager": REFERENCE_H200_FP16_EAGER,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "gpu": None,
    }

    def write(doc: dict[str, Any]) -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n")

    def checkpoint(gpu: dict[str, Any]) -> None:
        write({**document, "gpu": gpu, "partial": True})

    if torch.cuda.is_available() and not args.cpu_smoke:
        document["gpu"] = gpu_section(args.repeats, args.compile_budget, args.compile_mode, checkpoint)
    else:
        document["gpu_missing_reason"] = (
            "no CUDA device on the machine that ran this (the session that prepared the benchmark had "
            "no GPU): GPU numbers are left empty; run `make bench-gpu` on a GPU machine to fill them"
        )
    write(document)  # the GPU numbers are on disk before the smoke run, which may lack an optional package
    try:
        document["cpu_smoke"] = cpu_smoke()
    except ImportError as missing:
        document["cpu_smoke"] = {"skipped": f"the tiny model needs a package this machine lacks: {missing}"}
    write(document)
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
