"""Control maps for the two ControlNets: straight lines (M-LSD) and an ADE20K segmentation.

``AnnotatorControl`` is the real thing: controlnet_aux's M-LSD network and a UperNet ADE20K
segmenter from transformers, loaded from a model folder or the Hugging Face Hub.
``ClassicalControl`` needs no weights (for ``--tiny-random`` and tests): Canny edges + a
probabilistic Hough transform for lines, and colour clustering with position-guessed labels
(ceiling / wall / floor) for a coarse segmentation. It is much worse than the real annotators and
says so in its label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

MLSD_WEIGHTS = "mlsd_large_512_fp32.pth"
MLSD_HUB_REPO = "lllyasviel/Annotators"
SEGMENTER_HUB_REPO = "openmmlab/upernet-convnext-small"
ADE_WALL, ADE_FLOOR, ADE_CEILING = 0, 3, 5


def ade20k_palette() -> np.ndarray:
    """The 150 ADE20K class colours the segmentation ControlNet was trained on."""
    from controlnet_aux.util import ade_palette

    return np.asarray(ade_palette(), dtype=np.uint8)


class ControlMaps(Protocol):
    label: str

    def __call__(self, image: Image.Image, width: int, height: int) -> list[Image.Image]:
        """[lines map, segmentation map], each RGB at width x height."""
        ...


class AnnotatorControl:
    label = "m-lsd + upernet-ade20k"

    def __init__(self, mlsd: Any, segmenter: Any, processor: Any, device: str) -> None:
        self._mlsd = mlsd
        self._segmenter = segmenter
        self._processor = processor
        self._device = device
        self._palette = ade20k_palette()

    @classmethod
    def from_dir(cls, folder: Path, device: str) -> AnnotatorControl:
        """``folder/mlsd_large_512_fp32.pth`` and ``folder/segmentation/`` (a transformers save)."""
        import torch
        from controlnet_aux.mlsd import MLSDdetector
        from controlnet_aux.mlsd.models.mbv2_mlsd_large import MobileV2_MLSD_Large
        from transformers import AutoImageProcessor, UperNetForSemanticSegmentation

        network = MobileV2_MLSD_Large()
        network.load_state_dict(torch.load(folder / MLSD_WEIGHTS, map_location="cpu", weights_only=True))
        network.eval()
        mlsd = MLSDdetector(network).to(device)
        segmenter: Any = UperNetForSemanticSegmentation.from_pretrained(folder / "segmentation")
        segmenter = segmenter.to(device).eval()
        processor = AutoImageProcessor.from_pretrained(folder / "segmentation")
        return cls(mlsd, segmenter, processor, device)

    @classmethod
    def from_hub(cls, device: str) -> AnnotatorControl:
        """Downloads (once, into the Hugging Face cache) the annotators the ControlNets were trained with."""
        from controlnet_aux.mlsd import MLSDdetector
        from transformers import AutoImageProcessor, UperNetForSemanticSegmentation

        mlsd = MLSDdetector.from_pretrained(MLSD_HUB_REPO).to(device)
        segmenter: Any = UperNetForSemanticSegmentation.from_pretrained(SEGMENTER_HUB_REPO)
        segmenter = segmenter.to(device).eval()
        processor = AutoImageProcessor.from_pretrained(SEGMENTER_HUB_REPO)
        return cls(mlsd, segmenter, processor, device)

    def save(self, folder: Path) -> None:
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self._mlsd.model.state_dict(), folder / MLSD_WEIGHTS)
        self._segmenter.save_pretrained(folder / "segmentation")
        self._processor.save_pretrained(folder / "segmentation")

    def __call__(self, image: Image.Image, width: int, height: int) -> list[Image.Image]:
        import torch

        detect = max(64, (max(width, height) // 64) * 64)
        lines = self._mlsd(image, detect_resolution=detect, image_resolution=detect)
        inputs = self._processor(images=image, return_tensors="pt").to(self._device)
        with torch.no_grad():
            outputs = self._segmenter(**inputs)
        labels = self._processor.post_process_semantic_segmentation(
            outputs, target_sizes=[(image.height, image.width)]
        )[0]
        segmentation = self._palette[labels.cpu().numpy() % len(self._palette)]
        return [
            lines.convert("RGB").resize((width, height), Image.Resampling.BILINEAR),
            Image.fromarray(segmentation).resize((width, height), Image.Resampling.NEAREST),
        ]


class ClassicalControl:
    label = "classical lines + coarse colour segmentation (no annotator weights)"

    def __init__(self, clusters: int = 6) -> None:
        self._clusters = clusters
        self._palette = ade20k_palette()

    def __call__(self, image: Image.Image, width: int, height: int) -> list[Image.Image]:
        rgb = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
        return [Image.fromarray(self.lines(rgb)), Image.fromarray(self.segmentation(rgb))]

    def lines(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        edges = cv2.Canny(gray, 50, 150)
        shortest = max(8, min(gray.shape) // 8)
        found = cv2.HoughLinesP(
            edges, 1, np.pi / 180, threshold=max(10, shortest // 2), minLineLength=shortest, maxLineGap=3
        )
        drawn = np.zeros_like(rgb)
        for x1, y1, x2, y2 in [] if found is None else found.reshape(-1, 4):
            cv2.line(drawn, (int(x1), int(y1)), (int(x2), int(y2)), (255, 255, 255), 1)
        return drawn

    def segmentation(self, rgb: np.ndarray) -> np.ndarray:
        import cv2

        height, width = rgb.shape[:2]
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
        rows = np.repeat(np.arange(height, dtype=np.float32) / height * 255.0, width)
        features = np.column_stack([lab, rows])
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
        cv2.setRNGSeed(0)
        _, assignment, _ = cv2.kmeans(features, self._clusters, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        assignment = assignment.reshape(height, width)
        labels = np.full((height, width), ADE_WALL, dtype=np.int64)
        for cluster in range(self._clusters):
            where = assignment == cluster
            if not where.any():
                continue
            middle = float(np.nonzero(where)[0].mean()) / height
            # A guess from where the region sits: the top is ceiling, the bottom floor, the rest wall.
            labels[where] = ADE_CEILING if middle < 0.2 else ADE_FLOOR if middle > 0.7 else ADE_WALL
        return self._palette[labels]
