# SPDX-License-Identifier: GPL-2.0
"""Shared by the raw netlink test tools (rtnl-attr.py, xfrm-newsa.py): one
request with an acknowledgement, its error and extack message printed."""
import os
import socket
import struct
import sys

NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
NETLINK_CAP_ACK, NETLINK_EXT_ACK = 10, 11
NLMSGERR_ATTR_MSG = 1
SOL_NETLINK = 270


def attr(kind, payload):
    """One netlink attribute, padded to 4 bytes."""
    pad = (4 - len(payload) % 4) % 4
    return struct.pack("=HH", 4 + len(payload), kind) + payload + b"\0" * pad


def request(protocol, mtype, body):
    """Sends message MTYPE with BODY on a PROTOCOL netlink socket, asking for
    an ack; prints "ok" and returns 0 if the kernel accepted it, else prints
    "error ERRNO (TEXT): EXTACK-MESSAGE" and returns 1."""
    msg = struct.pack("=IHHII", 16 + len(body), mtype, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, protocol)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    s.bind((0, 0))
    s.send(msg)
    reply = s.recv(65536)
    length, rtype = struct.unpack_from("=IH", reply)
    if rtype != NLMSG_ERROR:
        sys.exit(f"unexpected reply type {rtype}")
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
