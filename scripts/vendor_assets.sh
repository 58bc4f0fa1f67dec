#!/usr/bin/env bash
# Re-fetch the vendored browser assets at their pinned versions with `npm pack`.
#
# Why: the portal serves htmx and Swagger UI from portal/static/vendor/ (no CDN, no network at run
# time), so those files are committed. This script is how they got there: it downloads the exact
# npm tarballs, refuses them unless their sha512 matches the integrity pinned below, and copies only
# the files the portal uses. Run it (`make vendor`) after changing a version, then review `git diff`.
# To upgrade: change a version, set its integrity to "" and run; the script prints the new value.
set -euo pipefail

HTMX_VERSION="2.0.11"
HTMX_INTEGRITY="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="
SWAGGER_UI_VERSION="5.35.0"
SWAGGER_UI_INTEGRITY="sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/portal/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

command -v npm >/dev/null || { echo "vendor_assets: npm is needed (apt-get install -y npm)" >&2; exit 1; }

# fetch NAME VERSION INTEGRITY -> prints the directory holding the unpacked package/
fetch() {
    local name="$1" version="$2" want="$3" tgz got
    tgz="$WORK/$name-$version.tgz"
    (cd "$WORK" && npm pack --silent "$name@$version" >/dev/null)
    [ -f "$tgz" ] || { echo "vendor_assets: npm pack did not produce $tgz" >&2; exit 1; }
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ -z "$want" ]; then
        echo "vendor_assets: $name@$version integrity is $got (pin it in this script)" >&2
    elif [ "$got" != "$want" ]; then
        echo "vendor_assets: $name@$version integrity mismatch: got $got, pinned $want" >&2
        exit 1
    fi
    mkdir -p "$WORK/$name"
    tar -xzf "$tgz" -C "$WORK/$name"
    echo "$WORK/$name/package"
}

htmx="$(fetch htmx.org "$HTMX_VERSION" "$HTMX_INTEGRITY")"
swagger="$(fetch swagger-ui-dist "$SWAGGER_UI_VERSION" "$SWAGGER_UI_INTEGRITY")"

mkdir -p "$VENDOR/swagger-ui"
install -m 0644 "$htmx/dist/htmx.min.js" "$VENDOR/htmx.min.js"
install -m 0644 "$htmx/LICENSE" "$VENDOR/htmx.LICENSE"
for f in swagger-ui-bundle.js swagger-ui.css swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE; do
    install -m 0644 "$swagger/$f" "$VENDOR/swagger-ui/$f"
done

# Checksums of what is committed, so anyone can verify with `sha256sum -c` in portal/static/vendor.
(cd "$VENDOR" && sha256sum htmx.min.js htmx.LICENSE swagger-ui/* > SHA256SUMS)
echo "vendored htmx.org@$HTMX_VERSION and swagger-ui-dist@$SWAGGER_UI_VERSION into ${VENDOR#"$ROOT"/}"
cat "$VENDOR/SHA256SUMS"
