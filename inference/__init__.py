"""Roomcraft's self-hosted model server: Stable Diffusion 1.5 with two ControlNets (M-LSD lines and
ADE20K segmentation) behind the ``roomcraft.inference.v1`` container contract.

Its own dependency group (``uv sync --group inference``): torch and diffusers never reach the Lambda
layer. Nothing here downloads at import time; ``--hub`` downloads into the Hugging Face cache when asked.
"""
