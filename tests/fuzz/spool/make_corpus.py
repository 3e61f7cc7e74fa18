#!/usr/bin/env python3
"""Writes the seed corpus of spool_record_fuzzer: small segment files in the format of
mta/spool/record.h (valid, torn, corrupt). Run from anywhere; writes next to this script."""
import os
import struct

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def seg_header(seq, floor):
    h = b"ECSPOOL1" + struct.pack("<QQI", seq, floor, 0)
    return h + struct.pack("<I", crc32c(h))

def s(x):
    x = x.encode()
    return struct.pack("<I", len(x)) + x

def record(rtype, meta, body=b""):
    head = struct.pack("<IBBBBII", 0xEC5B00C5, rtype, 1, 0, 0, len(meta), len(body))
    return head + struct.pack("<II", crc32c(meta, crc32c(head)), crc32c(body)) + meta + body

def state(kind=0, retries=0, next_us=0):
    return struct.pack("<BIq", kind, retries, next_us)

def message(qid, rcpts, body):
    meta = struct.pack("<QqBIB", qid, 1700000000000000, 1, 0, 2)
    meta += s("from@example.org") + s("127.0.0.1") + s("helo.example") + s("") + s("envid")
    meta += struct.pack("<I", len(rcpts))
    for r in rcpts:
        meta += s(r) + s("") + bytes([4]) + state()
    return record(1, meta, body)

def update(qid, ups):
    meta = struct.pack("<QI", qid, len(ups))
    for idx, kind, retries in ups:
        meta += struct.pack("<I", idx) + state(kind, retries, 1800000000000000)
    return record(2, meta)

def remove(qid):
    return record(3, struct.pack("<Q", qid))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(out, exist_ok=True)
body = b"Subject: hi\r\n\r\nhello\r\n" * 20
good = (seg_header(1, 0) + message(0x10, ["a@x.net", "b@y.net"], body) +
        update(0x10, [(1, 1, 2)]) + message(0x11, ["c@z.net"], b"") + remove(0x10))
# Three messages in a row, for damage in the middle one (recovery resynchronises past it).
three = [message(0x30 + i, ["m%d@x.net" % i], body) for i in range(3)]
mid = len(seg_header(3, 0)) + len(three[0])
row = seg_header(3, 0) + b"".join(three)
# A body that is itself a spool file (an attachment of one): whole records that must never be
# taken for the spool's own, because its record's header is sound.
inner = remove(0x30) + message(0x66, ["evil@x.net"], b"x")
carrier = message(0x31, ["m1@x.net"], inner)
flip_at = mid + len(carrier) - 5
seeds = {
    "valid_segment": good,
    "torn_tail": good[:-7],
    "torn_body": good[: len(seg_header(1, 0)) + 200],
    "bit_flip": good[:100] + bytes([good[100] ^ 0x40]) + good[101:],
    "header_only": seg_header(7, 99),
    "bad_header": b"ECSPOOL2" + good[8:],
    "many_rcpts": seg_header(2, 0) + message(0x20, ["r%d@x" % i for i in range(50)], b"b"),
    "mid_body_flip": row[:mid + 200] + bytes([row[mid + 200] ^ 0x01]) + row[mid + 201:],
    "mid_header_garbage": row[:mid] + bytes((i * 151 + 7) & 0xFF for i in range(40)) + row[mid + 40:],
    "body_holds_records": (seg_header(3, 0) + three[0] + carrier[:flip_at - mid] +
                           bytes([carrier[flip_at - mid] ^ 0x08]) + carrier[flip_at - mid + 1:] +
                           three[2]),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
