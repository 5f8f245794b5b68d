#!/usr/bin/env bash
# Installs what scripts/bench-offline.sh needs on a Debian 12 (bookworm) machine:
# libpcap-dev from main, Suricata 7 from bookworm-backports, GNU time.
# Idempotent: does nothing for what is already there. Needs root (or passwordless sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: must run as root (or with sudo available)" >&2; exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive

need_pkgs=()
dpkg -s libpcap-dev >/dev/null 2>&1 || need_pkgs+=(libpcap-dev)
[ -x /usr/bin/time ] || need_pkgs+=(time)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
need_suricata=0
if ! command -v suricata >/dev/null 2>&1 || ! suricata -V 2>/dev/null | grep -q 'version 7\.'; then
    need_suricata=1
fi

if [ ${#need_pkgs[@]} -eq 0 ] && [ $need_suricata -eq 0 ]; then
    echo "install-deps: libpcap-dev, time, jq and Suricata 7 already installed"
    exit 0
fi

# The Debian mirror the machine already uses: first URIs of a deb822 stanza (or first `deb` line)
# whose suites include plain `bookworm`. Falls back to deb.debian.org.
mirror_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '
            BEGIN { RS=""; FS="\n" }
            {
                uris=""; suites=""; types=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); uris=$i }
                    if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites=" " $i " " }
                    if ($i ~ /^Types:/)  { types=$i }
                }
                if (types ~ /deb([ \t]|$)/ && suites ~ / bookworm /) { split(uris, u, /[ \t]+/); print u[1]; exit }
            }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [opt=v ...] URI SUITE COMPONENTS...: skip the bracketed options, then check the suite.
        uri=$(awk '$1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == "bookworm") { print $i; exit }
            }' "$f")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    echo "http://deb.debian.org/debian"
}

if [ $need_suricata -eq 1 ]; then
    src=/etc/apt/sources.list.d/bookworm-backports.sources
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        uri=$(mirror_uri)
        keyring=/usr/share/keyrings/debian-archive-keyring.gpg
        echo "install-deps: adding $src (mirror $uri)"
        {
            echo "Types: deb"
            echo "URIs: $uri"
            echo "Suites: bookworm-backports"
            echo "Components: main"
            if [ -f "$keyring" ]; then echo "Signed-By: $keyring"; fi
        } | $SUDO tee "$src" >/dev/null
    fi
fi

echo "install-deps: apt-get update"
$SUDO apt-get update -q
if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "install-deps: apt-get install ${need_pkgs[*]}"
    $SUDO apt-get install -y -q --no-install-recommends "${need_pkgs[@]}"
fi
if [ $need_suricata -eq 1 ]; then
    echo "install-deps: apt-get install -t bookworm-backports suricata"
    $SUDO apt-get install -y -q -t bookworm-backports suricata
    # The package enables a systemd service that would sniff the default interface; the benchmark
    # only reads files, so stop it if it started (harmless when systemd is absent).
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet suricata 2>/dev/null; then
        $SUDO systemctl stop suricata || true
    fi
fi
suricata -V
