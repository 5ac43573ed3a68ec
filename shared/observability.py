"""Powertools Logger, Tracer and Metrics shared by every entry point."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "roomcraft"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Roomcraft", service=SERVICE)
