"""The pipeline benchmark runs against the local cloud as a client would: with an API key."""

from __future__ import annotations

import pytest

from bench import pipeline

pytestmark = pytest.mark.e2e


def test_pipeline_section_runs_with_api_keys() -> None:
    result = pipeline.run(designs=2, burst=0)

    steady = result["phases"]["steady"]
    assert steady["designs"] == 2
    assert steady["succeeded"] == 2
    assert steady["generated_twice"] == 0
    assert steady["aws_calls"], "the bench counts AWS calls per role"
