#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Adds one IPv4 transport-mode ESP SA with rfc4106(gcm(aes)) (128-bit key,
random) over raw xfrm netlink, offloaded to DEV, and prints the kernel's
answer. For requests Debian 12's iproute2 (6.1) cannot make, such as
packet offload.

    xfrm-newsa.py SRC DST SPI DEV crypto|packet out|in

Prints "ok" and exits 0 if the kernel accepted the SA, else prints
"error ERRNO (TEXT): EXTACK-MESSAGE" and exits 1.
"""
import os
import socket
import struct
import sys

import nlreq
from nlreq import attr

XFRM_MSG_NEWSA = 0x10
XFRMA_ALG_AEAD, XFRMA_OFFLOAD_DEV = 18, 28
XFRM_OFFLOAD_INBOUND, XFRM_OFFLOAD_PACKET = 2, 4
NETLINK_XFRM = 6
IPPROTO_ESP = 50
XFRM_MODE_TRANSPORT = 0
XFRM_INF = (1 << 64) - 1




def addr(text):
    return socket.inet_pton(socket.AF_INET, text) + b"\0" * 12


def usersa_info(src, dst, spi):
    # struct xfrm_selector: daddr, saddr, dport, dport_mask, sport,
    # sport_mask, family, prefixlen_d, prefixlen_s, proto, ifindex, user.
    sel = addr(dst) + addr(src) + struct.pack("=HHHHHBBBxxxiI", 0, 0, 0, 0, socket.AF_INET, 0, 0, 0, 0, 0)
    xid = addr(dst) + struct.pack("!I", spi) + struct.pack("=Bxxx", IPPROTO_ESP)
    lft = struct.pack("=8Q", XFRM_INF, XFRM_INF, XFRM_INF, XFRM_INF, 0, 0, 0, 0)
    curlft = struct.pack("=4Q", 0, 0, 0, 0)
    stats = struct.pack("=3I", 0, 0, 0)
    tail = struct.pack("=IIHBBB7x", 0, 0, socket.AF_INET, XFRM_MODE_TRANSPORT, 0, 0)
    info = sel + xid + addr(src) + lft + curlft + stats + tail
    assert len(info) == 224, len(info)
    return info


def main():
    if len(sys.argv) != 7 or sys.argv[5] not in ("crypto", "packet") or sys.argv[6] not in ("out", "in"):
        sys.exit(__doc__)
    src, dst, spi, dev, kind, direction = sys.argv[1:]
    key = os.urandom(20)
    aead = struct.pack("=64sII", b"rfc4106(gcm(aes))", len(key) * 8, 128) + key
    flags = (XFRM_OFFLOAD_PACKET if kind == "packet" else 0) | (XFRM_OFFLOAD_INBOUND if direction == "in" else 0)
    offload = struct.pack("=iB3x", socket.if_nametoindex(dev), flags)
    body = usersa_info(src, dst, int(spi, 0)) + attr(XFRMA_ALG_AEAD, aead) + attr(XFRMA_OFFLOAD_DEV, offload)
    return nlreq.request(NETLINK_XFRM, XFRM_MSG_NEWSA, body)

if __name__ == "__main__":
    sys.exit(main())
