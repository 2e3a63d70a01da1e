# shellcheck shell=bash
# Common environment for the project's scripts: toolchain and cache locations.
# Sourced, not executed.

HBOND_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The cache must live where a virtme-ng guest can see it (not /var/tmp).
HBOND_CACHE=${HBOND_CACHE:-$HOME/.cache/hbond}
HBOND_KVER_PKG=linux-source-6.12
HBOND_BINDGEN_VERSION=0.73.2
HBOND_VNG_VERSION=1.42
HBOND_VNG=$HBOND_CACHE/venv/bin/vng

# The kernel needs Debian's rustc-web pair, not rustup's rustc on PATH.
RUSTC=${RUSTC:-/usr/bin/rustc}
RUSTDOC=${RUSTDOC:-/usr/bin/rustdoc}
BINDGEN=${BINDGEN:-$HBOND_CACHE/tools/bin/bindgen}
export RUSTC RUSTDOC BINDGEN HBOND_TOP HBOND_CACHE
# Host crates use the Debian toolchain too, so a fresh machine needs no rustup.
HBOND_CARGO=${HBOND_CARGO:-/usr/bin/cargo}

# Arguments every kernel-side make invocation gets.
HBOND_KMAKE_ARGS=(LLVM=1 "RUSTC=$RUSTC" "RUSTDOC=$RUSTDOC" "BINDGEN=$BINDGEN")

# The kernel's config fragments, merged in this order: the test kernel's,
# and for HBOND_KERNEL_FLAVOR=bench (scripts/bench.sh) the bench kernel's
# on top (the test kernel without its debugging options).
hbond_kernel_frags() {
	echo "$HBOND_TOP/kernel/hbond-test.config"
	case "${HBOND_KERNEL_FLAVOR:-test}" in
	test) ;;
	bench) echo "$HBOND_TOP/kernel/hbond-bench.config" ;;
	*) echo "HBOND_KERNEL_FLAVOR must be test or bench" >&2; return 1 ;;
	esac
}

hbond_kernel_key() {
	local kver frag
	kver=$(dpkg-query -W -f='${Version}' "$HBOND_KVER_PKG" 2>/dev/null || echo none)
	# The test kernel's key is the one it always had (one fragment's hash).
	frag=$(hbond_kernel_frags | while IFS= read -r f; do cat "$f"; done | sha256sum | cut -d' ' -f1)
	{
		echo "$kver" "$frag"
		"$RUSTC" --version 2>/dev/null || echo no-rustc
		"$BINDGEN" --version 2>/dev/null || echo no-bindgen
		clang --version 2>/dev/null | head -n1 || echo no-clang
	} | sha256sum | cut -c1-16
}

# Build directory of the cached test kernel for the current inputs.
hbond_cached_kdir() {
	echo "$HBOND_CACHE/kernel-$(hbond_kernel_key)"
}

# The kernel build tree to use: HBOND_KDIR (make's KDIR) if set, e.g. your
# own kernel or a cached one while another builds; else the cached one.
hbond_kdir() {
	echo "${HBOND_KDIR:-$(hbond_cached_kdir)}"
}
