#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Sends one raw rtnetlink change request with a single link-kind attribute,
as a newer tool might, and prints the kernel's answer.

    rtnl-attr.py DEV KIND data|slave NUMBER u32:VALUE|str:TEXT

`data` puts attribute NUMBER into IFLA_INFO_DATA of a KIND device (the
team itself); `slave` into IFLA_INFO_SLAVE_DATA of DEV, a slave of a KIND
master. Prints "ok" and exits 0 if the kernel accepted the request, else
prints "error ERRNO: EXTACK-MESSAGE" and exits 1. For tests: iproute2 and
hbondctl only send the attributes they know.
"""
import socket
import struct
import sys

import nlreq
from nlreq import attr

RTM_NEWLINK = 16
IFLA_LINKINFO = 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 4, 5
NLA_F_NESTED = 0x8000




def main():
    if len(sys.argv) != 6 or sys.argv[3] not in ("data", "slave"):
        sys.exit(__doc__)
    dev, kind, where, number, value = sys.argv[1:]
    vtype, _, vtext = value.partition(":")
    if vtype == "u32":
        payload = struct.pack("=I", int(vtext, 0))
    elif vtype == "str":
        payload = vtext.encode() + b"\0"
    else:
        sys.exit("value must be u32:N or str:TEXT")
    ifindex = socket.if_nametoindex(dev)
    inner = attr(int(number, 0), payload)
    if where == "data":
        info = attr(IFLA_INFO_KIND, kind.encode() + b"\0") + attr(IFLA_INFO_DATA | NLA_F_NESTED, inner)
    else:
        info = attr(IFLA_INFO_SLAVE_KIND, kind.encode() + b"\0") + attr(
            IFLA_INFO_SLAVE_DATA | NLA_F_NESTED, inner
        )
    body = struct.pack("=BxHiII", 0, 0, ifindex, 0, 0) + attr(IFLA_LINKINFO | NLA_F_NESTED, info)
    return nlreq.request(socket.NETLINK_ROUTE, RTM_NEWLINK, body)

if __name__ == "__main__":
    sys.exit(main())
