#!/usr/bin/env bash
# Load client for a running gateway (docs/benchmarks.md, "Whole gateway"). Every flag is listed by
#   scripts/load.sh --help
# Configuration: flags > DIMINUENDO_* environment variables > a .env file in the current directory.
# Builds the test classes (the client lives in src/test/java/io/diminuendo/bench) and runs it through the
# Maven profile "load"; the current directory stays the caller's, so .env and --json paths are relative to it.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# The idle-connection benchmark needs one file descriptor per connection: raise the limit when allowed.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# exec-maven-plugin splits -Dexec.args itself: quote each argument so values with spaces survive.
args=""
for a in "$@"; do
  args+="\"${a//\"/\\\"}\" "
done
exec "$ROOT/mvnw" -q -f "$ROOT/pom.xml" -Pload test-compile exec:java -Dexec.args="$args"
