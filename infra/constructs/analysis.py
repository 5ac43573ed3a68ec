"""Photo analysis through Amazon Bedrock's Converse API (docs/quality.md): IAM for exactly one model.

Nothing is granted when no analysis model is configured: the functions then use the offline
heuristic analyser. Converse is authorised by ``bedrock:InvokeModel`` on the model's ARN. A
cross-region inference profile id (``us.amazon.nova-lite-v1:0``) needs the profile and the
foundation model it routes to, in any region of that geography.
"""

from __future__ import annotations

import re

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.config import DeploymentConfig

CONVERSE_ACTIONS = ("bedrock:InvokeModel",)
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.")


class PhotoAnalysis(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeploymentConfig) -> None:
        super().__init__(scope, construct_id)
        self.model_id = config.analysis_model_id or ""
        self.resource_arns: list[str] = []
        self.foundation_model = ""
        if not self.model_id:
            return
        stack = Stack.of(self)
        prefix = _PROFILE_PREFIX.match(self.model_id)
        self.foundation_model = self.model_id[prefix.end() :] if prefix else self.model_id
        if prefix is None:
            self.resource_arns = [
                f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{self.model_id}"
            ]
        else:
            self.resource_arns = [
                stack.format_arn(
                    service="bedrock", resource="inference-profile", resource_name=self.model_id
                ),
                f"arn:{stack.partition}:bedrock:*::foundation-model/{self.foundation_model}",
            ]

    @property
    def environment(self) -> dict[str, str]:
        return {"ROOMCRAFT_ANALYSIS_MODEL_ID": self.model_id} if self.model_id else {}

    @property
    def uses_inference_profile(self) -> bool:
        return len(self.resource_arns) > 1

    def grant_converse(self, grantee: iam.IGrantable) -> None:
        """Converse with the configured model only; nothing when none is configured."""
        if self.resource_arns:
            iam.Grant.add_to_principal(
                grantee=grantee, actions=list(CONVERSE_ACTIONS), resource_arns=self.resource_arns
            )
