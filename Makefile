# SPDX-License-Identifier: GPL-2.0
#
# hbond: user-facing entry points. The module build itself is in Kbuild.
#
#   make setup     install packages and tools, build the test kernel (cached)
#   make           build hbond.ko and ipsecsim.ko against KDIR
#   make test      everything: style, host tests, module build, guest tests
#   make tools     hbondctl (target/debug) and the iproute2 plugin
#   make run       the demo in a QEMU guest
#   make shell     interactive guest with the modules loaded
#   make guest CMD="..."   run one command in the guest with the modules loaded

SHELL := /bin/bash
ENV := source scripts/env.sh
# A KDIR given to make (command line or environment) is passed on to the
# scripts. Otherwise each use asks env.sh: on a fresh machine `make test`
# builds the kernel first (setup), and a KDIR fixed when make started would
# name the cache key of a toolchain that was not installed yet.
# (Asked once, at the first use.)
ifdef KDIR
export HBOND_KDIR := $(KDIR)
else
KDIR = $(eval KDIR := $$(shell $$(ENV); hbond_kdir))$(KDIR)
endif
RUSTC ?= /usr/bin/rustc
RUSTDOC ?= /usr/bin/rustdoc
BINDGEN ?= $(shell $(ENV); echo $$BINDGEN)
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=1 RUSTC=$(RUSTC) RUSTDOC=$(RUSTDOC) BINDGEN=$(BINDGEN)

.PHONY: all modules tools setup kernel check test run shell guest clean

all: modules

# Kbuild's dependency tracking cannot see a switch to another kernel tree:
# command lines and header paths are relative to the tree, whose files may
# be older than our objects. Objects and generated bindings built against
# another tree (or another configuration of it) would then be linked with
# the wrong struct layouts, so they are cleaned first.
KBUILD_ID = $(KDIR) $(shell md5sum < $(KDIR)/include/generated/autoconf.h 2>/dev/null)
define same_kernel
	@if [ "$$(cat .kbuild-id 2>/dev/null)" != "$(KBUILD_ID)" ]; then \
		$(KMAKE) clean > /dev/null; rm -f rust/bindings/generated.rs; \
		echo "$(KBUILD_ID)" > .kbuild-id; \
	fi
endef

modules:
	$(same_kernel)
	$(KMAKE) modules

# Host tools: the CLI and the iproute2 plugin (tools/iproute2/link_hbond.so,
# used with IP_LIB_DIR=tools/iproute2 ip ...).
tools:
	/usr/bin/cargo build -p hbondctl
	$(MAKE) -C tools/iproute2

# Build with clippy as the Rust compiler driver (the kernel's CLIPPY=1).
clippy:
	$(same_kernel)
	$(KMAKE) CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver modules

setup:
	scripts/setup.sh

kernel:
	scripts/build-kernel.sh

check:
	scripts/check.sh

test:
	scripts/test.sh

run:
	scripts/demo.sh

shell:
	scripts/guest.sh --shell

guest:
	scripts/guest.sh -- $(CMD)

clean:
	-$(KMAKE) clean
	rm -f rust/bindings/generated.rs .kbuild-id
	cd tests/compile-fail && rm -f *.log *.rmeta .*.d Module.symvers modules.order
	cargo clean
	$(MAKE) -C tools/iproute2 clean
