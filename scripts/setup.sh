#!/usr/bin/env bash
# Install everything hbond needs on Debian 12 and build the test kernel.
# Idempotent: with everything present it only checks, in seconds.
set -euo pipefail
. "$(dirname "$0")/env.sh"

packages=(
	# Kernel Rust toolchain: Debian's matching rustc/std-source pair, with
	# the matching cargo, clippy and rustfmt.
	rustc-web rust-web-src cargo-web rust-web-clippy rustfmt-web
	# Kernel source and build dependencies (LLVM=1 build).
	linux-source-6.12 clang lld llvm libclang-dev build-essential flex bison bc
	libelf-dev libssl-dev cpio xz-utils kmod
	# Guest runner (virtme-ng from PyPI in a venv) and test tools.
	qemu-system-x86 udev python3-venv busybox-static
	iproute2 iputils-ping jq tcpdump iperf3 ethtool socat procps file bc
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

# bindgen, pinned; built with Debian's cargo so that no rustup is needed.
if ! "$BINDGEN" --version 2>/dev/null | grep -q " $HBOND_BINDGEN_VERSION\$"; then
	echo "setup: installing bindgen-cli $HBOND_BINDGEN_VERSION"
	/usr/bin/cargo install bindgen-cli --version "$HBOND_BINDGEN_VERSION" --locked \
		--root "$HBOND_CACHE/tools"
fi

# virtme-ng, pinned, in its own venv (Debian 12's pip refuses system installs).
venv=$HBOND_CACHE/venv
if ! "$venv/bin/vng" --version 2>/dev/null | grep -q "$HBOND_VNG_VERSION"; then
	echo "setup: installing virtme-ng $HBOND_VNG_VERSION"
	/usr/bin/python3 -m venv "$venv"
	"$venv/bin/pip" install -q "virtme-ng==$HBOND_VNG_VERSION"
fi

"$HBOND_TOP/scripts/build-kernel.sh"
echo "setup: done (test kernel: $(hbond_cached_kdir))"
