"""The staging model itself: loading through the real code, batching, seeds, control maps."""

from __future__ import annotations

from tests.inference.conftest import require_inference_group

require_inference_group()

import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.inference.conftest import room_photo


def photo() -> Image.Image:
    return Image.open(io.BytesIO(room_photo())).convert("RGB")


def make(model: Any, *, num_outputs: int, seed: int, steps: int = 2) -> list[Image.Image]:
    return model.generate(
        photo(),
        width=192,
        height=128,
        prompt="a scandinavian living room",
        negative_prompt="blurry",
        num_outputs=num_outputs,
        seed=seed,
        steps=steps,
    )


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float64)


def test_a_saved_model_folder_loads_through_the_real_loader(tiny_model_dir: Path, cpu: Any) -> None:
    from diffusers import StableDiffusionControlNetPipeline
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

    from inference.control import AnnotatorControl
    from inference.model import TINY_RANDOM_LABEL, load_model_dir

    assert (tiny_model_dir / "pipeline" / "model_index.json").is_file()
    model = load_model_dir(tiny_model_dir, cpu)
    assert isinstance(model.pipe, StableDiffusionControlNetPipeline)
    assert isinstance(model.pipe.controlnet, MultiControlNetModel)
    assert len(model.pipe.controlnet.nets) == 2
    assert isinstance(model.control, AnnotatorControl)  # M-LSD + UperNet, from annotators/
    assert model.label == TINY_RANDOM_LABEL
    assert model.defaults.steps == 2
    images = make(model, num_outputs=2, seed=11)
    assert [image.size for image in images] == [(96, 64), (96, 64)]  # the tiny model's long edge


def test_a_folder_without_a_pipeline_is_refused_with_its_path(tmp_path: Path, cpu: Any) -> None:
    import pytest

    from inference.model import load_model_dir

    with pytest.raises(FileNotFoundError, match=r"model_index\.json"):
        load_model_dir(tmp_path, cpu)


def test_the_variants_of_one_request_are_one_batched_pass_per_step(tiny_model: Any) -> None:
    batches: list[int] = []

    def record(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        batches.append(int(args[0].shape[0]))

    handle = tiny_model.pipe.unet.register_forward_pre_hook(record, with_kwargs=True)
    try:
        images = make(tiny_model, num_outputs=3, seed=5, steps=2)
    finally:
        handle.remove()
    assert len(images) == 3
    # Two denoising steps, each one UNet call over 3 variants x (conditional + unconditional).
    assert batches == [6, 6]


def test_variant_i_is_seeded_seed_plus_i_so_it_reproduces_alone(tiny_model: Any) -> None:
    together = make(tiny_model, num_outputs=2, seed=40)
    second_alone = make(tiny_model, num_outputs=1, seed=41)[0]
    first_alone = make(tiny_model, num_outputs=1, seed=40)[0]
    assert np.abs(pixels(together[1]) - pixels(second_alone)).max() <= 2
    assert np.abs(pixels(together[0]) - pixels(first_alone)).max() <= 2
    assert np.abs(pixels(together[0]) - pixels(together[1])).mean() > 1  # different seeds differ


def test_the_cpu_runs_in_float32(cpu: Any) -> None:
    from inference.model import pick_device

    assert (cpu.name, cpu.dtype_name) == ("cpu", "float32")
    assert pick_device("cuda").dtype_name == "float16"
    assert pick_device("cuda", "bf16").dtype_name == "bfloat16"
    assert pick_device("mps").dtype_name == "float16"


def test_a_passed_deadline_abandons_the_generation(tiny_model: Any) -> None:
    import time

    import pytest

    from inference.model import GenerationAbandoned

    with pytest.raises(GenerationAbandoned):
        tiny_model.generate(
            photo(),
            width=192,
            height=128,
            prompt="room",
            negative_prompt="",
            num_outputs=1,
            seed=1,
            deadline=time.monotonic() - 1,
        )


def test_classical_control_maps_find_the_rooms_lines_and_regions() -> None:
    from inference.control import ADE_CEILING, ADE_FLOOR, ClassicalControl, ade20k_palette

    lines, segmentation = ClassicalControl()(photo(), 192, 128)
    assert lines.size == segmentation.size == (192, 128)
    drawn = np.asarray(lines)
    assert drawn.max() == 255
    assert (drawn > 0).mean() < 0.5
    colours = {tuple(c) for c in np.asarray(segmentation).reshape(-1, 3)}
    palette = ade20k_palette()
    assert colours <= {tuple(c) for c in palette}
    assert tuple(np.asarray(segmentation)[2, 5]) == tuple(palette[ADE_CEILING])
    assert tuple(np.asarray(segmentation)[-2, 5]) == tuple(palette[ADE_FLOOR])


def test_the_annotator_path_makes_palette_coloured_maps_at_the_asked_size(tiny_model_dir: Path) -> None:
    from inference.control import AnnotatorControl, ade20k_palette

    control = AnnotatorControl.from_dir(tiny_model_dir / "annotators", "cpu")
    lines, segmentation = control(photo(), 96, 64)
    assert lines.size == segmentation.size == (96, 64)
    palette = {tuple(c) for c in ade20k_palette()}
    assert {tuple(c) for c in np.asarray(segmentation).reshape(-1, 3)} <= palette
