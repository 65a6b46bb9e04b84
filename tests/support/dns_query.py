#!/usr/bin/python3
"""dns_query.py NAME SERVER: one DNS A query over UDP, for tests that must
ask a particular server (no resolver library picks it). Prints the first
address, NXDOMAIN, NODATA or TIMEOUT."""

import socket
import struct
import sys


def query(name, server, timeout=3.0):
    q = struct.pack(">HHHHHH", 0x2b1d, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, 53))
        r = s.recv(4096)
    except socket.timeout:
        return "TIMEOUT"
    finally:
        s.close()
    rcode, answers = r[3] & 15, struct.unpack(">H", r[6:8])[0]
    if rcode == 3:
        return "NXDOMAIN"
    i = 12
    while r[i]:
        i += r[i] + 1
    i += 5
    for _ in range(answers):
        if r[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while r[i]:
                i += r[i] + 1
            i += 1
        rtype, _, _, length = struct.unpack(">HHIH", r[i:i + 10])
        i += 10
        if rtype == 1:
            return socket.inet_ntoa(r[i:i + 4])
        i += length
    return "NODATA"


if __name__ == "__main__":
    print(query(sys.argv[1], sys.argv[2]))
