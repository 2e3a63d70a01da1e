#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""AEAD requests through AF_ALG, for testing and benchmarking crypto API
drivers such as the ipsecsim engines.

  afalg-aead.py vector DRIVER        RFC 4106 vector (testmgr.h
                                     aes_gcm_rfc4106_tv_template[1]): encrypt,
                                     decrypt, wrong tag; exit 0 if all as
                                     expected
  afalg-aead.py once DRIVER          one encryption; prints ok or the errno name
  afalg-aead.py bench DRIVER SECS SIZE [JOBS]
                                     JOBS threads (default 4) encrypt
                                     SIZE-byte requests back to back for SECS
                                     seconds, so the driver always has work
                                     queued; prints "<bytes> <seconds> <B/s>"
  afalg-aead.py stall DRIVER FILE MS writes MS to FILE (an engine's
                                     fault_stall_ms), then times one request;
                                     prints its milliseconds
  afalg-aead.py hold DRIVER SECS     keeps a transform of DRIVER for SECS
                                     seconds (prints "holding" first)
  afalg-aead.py churn DRIVER SECS    makes transforms of DRIVER (one request
                                     each) back to back until DRIVER is gone
                                     (ENOENT) or SECS pass; prints
                                     "<count> gone" or "<count> timeout"
  afalg-aead.py race DRIVER FILE SECS
                                     a removal of DRIVER (an rfc4106(gcm(aes))
                                     driver) against new transforms of
                                     seqiv(DRIVER): makes and frees one (the
                                     template instance stays), holds a
                                     transform of DRIVER (prints "holding")
                                     until FILE reads non-zero (a pause
                                     injected between the check for users
                                     and the removal), frees it, waits until
                                     FILE reads 0 (the pause has begun), then
                                     makes transforms of seqiv(DRIVER) back
                                     to back for SECS seconds, keeping each
                                     one made, and seals and opens a message
                                     through each; prints "first_ms=<time of
                                     the first attempt> made=<n> worked=<n>
                                     failed=<n> errors=<errno names>"; exit 0
                                     if every transform made works

DRIVER is an algorithm or driver name of rfc4106(gcm(aes)).
"""

import errno
import os
import socket
import sys
import threading
import time

KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308" "00000000")
IV = bytes.fromhex("0000000000000001")
# rfc4106: the associated data ends with the IV (as in ESP).
ASSOC = bytes(8) + IV
PLAIN = bytes(16)
CIPHER = bytes.fromhex(
    "c00d8b420f8f341888b1c5bcc5b6d628" "6a9ddf115efe5e9d2f704492f7f2e3ef"
)
TAG_LEN = 16


def transform(driver):
    alg = socket.socket(socket.AF_ALG, socket.SOCK_SEQPACKET, 0)
    alg.bind(("aead", driver))
    alg.setsockopt(socket.SOL_ALG, socket.ALG_SET_KEY, KEY)
    alg.setsockopt(socket.SOL_ALG, socket.ALG_SET_AEAD_AUTHSIZE, None, TAG_LEN)
    return alg


def crypt(alg, op, assoc, text, out_len):
    conn, _ = alg.accept()
    try:
        conn.sendmsg_afalg([assoc + text], op=op, iv=IV, assoclen=len(assoc))
        return conn.recv(len(assoc) + out_len)
    finally:
        conn.close()


def encrypt(alg, text):
    return crypt(alg, socket.ALG_OP_ENCRYPT, ASSOC, text, len(text) + TAG_LEN)[len(ASSOC):]


def decrypt(alg, sealed):
    return crypt(alg, socket.ALG_OP_DECRYPT, ASSOC, sealed, len(sealed) - TAG_LEN)[len(ASSOC):]


def vector(driver):
    alg = transform(driver)
    good = True
    out = encrypt(alg, PLAIN)
    print("encrypt:", "expected" if out == CIPHER else "WRONG " + out.hex())
    good &= out == CIPHER
    out = decrypt(alg, CIPHER)
    print("decrypt:", "expected" if out == PLAIN else "WRONG " + out.hex())
    good &= out == PLAIN
    bad = bytearray(CIPHER)
    bad[-1] ^= 1
    try:
        decrypt(alg, bytes(bad))
        print("wrong tag: ACCEPTED")
        good = False
    except OSError as e:
        print("wrong tag:", errno.errorcode.get(e.errno, e.errno))
        good &= e.errno == errno.EBADMSG
    return 0 if good else 1


def once(driver):
    try:
        out = encrypt(transform(driver), PLAIN)
        print("ok" if out == CIPHER else "wrong")
        return 0 if out == CIPHER else 1
    except OSError as e:
        print(errno.errorcode.get(e.errno, e.errno))
        return 1


def bench(driver, secs, size, jobs):
    alg = transform(driver)
    text = os.urandom(size)
    done = [0] * jobs
    start = time.monotonic()
    deadline = start + secs

    def worker(i):
        # Each thread has its own request socket; the GIL is released while
        # a request is in the kernel.
        while time.monotonic() < deadline:
            encrypt(alg, text)
            done[i] += len(ASSOC) + size

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    total = sum(done)
    print(f"{total} {elapsed:.3f} {total / elapsed:.0f}")
    return 0


def stall(driver, path, ms):
    # Everything slow (interpreter, socket set-up) happens before the stall
    # starts, so the request's time is the stall's.
    alg = transform(driver)
    with open(path, "w") as f:
        f.write(str(ms))
    start = time.monotonic()
    out = encrypt(alg, PLAIN)
    print(f"{(time.monotonic() - start) * 1000:.0f}")
    return 0 if out == CIPHER else 1


def hold(driver, secs):
    alg = transform(driver)
    print("holding", flush=True)
    time.sleep(secs)
    alg.close()
    return 0


def seqiv_roundtrip(alg):
    # seqiv() takes the associated data without the IV (for ESP: SPI and
    # sequence number) and puts its IV over the first 8 bytes of the text.
    assoc = bytes(8)
    text = bytes(8) + os.urandom(16)
    conn, _ = alg.accept()
    try:
        conn.sendmsg_afalg([assoc + text], op=socket.ALG_OP_ENCRYPT, iv=IV, assoclen=len(assoc))
        sealed = conn.recv(len(assoc) + len(text) + TAG_LEN)[len(assoc):]
    finally:
        conn.close()
    conn, _ = alg.accept()
    try:
        conn.sendmsg_afalg([assoc + sealed], op=socket.ALG_OP_DECRYPT, iv=IV, assoclen=len(assoc))
        opened = conn.recv(len(assoc) + len(sealed) - TAG_LEN)[len(assoc):]
    finally:
        conn.close()
    return opened[8:] == text[8:] and sealed[8:24] != text[8:]


def wait_file(path, pred, secs):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        with open(path) as f:
            if pred(int(f.read())):
                return True
        time.sleep(0.01)
    return False


def race(driver, path, secs):
    outer = f"seqiv({driver})"
    transform(outer).close()
    held = transform(driver)
    print("holding", flush=True)
    if not wait_file(path, lambda ms: ms != 0, 60):
        print("no pause injected")
        return 1
    held.close()
    if not wait_file(path, lambda ms: ms == 0, 30):
        print("the pause never began")
        return 1
    kept, errors, first_ms = [], [], None
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline and len(kept) < 100:
        start = time.monotonic()
        try:
            kept.append(transform(outer))
        except OSError as e:
            errors.append(errno.errorcode.get(e.errno, str(e.errno)))
        if first_ms is None:
            first_ms = (time.monotonic() - start) * 1000
        time.sleep(0.02)
    worked = 0
    for alg in kept:
        try:
            worked += seqiv_roundtrip(alg)
        except OSError as e:
            errors.append("use:" + errno.errorcode.get(e.errno, str(e.errno)))
        alg.close()
    names = ",".join(sorted(set(errors))) or "-"
    print(f"first_ms={first_ms:.0f} made={len(kept)} worked={worked} "
          f"failed={len(errors)} errors={names}")
    return 0 if worked == len(kept) else 1


def churn(driver, secs):
    deadline = time.monotonic() + secs
    count = 0
    while time.monotonic() < deadline:
        try:
            alg = transform(driver)
        except OSError as e:
            if e.errno == errno.ENOENT:
                print(f"{count} gone")
                return 0
            continue
        count += 1
        try:
            encrypt(alg, PLAIN)
        except OSError:
            pass
        alg.close()
    print(f"{count} timeout")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "vector":
        return vector(argv[2])
    if len(argv) >= 3 and argv[1] == "once":
        return once(argv[2])
    if len(argv) >= 5 and argv[1] == "bench":
        jobs = int(argv[5]) if len(argv) >= 6 else 4
        return bench(argv[2], float(argv[3]), int(argv[4]), jobs)
    if len(argv) >= 5 and argv[1] == "stall":
        return stall(argv[2], argv[3], int(argv[4]))
    if len(argv) >= 4 and argv[1] == "hold":
        return hold(argv[2], float(argv[3]))
    if len(argv) >= 4 and argv[1] == "churn":
        return churn(argv[2], float(argv[3]))
    if len(argv) >= 5 and argv[1] == "race":
        return race(argv[2], argv[3], float(argv[4]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
