#!/usr/bin/env bash
# The build steps of the Dockerfile's builder stage, kept in one script so that the image
# build and scripts/check-dockerfile.sh (which runs them outside Docker) cannot drift apart.
#
#   scripts/docker-build.sh deps   # only Cargo.toml + Cargo.lock present: build every dependency
#                                  # against stub sources, so this layer is cached until they change
#   scripts/docker-build.sh app    # the real sources present: build, strip, stage into out/
#
# Run from the crate root. Output of `app`: out/rdpsweep (stripped) and out/data/ (the volume's
# initial, empty folder). CARGO_TARGET_DIR is honoured (default: target/).
set -euo pipefail

# The same flags in both steps, or the dependency layer would not be reused.
CARGO_FLAGS=(--release --locked --bin rdpsweep)
target_dir="${CARGO_TARGET_DIR:-target}"

die() {
  echo "docker-build.sh: $*" >&2
  exit 1
}

[ -f Cargo.toml ] && [ -f Cargo.lock ] || die "run from the crate root (Cargo.toml and Cargo.lock missing)"

# Cargo refuses a manifest whose declared [[bench]]/[[test]]/[[example]] file is missing, even
# when building only the binary: list them (section, name, optional path) to stub them.
declared_targets() {
  awk '
    /^\[\[(bench|test|example)\]\]/ { if (kind != "") print kind, name, path; kind = $0; gsub(/[][]/, "", kind); name = ""; path = ""; next }
    /^\[/ { if (kind != "") print kind, name, path; kind = ""; next }
    kind != "" && /^[ \t]*name[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*"/, "", v); sub(/".*/, "", v); name = v }
    kind != "" && /^[ \t]*path[ \t]*=/ { v = $0; sub(/^[^=]*=[ \t]*"/, "", v); sub(/".*/, "", v); path = v }
    END { if (kind != "") print kind, name, path }
  ' Cargo.toml
}

stub_sources() {
  mkdir -p src
  [ -e src/main.rs ] || echo 'fn main() {}' > src/main.rs
  [ -e src/lib.rs ] || : > src/lib.rs
  local kind name path dir
  while read -r kind name path; do
    [ -n "$name" ] || continue
    case "$kind" in
      bench) dir=benches ;;
      test) dir=tests ;;
      example) dir=examples ;;
      *) continue ;;
    esac
    path="${path:-$dir/$name.rs}"
    if [ ! -e "$path" ]; then
      mkdir -p "$(dirname "$path")"
      echo 'fn main() {}' > "$path"
    fi
  done < <(declared_targets)
}

case "${1:-}" in
  deps)
    [ ! -e src/main.rs ] || die "deps: src/main.rs exists; this step runs before the sources are copied"
    stub_sources
    cargo build "${CARGO_FLAGS[@]}"
    # The stub crate's own artifacts must not be mistaken for the real one's.
    rm -f "$target_dir/release/rdpsweep" "$target_dir/release/deps/rdpsweep-"* \
      "$target_dir/release/deps/librdpsweep-"*
    rm -rf "$target_dir/release/.fingerprint/rdpsweep-"*
    ;;
  app)
    [ -s src/main.rs ] && [ -s src/lib.rs ] || die "app: the real sources are missing (src/main.rs, src/lib.rs)"
    # Declared benches/tests may be absent from the build context: stubs keep cargo content.
    stub_sources
    cargo build "${CARGO_FLAGS[@]}"
    mkdir -p out/data
    # Line tables and symbols serve backtraces on a developer machine; the image ships the code.
    strip --strip-all -o out/rdpsweep "$target_dir/release/rdpsweep"
    out/rdpsweep --version
    ;;
  *)
    die "usage: scripts/docker-build.sh deps|app"
    ;;
esac
