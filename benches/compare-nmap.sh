#!/usr/bin/env bash
# nmap against rdpsweep on the same simulated fleet (loopback only).
#
#   benches/compare-nmap.sh                       # nmap over 500 lab hosts, rdpsweep over 10,000
#   NMAP_HOSTS=200 SCAN_HOSTS=10000 benches/compare-nmap.sh
#
# One `rdpsweep lab` process serves SCAN_HOSTS hosts (the realistic mix of `Lab::scale`: 2 % filtered,
# 3 % closed, ...). nmap runs `-Pn -n -p 3389 --script rdp-enum-encryption,rdp-ntlm-info,ssl-cert`
# over the first NMAP_HOSTS of them (nmap is slow: a few hosts per second); rdpsweep runs
# `scan --depth standard --rate 0` over all SCAN_HOSTS. Prints both hosts/s and their ratio.
# Both tools see the same mix, so both pay for the filtered hosts' connect timeouts.
set -euo pipefail
cd "$(dirname "$0")/.."

NMAP_HOSTS=${NMAP_HOSTS:-500}
SCAN_HOSTS=${SCAN_HOSTS:-10000}
BASE=${BASE:-127.220.0.1}
CONCURRENCY=${CONCURRENCY:-1024}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-1s}
OUT=${OUT:-target/compare-nmap}

command -v nmap >/dev/null || { echo "compare-nmap: nmap is not installed (apt-get install nmap)" >&2; exit 2; }
if [ "$NMAP_HOSTS" -gt "$SCAN_HOSTS" ]; then
  echo "compare-nmap: NMAP_HOSTS must not exceed SCAN_HOSTS" >&2
  exit 2
fi
cargo build --release --quiet --bin rdpsweep
BIN=target/release/rdpsweep
mkdir -p "$OUT"
rm -f "$OUT/lab.csv"

# The lab needs one descriptor per host plus the open connections.
ulimit -n $((SCAN_HOSTS * 2 + 70000)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

"$BIN" lab --hosts "$SCAN_HOSTS" --base "$BASE" --inventory "$OUT/lab.csv" 2>"$OUT/lab.log" &
LAB=$!
trap 'kill -INT $LAB 2>/dev/null; wait $LAB 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "rdpsweep lab:" "$OUT/lab.log" 2>/dev/null && break
  kill -0 "$LAB" 2>/dev/null || { cat "$OUT/lab.log" >&2; exit 2; }
  sleep 0.1
done
grep -q "rdpsweep lab:" "$OUT/lab.log" || { echo "compare-nmap: the lab did not start" >&2; exit 2; }

# The inventory's host column holds the lab's addresses, in order.
# (awk, not `tail | head`: head's early exit is a SIGPIPE that pipefail turns into a silent stop.)
awk -F, -v n="$NMAP_HOSTS" 'NR > 1 && NR <= n + 1 { print $1 }' "$OUT/lab.csv" > "$OUT/nmap-hosts.txt"

now() { date +%s.%N; }
echo "compare-nmap: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"

t0=$(now)
nmap -Pn -n -p 3389 --script rdp-enum-encryption,rdp-ntlm-info,ssl-cert \
  -iL "$OUT/nmap-hosts.txt" -oX "$OUT/nmap.xml" -oN "$OUT/nmap.txt" >/dev/null
t1=$(now)

"$BIN" scan -i "$OUT/lab.csv" --depth standard --rate 0 --concurrency "$CONCURRENCY" \
  --connect-timeout "$CONNECT_TIMEOUT" --max-targets 100000000 --fail-on never --quiet \
  --csv "$OUT/rdpsweep.csv" --jsonl "$OUT/rdpsweep.jsonl"
t2=$(now)

nmap_up=$(grep -c 'state="open"' "$OUT/nmap.xml" || true)
nmap_ntlm=$(grep -c 'id="rdp-ntlm-info"' "$OUT/nmap.xml" || true)
nmap_cert=$(grep -c 'id="ssl-cert"' "$OUT/nmap.xml" || true)
rows=$(($(wc -l < "$OUT/rdpsweep.csv") - 1))
awk -v nh="$NMAP_HOSTS" -v sh="$rows" -v t0="$t0" -v t1="$t1" -v t2="$t2" \
    -v up="$nmap_up" -v ntlm="$nmap_ntlm" -v cert="$nmap_cert" 'BEGIN {
  n = nh / (t1 - t0); r = sh / (t2 - t1);
  printf "| tool | hosts | seconds | hosts/s |\n|---|---|---|---|\n";
  printf "| nmap rdp-enum-encryption,rdp-ntlm-info,ssl-cert | %d | %.1f | %.1f |\n", nh, t1 - t0, n;
  printf "| rdpsweep scan --depth standard | %d | %.1f | %.0f |\n", sh, t2 - t1, r;
  printf "\nratio rdpsweep / nmap: %.0fx (goal >= 200x)\n", r / n;
  printf "nmap: %d open ports, %d rdp-ntlm-info and %d ssl-cert results\n", up, ntlm, cert;
}'
