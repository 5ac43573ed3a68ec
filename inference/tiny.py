"""A tiny randomly initialised staging model of the real classes: no download, runs on a CPU.

The same pipeline class, UNet, two ControlNets, VAE, CLIP text encoder and tokenizer as the real
model, a few thousand parameters each. Its images are noise: it proves the plumbing, not the art.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from inference.control import AnnotatorControl, ClassicalControl
from inference.model import TINY_RANDOM_LABEL, Defaults, Device, StagingModel, _placed

TINY_DEFAULTS = Defaults(steps=2, guidance=7.0, long_edge=96)


def tiny_pipeline(seed: int = 0) -> Any:
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    blocks = {"block_out_channels": (8, 16), "layers_per_block": 1}
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
        **blocks,
    )
    controlnets = [
        ControlNetModel(
            in_channels=4,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            cross_attention_dim=16,
            attention_head_dim=2,
            norm_num_groups=4,
            conditioning_embedding_out_channels=(4, 8),
            **blocks,
        )
        for _ in range(2)
    ]
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=1000,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            max_position_embeddings=77,
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
        )
    )
    return assemble_pipeline(vae=vae, text_encoder=text_encoder, unet=unet, controlnets=controlnets)


def assemble_pipeline(*, vae: Any, text_encoder: Any, unet: Any, controlnets: list[Any]) -> Any:
    """Randomly initialised networks as a ControlNet pipeline, with a character-level tokenizer."""
    from diffusers import StableDiffusionControlNetPipeline, UniPCMultistepScheduler
    from transformers import CLIPTokenizer

    return StableDiffusionControlNetPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=_tiny_tokenizer(CLIPTokenizer),
        unet=unet,
        controlnet=controlnets,
        scheduler=UniPCMultistepScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def _tiny_tokenizer(tokenizer_class: Any) -> Any:
    """A byte-level BPE vocabulary of single characters: enough to tokenize any prompt."""
    symbols = ["<|startoftext|>", "<|pad|>", "<|endoftext|>"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] + [str(d) for d in range(10)]
    vocab = {token: index for index, token in enumerate(symbols)}
    for letter in letters:
        vocab.setdefault(letter, len(vocab))
        vocab.setdefault(letter + "</w>", len(vocab))
    with tempfile.TemporaryDirectory() as folder:
        vocab_file = Path(folder) / "vocab.json"
        merges_file = Path(folder) / "merges.txt"
        vocab_file.write_text(json.dumps(vocab))
        merges_file.write_text("#version: 0.2\n")
        return tokenizer_class(
            str(vocab_file),
            str(merges_file),
            bos_token="<|startoftext|>",  # noqa: S106 - a token string, not a secret
            eos_token="<|endoftext|>",  # noqa: S106 - a token string, not a secret
            pad_token="<|pad|>",  # noqa: S106 - a token string, not a secret
            unk_token="<|endoftext|>",  # noqa: S106 - a token string, not a secret
            model_max_length=77,
        )


def tiny_annotators(device: str = "cpu", seed: int = 0) -> AnnotatorControl:
    """The real annotator classes (M-LSD network, UperNet segmenter) with random weights."""
    import torch
    from controlnet_aux.mlsd import MLSDdetector
    from controlnet_aux.mlsd.models.mbv2_mlsd_large import MobileV2_MLSD_Large
    from transformers import (
        ConvNextConfig,
        SegformerImageProcessor,
        UperNetConfig,
        UperNetForSemanticSegmentation,
    )

    torch.manual_seed(seed)
    # Keyword arguments the configs accept at run time but do not declare to type checkers.
    backbone_options: dict[str, Any] = {"out_features": ["stage1", "stage2", "stage3", "stage4"]}
    backbone = ConvNextConfig(
        num_channels=3, hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1], **backbone_options
    )
    segmenter_options: dict[str, Any] = {"num_labels": 150}
    segmenter = UperNetForSemanticSegmentation(
        UperNetConfig(
            backbone_config=backbone,
            hidden_size=16,
            auxiliary_in_channels=32,
            use_auxiliary_head=False,
            **segmenter_options,
        )
    ).eval()
    processor = SegformerImageProcessor(size={"height": 64, "width": 64}, do_reduce_labels=False)
    mlsd = MLSDdetector(MobileV2_MLSD_Large().eval())
    return AnnotatorControl(mlsd, segmenter, processor, device)


def tiny_random_model(device: Device, *, annotators: bool = False) -> StagingModel:
    """``--tiny-random``: built in memory; the classical control maps unless ``annotators``."""
    control = tiny_annotators(device.name) if annotators else ClassicalControl()
    pipe = tiny_pipeline()
    if device.dtype_name != "float32":
        pipe = pipe.to(dtype=device.dtype)
    return StagingModel(
        pipe=_placed(pipe, device),
        control=control,
        device=device,
        label=TINY_RANDOM_LABEL,
        defaults=TINY_DEFAULTS,
    )
