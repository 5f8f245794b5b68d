#!/usr/bin/env python3
"""Generates an OT-heavy capture for the `ot-decode` benchmark (BENCHMARKS.md).

Usage: gen-ot-pcap.py OUT.pcap [FLOWS] [TRANSACTIONS_PER_FLOW]

Half the flows are Modbus/TCP (port 502: a read of holding registers, a write of a single
register and a write of multiple registers per round, each answered), half IEC 60870-5-104
(port 2404: STARTDT, then per round a single command, its confirmation, a spontaneous
measurement ASDU with 8 objects and an S-frame). Every segment carries whole frames with
consecutive sequence numbers, so the agent's reassembly delivers them in order. Deterministic:
the same arguments always give the same bytes.
"""
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    total = 20 + len(tcp) + len(payload)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp + payload)) + tcp[18:]
    eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
    return eth + ip + tcp + payload


def modbus_rounds(n):
    for tid in range(n):
        t = tid & 0xFFFF
        yield True, struct.pack("!HHHBBHH", t, 0, 6, 1, 3, 100, 10)
        yield False, struct.pack("!HHHBBB", t, 0, 23, 1, 3, 20) + bytes(20)
        yield True, struct.pack("!HHHBBHH", t, 0, 6, 1, 6, 40, tid & 0xFFFF)
        yield False, struct.pack("!HHHBBHH", t, 0, 6, 1, 6, 40, tid & 0xFFFF)
        yield True, struct.pack("!HHHBBHHB", t, 0, 11, 1, 16, 50, 2, 4) + bytes(4)
        yield False, struct.pack("!HHHBBHH", t, 0, 6, 1, 16, 50, 2)


def iec104_rounds(n):
    yield True, bytes([0x68, 4, 0x07, 0, 0, 0])
    yield False, bytes([0x68, 4, 0x0B, 0, 0, 0])
    ssn_c = ssn_s = 0
    for i in range(n):
        ctrl = struct.pack("<HH", (ssn_c << 1) & 0xFFFF, (ssn_s << 1) & 0xFFFF)
        asdu = bytes([45, 1, 6, 0]) + struct.pack("<H", 400) + struct.pack("<I", 1000 + i)[:3] + b"\x01"
        yield True, bytes([0x68, 4 + len(asdu)]) + ctrl + asdu
        ssn_c += 1
        ctrl = struct.pack("<HH", (ssn_s << 1) & 0xFFFF, (ssn_c << 1) & 0xFFFF)
        asdu = bytes([45, 1, 7, 0]) + struct.pack("<H", 400) + struct.pack("<I", 1000 + i)[:3] + b"\x01"
        yield False, bytes([0x68, 4 + len(asdu)]) + ctrl + asdu
        ssn_s += 1
        ctrl = struct.pack("<HH", (ssn_s << 1) & 0xFFFF, (ssn_c << 1) & 0xFFFF)
        objs = b"".join(struct.pack("<I", 5000 + k)[:3] + struct.pack("<f", k * 1.5) + b"\0" for k in range(8))
        asdu = bytes([13, 8, 3, 0]) + struct.pack("<H", 400) + objs
        yield False, bytes([0x68, 4 + len(asdu)]) + ctrl + asdu
        ssn_s += 1
        yield True, bytes([0x68, 4, 0x01, 0]) + struct.pack("<H", (ssn_s << 1) & 0xFFFF)


def main():
    out = sys.argv[1]
    flows = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    ts = 1_700_000_000_000_000
    packets = 0
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

        def emit(data):
            nonlocal ts, packets
            ts += 50
            f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(data), len(data)))
            f.write(data)
            packets += 1

        for n in range(flows):
            client = bytes([10, 1, (n >> 8) & 0xFF, n & 0xFF])
            server = bytes([10, 2, 0, 1 + n % 50])
            sport = 20000 + n
            modbus = n % 2 == 0
            dport = 502 if modbus else 2404
            cseq, sseq = 1000, 9000
            emit(frame(client, server, sport, dport, cseq, 0, 0x02, b""))
            emit(frame(server, client, dport, sport, sseq, cseq + 1, 0x12, b""))
            cseq += 1
            sseq += 1
            emit(frame(client, server, sport, dport, cseq, sseq, 0x10, b""))
            msgs = modbus_rounds(rounds) if modbus else iec104_rounds(rounds)
            for to_server, payload in msgs:
                if to_server:
                    emit(frame(client, server, sport, dport, cseq, sseq, 0x18, payload))
                    cseq += len(payload)
                else:
                    emit(frame(server, client, dport, sport, sseq, cseq, 0x18, payload))
                    sseq += len(payload)
            emit(frame(client, server, sport, dport, cseq, sseq, 0x11, b""))
            emit(frame(server, client, dport, sport, sseq, cseq + 1, 0x11, b""))
    print(f"{out}: {packets} packets, {flows} flows")


if __name__ == "__main__":
    main()
