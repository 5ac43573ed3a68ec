"""The staging model: build, save, load and run SD 1.5 + ControlNets (M-LSD, segmentation).

A model folder (``--model-dir``, or ``/opt/ml/model`` from SageMaker's ``model.tar.gz``) holds
``pipeline/`` (diffusers ``save_pretrained`` of the whole ControlNet pipeline), ``annotators/``
(the preprocessors' weights; absent means the classical fallback) and ``roomcraft-model.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from inference.control import AnnotatorControl, ClassicalControl, ControlMaps

MANIFEST = "roomcraft-model.json"
HUB_BASE = "SG161222/Realistic_Vision_V5.1_noVAE"
HUB_VAE = "stabilityai/sd-vae-ft-mse"
HUB_CONTROLNETS = ("lllyasviel/control_v11p_sd15_mlsd", "lllyasviel/control_v11p_sd15_seg")
TINY_RANDOM_LABEL = "tiny-random: randomly initialised weights, the images are noise, not staging"


class GenerationAbandoned(Exception):
    """The request's deadline passed while its images were being made."""


@dataclass(frozen=True)
class Device:
    name: str
    dtype_name: str

    @property
    def dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)


def pick_device(requested: str = "auto", precision: str = "auto") -> Device:
    """CUDA in fp16 (bf16 on request), Apple's MPS in fp16, otherwise CPU in fp32."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            requested = "cuda"
        elif torch.backends.mps.is_available():
            requested = "mps"
        else:
            requested = "cpu"
    if requested == "cpu":
        return Device("cpu", "float32")
    if precision == "auto":
        precision = "float16"
    return Device(requested, {"fp16": "float16", "bf16": "bfloat16"}.get(precision, precision))


@dataclass(frozen=True)
class Defaults:
    steps: int = 20
    guidance: float = 7.0
    conditioning_scales: tuple[float, float] = (0.2, 0.9)
    """M-LSD lines lightly, the layout strongly: furniture may change, walls may not."""
    long_edge: int | None = None
    """Generate at this long edge (multiple of 8) instead of the request's size; None keeps it."""


@dataclass
class StagingModel:
    pipe: Any
    control: ControlMaps
    device: Device
    label: str
    defaults: Defaults = field(default_factory=Defaults)

    def generate(
        self,
        image: Image.Image,
        *,
        width: int,
        height: int,
        prompt: str,
        negative_prompt: str,
        num_outputs: int,
        seed: int,
        steps: int | None = None,
        guidance: float | None = None,
        deadline: float | None = None,
    ) -> list[Image.Image]:
        """``num_outputs`` images in one batched pass; image ``i`` is seeded ``seed + i``."""
        import torch

        width, height = self.generation_size(width, height)
        maps = self.control(image, width, height)
        generator_device = "cpu" if self.device.name == "mps" else self.device.name
        generators = [
            torch.Generator(device=generator_device).manual_seed((seed + i) % 2**63)
            for i in range(num_outputs)
        ]

        def check_deadline(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if deadline is not None and time.monotonic() > deadline:
                raise GenerationAbandoned(f"deadline passed at step {step}")
            return tensors

        with torch.inference_mode():
            result = self.pipe(
                prompt=prompt,
                negative_prompt=negative_prompt or None,
                image=maps,
                width=width,
                height=height,
                num_images_per_prompt=num_outputs,
                generator=generators,
                num_inference_steps=steps or self.defaults.steps,
                guidance_scale=self.defaults.guidance if guidance is None else guidance,
                controlnet_conditioning_scale=list(self.defaults.conditioning_scales),
                callback_on_step_end=check_deadline,
                output_type="pil",
            )
        images: list[Image.Image] = list(result.images)
        return images

    def generation_size(self, width: int, height: int) -> tuple[int, int]:
        if self.defaults.long_edge:
            scale = self.defaults.long_edge / max(width, height)
            width, height = round(width * scale), round(height * scale)
        return max(64, width // 8 * 8), max(64, height // 8 * 8)

    def save(self, folder: Path) -> None:
        """Write the model folder layout that ``load_model_dir`` reads."""
        folder.mkdir(parents=True, exist_ok=True)
        self.pipe.save_pretrained(folder / "pipeline", safe_serialization=True)
        if isinstance(self.control, AnnotatorControl):
            self.control.save(folder / "annotators")
        manifest = {
            "label": self.label,
            "steps": self.defaults.steps,
            "guidance": self.defaults.guidance,
            "conditioning_scales": list(self.defaults.conditioning_scales),
            "long_edge": self.defaults.long_edge,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))


def load_model_dir(folder: Path, device: Device) -> StagingModel:
    """Load a model folder written by ``StagingModel.save`` (or unpacked from ``model.tar.gz``)."""
    from diffusers import StableDiffusionControlNetPipeline

    manifest_path = folder / MANIFEST
    if not (folder / "pipeline" / "model_index.json").is_file():
        raise FileNotFoundError(f"{folder} holds no pipeline/model_index.json (see docs/selfhosted.md)")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    pipe = StableDiffusionControlNetPipeline.from_pretrained(
        folder / "pipeline", dtype=device.dtype, safety_checker=None, requires_safety_checker=False
    )
    control: ControlMaps = (
        AnnotatorControl.from_dir(folder / "annotators", device.name)
        if (folder / "annotators").is_dir()
        else ClassicalControl()
    )
    defaults = Defaults(
        steps=int(manifest.get("steps", Defaults.steps)),
        guidance=float(manifest.get("guidance", Defaults.guidance)),
        conditioning_scales=_scales(manifest.get("conditioning_scales")),
        long_edge=manifest.get("long_edge"),
    )
    label = str(manifest.get("label") or folder.name)
    return StagingModel(
        pipe=_placed(pipe, device), control=control, device=device, label=label, defaults=defaults
    )


def load_from_hub(device: Device) -> StagingModel:
    """The real model from the Hugging Face Hub (downloaded once into its cache; several GB)."""
    from diffusers import (
        AutoencoderKL,
        ControlNetModel,
        StableDiffusionControlNetPipeline,
        UniPCMultistepScheduler,
    )

    controlnets = [ControlNetModel.from_pretrained(name, dtype=device.dtype) for name in HUB_CONTROLNETS]
    pipe = StableDiffusionControlNetPipeline.from_pretrained(
        HUB_BASE,
        vae=AutoencoderKL.from_pretrained(HUB_VAE, dtype=device.dtype),
        controlnet=controlnets,
        dtype=device.dtype,
        safety_checker=None,
        requires_safety_checker=False,
    )
    pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config)
    control = AnnotatorControl.from_hub(device.name)
    label = f"{HUB_BASE} + {' + '.join(HUB_CONTROLNETS)}"
    return StagingModel(pipe=_placed(pipe, device), control=control, device=device, label=label)


def _placed(pipe: Any, device: Device) -> Any:
    pipe = pipe.to(device.name)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _scales(value: Any) -> tuple[float, float]:
    if isinstance(value, list) and len(value) == 2:
        return float(value[0]), float(value[1])
    return Defaults.conditioning_scales


Loader = Callable[[], StagingModel]
