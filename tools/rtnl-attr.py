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
import os
import socket
import struct
import sys

RTM_NEWLINK = 16
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
IFLA_LINKINFO = 18
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_INFO_SLAVE_KIND, IFLA_INFO_SLAVE_DATA = 4, 5
NLA_F_NESTED = 0x8000
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK = 270


def attr(kind, payload):
    pad = (4 - len(payload) % 4) % 4
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * pad


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
    msg = struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    s.bind((0, 0))
    s.send(msg)
    reply = s.recv(65536)
    length, mtype = struct.unpack_from("=IH", reply)
    if mtype != NLMSG_ERROR:
        sys.exit(f"unexpected reply type {mtype}")
    (error,) = struct.unpack_from("=i", reply, 16)
    if error == 0:
        print("ok")
        return 0
    text = ""
    off = 16 + 4 + 16  # nlmsgerr: error, then the request's capped header
    while off + 4 <= length:
        alen, atype = struct.unpack_from("=HH", reply, off)
        if alen < 4:
            break
        if atype & 0x3FFF == NLMSGERR_ATTR_MSG:
            text = reply[off + 4 : off + alen].split(b"\0")[0].decode(errors="replace")
        off += (alen + 3) & ~3
    print(f"error {-error} ({os.strerror(-error)}): {text}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
