# Common tasks. `make help` lists them.
CARGO ?= cargo
SIM_ARGS ?= --listen 127.0.0.1:8090 --mailboxes 2000 --seed 1

.PHONY: help build test lint fmt sim bench bench-sim demo bench-client bench-store bench-queue bench-rollout bench-api bench-plan bench-scale plan-proof ci

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-13s %s\n", $$1, $$2}'

build: ## Build every crate and binary
	$(CARGO) build --workspace

test: ## Run all tests (the README's test command): cargo nextest when installed, else cargo test
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		echo "$(CARGO) nextest run --workspace"; $(CARGO) nextest run --workspace; \
	else \
		echo "$(CARGO) test --workspace (cargo-nextest not installed)"; $(CARGO) test --workspace; \
	fi

lint: ## Check formatting and clippy as CI does
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt

sim: ## Run the Dataverse simulator (override with SIM_ARGS="...")
	$(CARGO) run --release -p dataverse-sim -- $(SIM_ARGS)

bench-sim: ## Measure the simulator's requests per second on this machine
	$(CARGO) bench -p sim --bench sim_throughput

bench: bench-sim bench-client bench-store bench-queue bench-rollout bench-api bench-plan bench-scale ## Run every benchmark

bench-rollout: ## Roll out 2,000 simulated mailboxes at Dataverse's rates against the limits' best, and a sequential script (about 8 minutes)
	$(CARGO) bench -p e2e --bench rollout

demo: ## Roll out 2,000 simulated mailboxes with 'activator run' (a few minutes; only Rust needed)
	$(CARGO) build --profile demo -p activator -p dataverse-sim --bin activator --example demo
	./target/demo/examples/demo

bench-client: ## Measure 429 share and budget use of the client against the simulator (about 4 minutes)
	$(CARGO) bench -p dataverse --bench client_budget

bench-store: ## Measure both stores with a 100,000-mailbox batch, and worker memory against batch size
	$(CARGO) bench -p store --bench store_scale
	$(CARGO) bench -p pipeline --bench worker_memory

bench-queue: ## Measure how soon due work starts on each queue backend
	$(CARGO) bench -p pipeline --bench queue_latency

bench-api: ## Load activator api over Redis: 100-mailbox POSTs and GETs from 16 clients, and 100,000-mailbox POSTs (about a minute)
	$(CARGO) bench -p e2e --bench api

bench-plan: ## Plan 100,000 simulated mailboxes (time, requests by kind), and the plan's estimate against the run with 1 and 3 application users (about 20 minutes)
	$(CARGO) bench -p e2e --bench plan

bench-scale: ## Roll out 2,000, 20,000 and 100,000 simulated mailboxes through activator api and 4 workers over Redis with 10 application users: throughput, CPU and Redis cost per mailbox, memory (about 20 minutes)
	$(CARGO) bench -p e2e --bench scale

plan-proof: ## Plan 5,000 simulated mailboxes with every awkward case, run them, and compare each outcome (release build, about 8 minutes)
	PLAN_AGREEMENT_MAILBOXES=5000 $(CARGO) test --release -p pipeline --test it -- plan_agreement --nocapture

ci: ## Run what CI runs
	bash .ci/run
