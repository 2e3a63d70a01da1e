/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The part of iproute2's internal ABI a link plugin uses, declared here
 * because Debian ships no iproute2 development headers. `ip` loads
 * $IP_LIB_DIR/link_<kind>.so with dlopen() and looks up <kind>_link_util;
 * the helpers below are exported by /usr/sbin/ip itself (nm -D).
 *
 * Layout and prototypes as of iproute2 v6.1.0 (ip/ip_common.h,
 * include/json_print.h, include/color.h, include/libnetlink.h,
 * include/utils.h, include/ll_map.h). A different iproute2 version may
 * change struct link_util; check before using the plugin with it.
 */
#ifndef HBOND_IPROUTE2_ABI_H
#define HBOND_IPROUTE2_ABI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* ip/ip_common.h */
struct link_util {
	struct link_util *next;
	const char *id;
	int maxattr;
	int (*parse_opt)(struct link_util *lu, int argc, char **argv,
			 struct nlmsghdr *n);
	void (*print_opt)(struct link_util *lu, FILE *f, struct rtattr *tb[]);
	void (*print_xstats)(struct link_util *lu, FILE *f,
			     struct rtattr *xstats);
	void (*print_help)(struct link_util *lu, int argc, char **argv,
			   FILE *f);
	int (*parse_ifla_xstats)(struct link_util *lu, int argc, char **argv);
	int (*print_ifla_xstats)(struct nlmsghdr *n, void *arg);
};

/* ip/ip_common.h: the request `ip link add` builds (a plugin only gets a
 * pointer to its nlmsghdr, the first member). */
struct iplink_req {
	struct nlmsghdr n;
	struct ifinfomsg i;
	char buf[1024];
};

/*
 * ip/iplink.c: parses the generic `ip link add` options (name, netns,
 * address, mtu, index, up, ...) of argv into req, as for the device itself;
 * returns the number of arguments it consumed, or < 0. The 4-argument form
 * of iproute2 4.17 .. 6.11 (6.12 added an int *netns_fd).
 */
int iplink_parse(int argc, char **argv, struct iplink_req *req, char **type);

/* include/json_print.h */
enum output_type {
	PRINT_FP = 1,
	PRINT_JSON = 2,
	PRINT_ANY = 4,
};

/* include/color.h */
enum color_attr {
	COLOR_IFNAME,
	COLOR_MAC,
	COLOR_INET,
	COLOR_INET6,
	COLOR_OPERSTATE_UP,
	COLOR_OPERSTATE_DOWN,
	COLOR_NONE
};

int print_color_string(enum output_type type, enum color_attr color,
		       const char *key, const char *fmt, const char *value);
int print_color_uint(enum output_type type, enum color_attr color,
		     const char *key, const char *fmt, unsigned int value);
int print_color_u64(enum output_type type, enum color_attr color,
		    const char *key, const char *fmt, uint64_t value);
int print_color_bool(enum output_type type, enum color_attr color,
		     const char *key, const char *fmt, bool value);
int print_color_null(enum output_type type, enum color_attr color,
		     const char *key, const char *fmt, const char *value);

/* include/libnetlink.h */
int addattr8(struct nlmsghdr *n, int maxlen, int type, __u8 data);
int addattr32(struct nlmsghdr *n, int maxlen, int type, __u32 data);
int addattr_l(struct nlmsghdr *n, int maxlen, int type, const void *data,
	      int alen);
struct rtattr *addattr_nest(struct nlmsghdr *n, int maxlen, int type);
int addattr_nest_end(struct nlmsghdr *n, struct rtattr *nest);

/* include/utils.h: reports a repeated argument and exits. */
void duparg(const char *key, const char *arg) __attribute__((noreturn));

/* include/ll_map.h */
unsigned int ll_name_to_index(const char *name);
const char *ll_index_to_name(unsigned int idx);

#endif /* HBOND_IPROUTE2_ABI_H */
