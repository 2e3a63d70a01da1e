// SPDX-License-Identifier: GPL-2.0
/*
 * iproute2 plugin for ipsecsim pairs, with veth's syntax:
 *
 *   ip link add sim0 type ipsecsim peer name sim1 netns B address ... mtu ...
 *
 * Everything after `peer` is what `ip link add` takes for a device (name,
 * netns, address, mtu, txqlen, up, index, ...), parsed by ip's own
 * iplink_parse() into a struct ifinfomsg and IFLA_* attributes nested in
 * IPSECSIM_INFO_PEER, as link_veth.c does for VETH_INFO_PEER. Without
 * `peer` the other end is named ipsecsim%d. ipsecsim reports no attributes,
 * so `ip -d link show` prints the kind only.
 */
#include <string.h>

#include "iproute2_abi.h"

/* The kernel's attribute (drivers/net/ipsecsim/pair.rs). */
#define IPSECSIM_INFO_PEER 1

/* What ip passes as the room left in its request (as its own plugins do). */
#define REQUEST_ROOM 1024

static void print_usage(FILE *f)
{
	fprintf(f,
		"Usage: ip link add NAME type ipsecsim [ peer PEER_OPTIONS ]\n"
		"PEER_OPTIONS: those of 'ip link add' for the other end, e.g.\n"
		"              name PEER netns NETNS address LLADDR mtu MTU up\n"
		"Without peer, the other end is named ipsecsim%%d.\n");
}

static int ipsecsim_parse_opt(struct link_util *lu, int argc, char **argv,
			      struct nlmsghdr *n)
{
	struct ifinfomsg *ifm = NLMSG_DATA(n), *peer_ifm;
	unsigned int ifi_flags, ifi_change;
	struct rtattr *data;
	char *type = NULL;
	int ifi_index;
	int err;

	if (strcmp(argv[0], "peer") != 0) {
		fprintf(stderr, "ipsecsim: unknown option \"%s\"\n", argv[0]);
		print_usage(stderr);
		return -1;
	}

	/*
	 * iplink_parse() writes flags (up) and index into the ifinfomsg of
	 * the request: let it write the device's, then move them to the peer.
	 */
	ifi_flags = ifm->ifi_flags;
	ifi_change = ifm->ifi_change;
	ifi_index = ifm->ifi_index;
	ifm->ifi_flags = 0;
	ifm->ifi_change = 0;
	ifm->ifi_index = 0;

	data = addattr_nest(n, REQUEST_ROOM, IPSECSIM_INFO_PEER);
	/* Room for the peer's ifinfomsg; the request is zero-initialised. */
	n->nlmsg_len += sizeof(struct ifinfomsg);

	err = iplink_parse(argc - 1, argv + 1, (struct iplink_req *)n, &type);
	if (err < 0)
		return err;
	if (type)
		duparg("type", argv[err]);

	peer_ifm = RTA_DATA(data);
	peer_ifm->ifi_index = ifm->ifi_index;
	peer_ifm->ifi_flags = ifm->ifi_flags;
	peer_ifm->ifi_change = ifm->ifi_change;
	ifm->ifi_flags = ifi_flags;
	ifm->ifi_change = ifi_change;
	ifm->ifi_index = ifi_index;

	addattr_nest_end(n, data);
	/* Anything iplink_parse() did not take is an error for ip. */
	return argc - 1 - err;
}

static void ipsecsim_print_help(struct link_util *lu, int argc, char **argv,
				FILE *f)
{
	print_usage(f);
}

struct link_util ipsecsim_link_util = {
	.id = "ipsecsim",
	.parse_opt = ipsecsim_parse_opt,
	.print_help = ipsecsim_print_help,
};
