// SPDX-License-Identifier: GPL-2.0
/*
 * iproute2 plugin for hbond teams:
 *
 *   ip link add hb0 type hbond mode alb miimon 100
 *   ip link set hb0 type hbond primary eth1
 *   ip -d [-j] link show
 *
 *   ip link set eth0 type hbond_slave engine DRIVER|none|auto
 *
 * One shared object provides both link_utils: hbond_link_util (options in
 * IFLA_INFO_DATA) and hbond_slave_link_util (slave state in
 * IFLA_INFO_SLAVE_DATA, of which the .settable attributes can be set);
 * link_hbond_slave.so is a symlink to it. Parsing
 * and printing walk the tables of hbond_options.h, generated from
 * hbond-core, so names, numbers, widths and ranges match the kernel and
 * hbondctl.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "iproute2_abi.h"
#include "hbond_options.h"

/* What ip passes as the room left in its request (as its own plugins do). */
#define REQUEST_ROOM 1024

static const struct hbond_option_desc *option_by_name(const char *name)
{
	for (int i = 0; i < HBOND_N_OPTIONS; i++)
		if (!strcmp(hbond_options[i].name, name))
			return &hbond_options[i];
	return NULL;
}

/*
 * A decimal number without sign or spaces, as hbond-core's parser takes
 * it (so "0x10", "-1" and "1e3" are malformed everywhere).
 */
static int parse_decimal(const char *text, unsigned int *value)
{
	unsigned long long v = 0;

	if (!*text)
		return -EINVAL;
	for (const char *c = text; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*c - '0');
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*value = (unsigned int)v;
	return 0;
}

static void print_accepted(FILE *f, const struct hbond_option_desc *o)
{
	switch (o->kind) {
	case HBOND_OPT_ENUM:
		fprintf(f, "one of ");
		for (unsigned int i = 0; i < o->n_names; i++)
			fprintf(f, "%s%s", i ? ", " : "", o->names[i]);
		break;
	case HBOND_OPT_NUMBER:
		fprintf(f, "%u..%u", o->min, o->max);
		break;
	case HBOND_OPT_SLAVE:
		fprintf(f, "a slave's name or none");
		break;
	}
}

static int bad_value(const struct hbond_option_desc *o, const char *text,
		     const char *why)
{
	fprintf(stderr, "Error: invalid value '%s' for %s: %s (", text,
		o->name, why);
	print_accepted(stderr, o);
	fprintf(stderr, ")\n");
	return -1;
}

/* The raw netlink value of `text` for option `o`, or -1 after a message. */
static int parse_value(const struct hbond_option_desc *o, const char *text,
		       unsigned int *value)
{
	switch (o->kind) {
	case HBOND_OPT_ENUM:
		for (unsigned int i = 0; i < o->n_names; i++) {
			if (!strcmp(o->names[i], text)) {
				*value = i;
				return 0;
			}
		}
		if (parse_decimal(text, value))
			return bad_value(o, text, "malformed value");
		if (*value >= o->n_names)
			return bad_value(o, text, "value out of range");
		return 0;
	case HBOND_OPT_NUMBER:
		if (parse_decimal(text, value))
			return bad_value(o, text, "malformed value");
		if (*value < o->min || *value > o->max)
			return bad_value(o, text, "value out of range");
		return 0;
	case HBOND_OPT_SLAVE:
		if (!*text || !strcmp(text, "none")) {
			*value = 0;
			return 0;
		}
		*value = ll_name_to_index(text);
		if (!*value) {
			fprintf(stderr, "Error: %s: device \"%s\" does not exist\n",
				o->name, text);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void print_explain(FILE *f)
{
	fprintf(f, "Usage: ... hbond [ OPTION VALUE ]...\n\nOPTIONS:\n");
	for (int i = 0; i < HBOND_N_OPTIONS; i++) {
		const struct hbond_option_desc *o = &hbond_options[i];

		fprintf(f, "  %-18s ", o->name);
		print_accepted(f, o);
		fprintf(f, "%s\n  %-18s   %s\n",
			o->needs_no_slaves ? "; only while the team has no slaves" : "",
			"", o->help);
	}
}

static int hbond_parse_opt(struct link_util *lu, int argc, char **argv,
			   struct nlmsghdr *n)
{
	unsigned int seen[HBOND_ATTR_MAX + 1] = { 0 };

	while (argc > 0) {
		const struct hbond_option_desc *o;
		unsigned int value;

		if (!strcmp(*argv, "help")) {
			print_explain(stdout);
			return -1;
		}
		o = option_by_name(*argv);
		if (!o) {
			fprintf(stderr, "hbond: unknown option \"%s\"\n", *argv);
			print_explain(stderr);
			return -1;
		}
		if (argc < 2) {
			fprintf(stderr, "Error: option %s needs a value\n", o->name);
			return -1;
		}
		if (seen[o->attr]++) {
			fprintf(stderr, "Error: option %s given twice\n", o->name);
			return -1;
		}
		if (parse_value(o, argv[1], &value))
			return -1;
		if (o->netlink_u8)
			addattr8(n, REQUEST_ROOM, o->attr, (__u8)value);
		else
			addattr32(n, REQUEST_ROOM, o->attr, value);
		argc -= 2;
		argv += 2;
	}
	return 0;
}

/* The attribute's payload if it holds at least `len` bytes. */
static const void *payload(const struct rtattr *rta, size_t len)
{
	if (!rta || RTA_PAYLOAD(rta) < len)
		return NULL;
	return RTA_DATA(rta);
}

static void print_option(const struct hbond_option_desc *o,
			 const struct rtattr *rta)
{
	static const __u32 no_slave;
	char fmt[64];
	const void *data;
	unsigned int value;

	data = payload(rta, o->netlink_u8 ? 1 : 4);
	if (!data && o->kind == HBOND_OPT_SLAVE && !rta)
		data = &no_slave;	/* left out for "none", as bonding may */
	if (!data)
		return;
	if (o->netlink_u8)
		value = *(const __u8 *)data;
	else
		memcpy(&value, data, sizeof(value));

	switch (o->kind) {
	case HBOND_OPT_ENUM:
		snprintf(fmt, sizeof(fmt), "%s %%s ", o->name);
		if (value < o->n_names) {
			print_color_string(PRINT_ANY, COLOR_NONE, o->name, fmt,
					   o->names[value]);
		} else {
			snprintf(fmt, sizeof(fmt), "%s %%u ", o->name);
			print_color_uint(PRINT_ANY, COLOR_NONE, o->name, fmt, value);
		}
		break;
	case HBOND_OPT_NUMBER:
		snprintf(fmt, sizeof(fmt), "%s %%u ", o->name);
		print_color_uint(PRINT_ANY, COLOR_NONE, o->name, fmt, value);
		break;
	case HBOND_OPT_SLAVE:
		snprintf(fmt, sizeof(fmt), "%s %%s ", o->name);
		if (value)
			print_color_string(PRINT_ANY, COLOR_IFNAME, o->name, fmt,
					   ll_index_to_name(value));
		else
			print_color_null(PRINT_ANY, COLOR_NONE, o->name, fmt,
					 "none");
		break;
	}
}

static void hbond_print_opt(struct link_util *lu, FILE *f, struct rtattr *tb[])
{
	if (!tb)
		return;
	for (int i = 0; i < HBOND_N_OPTIONS; i++)
		print_option(&hbond_options[i], tb[hbond_options[i].attr]);
}

static void hbond_print_help(struct link_util *lu, int argc, char **argv,
			     FILE *f)
{
	print_explain(f);
}

struct link_util hbond_link_util = {
	.id = "hbond",
	.maxattr = HBOND_ATTR_MAX,
	.parse_opt = hbond_parse_opt,
	.print_opt = hbond_print_opt,
	.print_help = hbond_print_help,
};

static void print_slave_attr(const struct hbond_slave_attr_desc *a,
			     const struct rtattr *rta)
{
	char fmt[64], text[18], text_value[HBOND_SLAVE_TEXT_MAX + 1];
	const unsigned char *data;
	__u32 v32;
	uint64_t v64;

	switch (a->kind) {
	case HBOND_SLAVE_FLAG:
		data = payload(rta, 1);
		if (!data)
			return;
		snprintf(fmt, sizeof(fmt), "%s %%s ", a->name);
		print_color_bool(PRINT_ANY, COLOR_NONE, a->name, fmt, *data != 0);
		break;
	case HBOND_SLAVE_LINK_STATE:
		data = payload(rta, 1);
		if (!data)
			return;
		if (*data < HBOND_N_LINK_STATES) {
			snprintf(fmt, sizeof(fmt), "%s %%s ", a->name);
			print_color_string(PRINT_ANY, COLOR_NONE, a->name, fmt,
					   hbond_link_state_names[*data]);
		} else {
			snprintf(fmt, sizeof(fmt), "%s %%u ", a->name);
			print_color_uint(PRINT_ANY, COLOR_NONE, a->name, fmt, *data);
		}
		break;
	case HBOND_SLAVE_U32:
		data = payload(rta, sizeof(v32));
		if (!data)
			return;
		memcpy(&v32, data, sizeof(v32));
		snprintf(fmt, sizeof(fmt), "%s %%u ", a->name);
		print_color_uint(PRINT_ANY, COLOR_NONE, a->name, fmt, v32);
		break;
	case HBOND_SLAVE_U64:
		data = payload(rta, sizeof(v64));
		if (!data)
			return;
		memcpy(&v64, data, sizeof(v64));
		snprintf(fmt, sizeof(fmt), "%s %%" PRIu64 " ", a->name);
		print_color_u64(PRINT_ANY, COLOR_NONE, a->name, fmt, v64);
		break;
	case HBOND_SLAVE_TEXT:
		data = payload(rta, 1);
		if (!data)
			return;
		snprintf(text_value, sizeof(text_value), "%.*s",
			 (int)RTA_PAYLOAD(rta), (const char *)data);
		snprintf(fmt, sizeof(fmt), "%s %%s ", a->name);
		print_color_string(PRINT_ANY, COLOR_NONE, a->name, fmt, text_value);
		break;
	case HBOND_SLAVE_HWADDR:
		data = payload(rta, 6);
		if (!data)
			return;
		snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x",
			 data[0], data[1], data[2], data[3], data[4], data[5]);
		snprintf(fmt, sizeof(fmt), "%s %%s ", a->name);
		print_color_string(PRINT_ANY, COLOR_MAC, a->name, fmt, text);
		break;
	}
}

static void hbond_slave_print_opt(struct link_util *lu, FILE *f,
				  struct rtattr *tb[])
{
	if (!tb)
		return;
	for (int i = 0; i < HBOND_N_SLAVE_ATTRS; i++)
		print_slave_attr(&hbond_slave_attrs[i],
				 tb[hbond_slave_attrs[i].attr]);
}

static void hbond_slave_print_help(struct link_util *lu, int argc,
				   char **argv, FILE *f)
{
	fprintf(f, "Usage: ... hbond_slave [ ATTRIBUTE VALUE ]...\n"
		"hbond_slave attributes (settable ones marked *):\n");
	for (int i = 0; i < HBOND_N_SLAVE_ATTRS; i++)
		fprintf(f, "  %-18s%s %s\n", hbond_slave_attrs[i].name,
			hbond_slave_attrs[i].settable ? "*" : " ",
			hbond_slave_attrs[i].help);
}

static const struct hbond_slave_attr_desc *slave_attr_by_name(const char *name)
{
	for (int i = 0; i < HBOND_N_SLAVE_ATTRS; i++)
		if (!strcmp(hbond_slave_attrs[i].name, name))
			return &hbond_slave_attrs[i];
	return NULL;
}

static void print_settable(FILE *f)
{
	int first = 1;

	for (int i = 0; i < HBOND_N_SLAVE_ATTRS; i++) {
		if (!hbond_slave_attrs[i].settable)
			continue;
		fprintf(f, "%s%s", first ? "" : ", ", hbond_slave_attrs[i].name);
		first = 0;
	}
}

/*
 * Settable attributes are text (the engine: a crypto driver name, none or
 * auto); the kernel validates the value. The others are read-only.
 */
static int hbond_slave_parse_opt(struct link_util *lu, int argc, char **argv,
				 struct nlmsghdr *n)
{
	unsigned int seen[HBOND_SLAVE_ATTR_MAX + 1] = { 0 };

	while (argc > 0) {
		const struct hbond_slave_attr_desc *a;
		size_t len;

		if (!strcmp(*argv, "help")) {
			hbond_slave_print_help(lu, 0, NULL, stdout);
			return -1;
		}
		a = slave_attr_by_name(*argv);
		if (!a || !a->settable) {
			fprintf(stderr, "Error: hbond slave attribute \"%s\" is %s; settable: ",
				*argv, a ? "read-only" : "unknown");
			print_settable(stderr);
			fprintf(stderr, "\n");
			return -1;
		}
		if (argc < 2) {
			fprintf(stderr, "Error: %s needs a value\n", a->name);
			return -1;
		}
		if (seen[a->attr]++) {
			fprintf(stderr, "Error: %s given twice\n", a->name);
			return -1;
		}
		len = strlen(argv[1]);
		if (a->kind != HBOND_SLAVE_TEXT || len > HBOND_SLAVE_TEXT_MAX) {
			fprintf(stderr, "Error: invalid value for %s: longer than %d bytes\n",
				a->name, HBOND_SLAVE_TEXT_MAX);
			return -1;
		}
		addattr_l(n, REQUEST_ROOM, a->attr, argv[1], len + 1);
		argc -= 2;
		argv += 2;
	}
	return 0;
}

struct link_util hbond_slave_link_util = {
	.id = "hbond_slave",
	.maxattr = HBOND_SLAVE_ATTR_MAX,
	.parse_opt = hbond_slave_parse_opt,
	.print_opt = hbond_slave_print_opt,
	.print_help = hbond_slave_print_help,
};
