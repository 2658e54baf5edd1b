#!/usr/bin/env python3
"""Print a demo scan's CSV and JSON Lines with the fields that change from run to run masked
(times, durations, RTTs, fresh lab certificates' fingerprints and dates), rows sorted, so
two runs - before and after a refactor - can be compared with diff.
Usage: demo-fingerprint.py DIR  (DIR holds rdpsweep.csv and rdpsweep.jsonl)"""
import csv, json, re, sys

VOLATILE = {"scanned_at", "duration_ms", "ms", "rtt_ms", "sha1", "sha256", "cert_sha1",
            "cert_sha256", "not_before", "not_after", "not_before_unix", "not_after_unix",
            "cert_not_before", "cert_not_after", "timestamp_unix", "clock_skew_s", "serial",
            "first_bytes"}
DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
HEX = re.compile(r"first bytes [0-9a-f]+")
NUM = re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b")

def scrub(v):
    if isinstance(v, str):
        return HEX.sub("first bytes HEX", NUM.sub("N", DATE.sub("DATE", v)))
    return v

def walk(o):
    if isinstance(o, dict):
        return {k: ("X" if k in VOLATILE else walk(v)) for k, v in o.items()}
    if isinstance(o, list):
        return [walk(v) for v in o]
    return scrub(o)

d = sys.argv[1]
with open(f"{d}/rdpsweep.csv", newline="", encoding="utf-8-sig") as f:
    rows = list(csv.reader(f))
head = rows[0]
print("CSV", head)
out = []
for r in rows[1:]:
    out.append([("X" if h in VOLATILE else scrub(v)) for h, v in zip(head, r)])
for r in sorted(out):
    print(r)
lines = []
with open(f"{d}/rdpsweep.jsonl", encoding="utf-8") as f:
    for line in f:
        lines.append(json.dumps(walk(json.loads(line)), sort_keys=False))
for l in sorted(lines):
    print(l)
