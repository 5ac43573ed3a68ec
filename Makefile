# Roomcraft's front door. Every target works in a fresh clone (it installs what it needs).
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: install install-inference demo dev test unit lint format synth layer bench bench-gpu inference-image clean test-infra cdk-synth deploy web

install: ## Python deps from the lock file into .venv
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --quiet

install-inference: ## The model server's dependency group (torch, diffusers: ~5 GB, about a minute from PyPI)
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen --group inference --quiet

demo: install ## Stage the bundled sample photo end to end on the embedded local cloud
	$(UV) run roomcraft demo

dev: install ## Local cloud + API on http://127.0.0.1:8787 (docs at /docs) until Ctrl-C
	$(UV) run roomcraft dev

test: install lint ## Lint, type-check, then every test suite (offline, the model server's included), once in a random order
	$(UV) sync --frozen --group inference --quiet
	ROOMCRAFT_REQUIRE_INFERENCE_TESTS=1 $(UV) run --no-sync pytest -p randomly -n 2 --dist loadfile $(PYTEST_ARGS)

unit: install
	$(UV) run pytest tests/unit -q

lint: install
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run lint-imports  # the layer rules: [tool.importlinter] in pyproject.toml

format: install
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

synth: install ## Synthesize the CloudFormation template into cdk.out/ (offline)
	$(UV) run python -m infra.app

layer: install ## Build the Lambda dependency layer into layers/build/ (no Docker)
	$(UV) run python layers/build_layer.py

bench: install ## Benchmarks; results in bench/results/*.json
	$(UV) run python -m bench

bench-gpu: install-inference ## Model server seconds per image (768x512, 20 steps, batch 1 and 4) -> bench/results/gpu.json
	$(UV) run --no-sync python -m bench.gpu

# e.g. make inference-image ECR_REPO=123456789012.dkr.ecr.eu-west-1.amazonaws.com/roomcraft-inference
IMAGE_TAG ?= $(shell git rev-parse --short HEAD)
inference-image: ## Build the SageMaker model image (Docker) and push it to ECR_REPO (AWS CLI)
	@test -n "$(ECR_REPO)" || { echo "set ECR_REPO=ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME"; exit 2; }
	mkdir -p build
	$(UV) export --frozen --only-group inference --no-hashes --no-emit-project --no-emit-package torch --no-emit-package torchvision \
		--output-file build/inference-requirements.txt --quiet
	docker build -f inference/Dockerfile -t $(ECR_REPO):$(IMAGE_TAG) .
	aws ecr get-login-password | docker login --username AWS --password-stdin $(firstword $(subst /, ,$(ECR_REPO)))
	docker push $(ECR_REPO):$(IMAGE_TAG)
	@echo "deploy with: -c inference=selfhosted -c inference_image=$(ECR_REPO):$(IMAGE_TAG)"

web: ## Build the web app into web/dist (Node.js 20.19+); `make dev` serves it at http://127.0.0.1:8788/app/
	cd web && npm ci --no-audit --no-fund && npm test && npm run build

clean:
	rm -rf cdk.out layers/build .pytest_cache .mypy_cache .ruff_cache roomcraft-output web/dist web/screenshots

test-infra: install ## CDK assertions, cdk-nag, cfn-lint, parity (offline)
	$(UV) run pytest tests/infra -q

cdk-synth: install ## The same template through the CDK CLI
	CDK_DISABLE_CLI_TELEMETRY=true npx --yes aws-cdk@2.1148 synth --no-notices -q $(CDK_ARGS)

deploy: install layer ## e.g. make deploy CDK_ARGS="-c stage=prod -c provider=replicate -c alarm_email=ops@example.com"
	npx --yes aws-cdk@2.1148 deploy --all $(CDK_ARGS)
