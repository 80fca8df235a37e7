# The two entry points the README promises: `make run` and `make test`. Both install what they need.
.DEFAULT_GOAL := help
SHELL := bash

.PHONY: help run test setup deps build check lint format typecheck image image-dev

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

deps: ## npm dependencies exactly as locked
	@bash .ci/setup.d/20-npm.sh

run: deps ## build and run the service with embedded defaults (PGlite, in-memory adapter) on :4000
	npm run build
	npm start

setup: ## everything the tests need: Debian packages, npm deps, pinned tools
	bash .ci/setup

check: ## lint + typecheck
	npm run lint
	npm run typecheck

test: setup check ## install everything, then run every test (starts its own PostgreSQL, Redis, … on free ports)
	@rm -f .tmp/vitest-report.json
	npm test; status=$$?; node .ci/summary.mjs && exit $$status

# Optional: IMAGE=name:tag, EXTRA_CA=<CA bundle for a TLS-intercepting proxy>, NODE_IMAGE=<base, pinned by digest>.
image: ## build the production image (Docker with BuildKit, or podman/buildah) as zephyr:local
	bash app/deploy/image.sh --target runtime $(if $(IMAGE),--tag $(IMAGE))

image-dev: ## build the skaffold dev target as zephyr:dev
	bash app/deploy/image.sh --target dev $(if $(IMAGE),--tag $(IMAGE))

build: deps
	npm run build

format:
	npm run format
