#!/usr/bin/env bash
# Nightly rdpsweep run for cron: one dated folder per run, the last N kept, a `latest` link,
# and an exit status that is non-zero only when something NEW fails (or the run itself fails).
#
#   rdpsweep-nightly.sh [--root DIR] [--keep N] [--textfile-dir DIR] [--verbose] [--] [SCAN ARGS...]
#
# SCAN ARGS go to `rdpsweep scan` as they are: inventories (-i FILE), --config FILE, --rate ...
# Inventories may also come from the environment (RDPSWEEP_INVENTORY=/etc/rdpsweep/fleet.csv),
# like every other rdpsweep flag. The wrapper owns the output flags (--csv --jsonl --html
# --metrics --baseline): do not pass them.
#
# Environment (flags above win):
#   RDPSWEEP_BIN                   the rdpsweep executable (default: rdpsweep on PATH)
#   RDPSWEEP_NIGHTLY_ROOT          folder of the runs (default /var/lib/rdpsweep)
#   RDPSWEEP_NIGHTLY_KEEP          runs to keep (default 30)
#   RDPSWEEP_NIGHTLY_TEXTFILE_DIR  node_exporter textfile-collector folder for rdpsweep.prom
#
# Layout:
#   ROOT/2026-03-01T020000Z/  rdpsweep.csv rdpsweep.jsonl rdpsweep.html rdpsweep.prom scan.log exit-code
#   ROOT/2026-03-02T020000Z.failed/   a run that ended in a setup error or an interrupt
#   ROOT/latest -> 2026-03-01T020000Z (relative: valid inside a container's mount too)
#
# Each run compares against the previous complete run (latest/rdpsweep.jsonl) with --baseline
# and --fail-on new. With an rdpsweep that has no --baseline yet, every failing host counts as
# new (a warning says so) and the rest works the same.
#
# Exit: 0 no new failures; 1 new failures; 2 setup error (bad flags, inventory, output);
#       130 interrupted; 75 another run still holds ROOT/.lock.
# Output: nothing when the exit status is 0 (cron mails only what matters); otherwise the run's
# log and where the reports are. --verbose always prints.
set -euo pipefail

bin="${RDPSWEEP_BIN:-rdpsweep}"
root="${RDPSWEEP_NIGHTLY_ROOT:-/var/lib/rdpsweep}"
keep="${RDPSWEEP_NIGHTLY_KEEP:-30}"
textfile_dir="${RDPSWEEP_NIGHTLY_TEXTFILE_DIR:-}"
verbose=0
scan_args=()

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "rdpsweep-nightly: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a folder"; root="$2"; shift 2 ;;
    --keep) [ $# -ge 2 ] || die "--keep needs a number"; keep="$2"; shift 2 ;;
    --textfile-dir) [ $# -ge 2 ] || die "--textfile-dir needs a folder"; textfile_dir="$2"; shift 2 ;;
    --verbose) verbose=1; shift ;;
    -h | --help) usage ;;
    --) shift; scan_args+=("$@"); break ;;
    *) scan_args+=("$1"); shift ;;
  esac
done

[[ "$keep" =~ ^[0-9]+$ ]] && [ "$keep" -ge 1 ] || die "--keep must be a whole number from 1 (got '$keep')"
for a in "${scan_args[@]}"; do
  case "$a" in
    --csv | --csv=* | --jsonl | --jsonl=* | --html | --html=* | --metrics | --metrics=* | --baseline | --baseline=*)
      die "$a: the wrapper writes the reports itself (into the run folder); drop it" ;;
  esac
done
command -v "$bin" >/dev/null 2>&1 || die "rdpsweep not found ('$bin'): install it or set RDPSWEEP_BIN"
mkdir -p "$root" || die "cannot create $root"
root="$(cd "$root" && pwd)"
# For RDPSWEEP_BIN=rdpsweep-docker, which mounts this folder into the container.
export RDPSWEEP_NIGHTLY_ROOT="$root"

# One run at a time: a slow night must not overlap the next one.
exec 9>"$root/.lock"
if command -v flock >/dev/null 2>&1; then
  if ! flock -n 9; then
    echo "rdpsweep-nightly: another run holds $root/.lock; not starting" >&2
    exit 75
  fi
fi
# With the lock held, any staging folder left over is from a run that died.
rm -rf "$root"/.partial-* 2>/dev/null || true

# What this rdpsweep can do: flags that arrived later are used only when present.
help="$("$bin" scan --help 2>&1 || true)"
# A flag counts where --help defines it (an indented line starting with it), not where a text mentions it.
has_flag() { grep -Eq -- "^[[:space:]]+(-[[:alnum:]], )?--$1([[:space:]=<]|$)" <<<"$help"; }

stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
name="$stamp"
n=1
while [ -e "$root/$name" ] || [ -e "$root/$name.failed" ]; do
  name="$stamp-$n"
  n=$((n + 1))
done
stage="$root/.partial-$name"
mkdir "$stage"

prev=""
if [ -L "$root/latest" ] && [ -f "$root/latest/rdpsweep.jsonl" ]; then
  prev="$root/$(readlink "$root/latest")/rdpsweep.jsonl"
fi

args=(scan --csv "$stage/rdpsweep.csv" --jsonl "$stage/rdpsweep.jsonl")
has_flag html && args+=(--html "$stage/rdpsweep.html")
has_flag metrics && args+=(--metrics "$stage/rdpsweep.prom")
notes=()
if has_flag baseline; then
  [ -n "$prev" ] && args+=(--baseline "$prev")
  [ -n "$prev" ] || notes+=("first run: no previous report, every failing host counts as new")
else
  notes+=("this rdpsweep has no --baseline: every failing host counts as new")
fi
user_fail_on=0
for a in "${scan_args[@]}"; do
  case "$a" in --fail-on | --fail-on=*) user_fail_on=1 ;; esac
done
[ "$user_fail_on" = 1 ] || args+=(--fail-on new)
args+=("${scan_args[@]}")

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $bin ${args[*]}"
  for note in "${notes[@]}"; do echo "# note: $note"; done
} >"$stage/scan.log"
set +e
"$bin" "${args[@]}" >>"$stage/scan.log" 2>&1
rc=$?
set -e
echo "$rc" >"$stage/exit-code"

if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then
  mv "$stage" "$root/$name"
  # Atomic switch: a reader sees the old run or the new one, never no link.
  ln -sfn "$name" "$root/.latest.tmp"
  mv -Tf "$root/.latest.tmp" "$root/latest"
  if [ -n "$textfile_dir" ] && [ -f "$root/$name/rdpsweep.prom" ]; then
    cp "$root/$name/rdpsweep.prom" "$textfile_dir/.rdpsweep.prom.tmp" &&
      mv -f "$textfile_dir/.rdpsweep.prom.tmp" "$textfile_dir/rdpsweep.prom" ||
      echo "rdpsweep-nightly: warning: cannot update $textfile_dir/rdpsweep.prom" >&2
  fi
  run_dir="$root/$name"
else
  mv "$stage" "$root/$name.failed"
  run_dir="$root/$name.failed"
fi

# Keep the newest $keep runs (complete or failed); never the one `latest` points at.
current="$(readlink "$root/latest" 2>/dev/null || true)"
mapfile -t runs < <(find "$root" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' |
  grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z(-[0-9]+)?(\.failed)?$' | sort -r)
i=0
for r in "${runs[@]}"; do
  i=$((i + 1))
  [ "$i" -le "$keep" ] && continue
  [ "$r" = "$current" ] && continue
  rm -rf "${root:?}/$r"
done

if [ "$rc" != 0 ] || [ "$verbose" = 1 ]; then
  case "$rc" in
    0) what="no new failures" ;;
    1) what="NEW failures since the previous run" ;;
    130) what="interrupted" ;;
    *) what="the scan did not run (setup error $rc)" ;;
  esac
  echo "rdpsweep-nightly: $what; reports in $run_dir" >&2
  cat "$run_dir/scan.log" >&2
fi
exit "$rc"
