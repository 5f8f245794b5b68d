#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, demo and test Kordon.
# Idempotent: does nothing when everything is present. Needs root (or sudo) only to install.
set -euo pipefail

packages=(libpcap-dev libsqlite3-dev tcpreplay tcpdump iproute2 gzip jq ca-certificates python3 python3-venv)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo_cmd=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (https://rustup.rs)" >&2; exit 1; }

# OASIS's TAXII 2.1 reference server, for the TAXII feed test (collector/tests/indicators.rs
# finds it here, or via $KORDON_MEDALLION). A private venv, so the system Python is untouched;
# pinned, because the test relies on its memory backend's file format. Without PyPI access
# this only warns: that one test then skips with the reason.
venv="${XDG_CACHE_HOME:-$HOME/.cache}/kordon/venv"
medallion_version=3.0.0
if ! "$venv/bin/medallion" --help 2>/dev/null | grep -q "medallion v$medallion_version"; then
    echo "setup: installing medallion $medallion_version into $venv" >&2
    if python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "medallion==$medallion_version"; then
        "$venv/bin/medallion" --help >/dev/null
    else
        echo "setup: WARNING: could not install medallion (no PyPI access?); the TAXII server test will skip" >&2
    fi
fi
