#!/usr/bin/env bash
# Build the hbond test kernel from Debian's linux-source-6.12 into a cache
# directory keyed by (kernel package version, config fragment, toolchain).
# With a warm cache this returns at once.
set -euo pipefail
. "$(dirname "$0")/env.sh"

kdir=$(hbond_cached_kdir)
if [ -f "$kdir/.hbond-kernel-ok" ]; then
	echo "${HBOND_KERNEL_FLAVOR:-test} kernel: cached at $kdir"
	exit 0
fi

tarball=/usr/src/$HBOND_KVER_PKG.tar.xz
[ -f "$tarball" ] || { echo "missing $tarball: run 'make setup'" >&2; exit 1; }
kver=$(dpkg-query -W -f='${Version}' "$HBOND_KVER_PKG")
src=$HBOND_CACHE/src/$kver
if [ ! -f "$src/.extracted" ]; then
	echo "extracting $tarball"
	rm -rf "$src" && mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.extracted"
fi

mapfile -t frags < <(hbond_kernel_frags)
mkdir -p "$kdir"
start=$(date +%s)
make -C "$src" O="$kdir" "${HBOND_KMAKE_ARGS[@]}" allnoconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$kdir" "$kdir/.config" "${frags[@]}" >/dev/null
make -C "$src" O="$kdir" "${HBOND_KMAKE_ARGS[@]}" olddefconfig >/dev/null

# Every option of the fragments must have survived olddefconfig: a silently
# dropped option (unmet dependency) would make the test kernel lie. A later
# fragment's line for a symbol replaces an earlier one's.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) sym=${line%%=*}
		grep -qE "^$sym=[ym]" "$kdir/.config" && { echo "config: $sym should be off" >&2; missing=1; } ;;
	CONFIG_*=*) grep -qxF "$line" "$kdir/.config" || { echo "config: $line not applied" >&2; missing=1; } ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}
		grep -qE "^$sym=[ym]" "$kdir/.config" && { echo "config: $sym should be off" >&2; missing=1; } ;;
	esac
done < <(awk '
	/^CONFIG_[A-Za-z0-9_]+=/ { sym = $0; sub(/=.*/, "", sym) }
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { sym = $2 }
	sym != "" { if (!(sym in line)) order[n++] = sym; line[sym] = $0; sym = "" }
	END { for (i = 0; i < n; i++) print line[order[i]] }' "${frags[@]}")
[ "$missing" = 0 ] || { echo "kernel config fragment not fully applied" >&2; exit 1; }

make -C "$src" O="$kdir" "${HBOND_KMAKE_ARGS[@]}" -j"$(($(nproc) + 1))" bzImage modules
touch "$kdir/.hbond-kernel-ok"
[ "${HBOND_KERNEL_FLAVOR:-test}" = test ] && ln -sfn "$(basename "$kdir")" "$HBOND_CACHE/kernel"
echo "${HBOND_KERNEL_FLAVOR:-test} kernel: built in $(( $(date +%s) - start ))s at $kdir"
