// SPDX-License-Identifier: GPL-2.0
/* ipsecsim.ko's copy of the shared Rust helpers (see rust/helpers/). */
#include "../../../rust/helpers/helpers.c"
