#!/usr/bin/env bash
# The test command: installs missing system packages, then runs every test of the workspace
# (unit, corpus conformance, live capture when root). Corpus tests read ../shared/corpus or
# $KORDON_CORPUS and skip with a printed reason when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --workspace --all-targets "$@"
