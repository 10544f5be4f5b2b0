#!/usr/bin/env bash
# Creates a JDK AOT cache for the packaged gateway (JDK 25 or newer: JEP 483 class loading and linking, JEP 514
# one-step creation, JEP 515 method profiles) by a training run: the gateway is started with -XX:AOTCacheOutput,
# runs its own start-up warm-up (connects, authenticates, creates sessions, streams short turns, verifies JWTs),
# and is stopped once readiness reports UP; the JVM then writes the cache. A gateway started with
# -XX:AOTCache=<file> loads most of its classes from it and starts about a second sooner (docs/operations.md,
# "Start-up warm-up").
#
#   scripts/aot-cache.sh [APP_DIR] [CACHE_FILE]
#     APP_DIR     the packaged gateway (default target/quarkus-app, after ./mvnw package)
#     CACHE_FILE  where to write the cache (default APP_DIR/diminuendo.aot)
#   JAVA        the java to train with (default $JAVA_HOME/bin/java, else java); it must be the one that runs the
#               gateway later, and the gateway must be started from the same APP_DIR path (the cache records it)
#   AOT_JAVA_OPTS  JVM options of the training run: give it those the gateway will run with (heap, GC, system
#               properties), so that the run loads the same classes and the cache fits the JVM that maps it
#   AOT_PORT, AOT_MANAGEMENT_PORT   ports of the training run (default: free ones)
#
# The training run uses a throwaway store and secret in a temporary directory and reaches nothing outside the machine.
set -euo pipefail

app=$(cd "${1:-target/quarkus-app}" && pwd -P)
cache=${2:-$app/diminuendo.aot}
java=${JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}
timeout_s=${AOT_TIMEOUT:-180}

if ! "$java" -XX:+UnlockDiagnosticVMOptions -XX:+PrintFlagsFinal -version 2>/dev/null | grep -q ' AOTCacheOutput '; then
  echo "aot-cache: $java cannot write an AOT cache (-XX:AOTCacheOutput needs JDK 25 or newer)" >&2
  exit 2
fi
if [ ! -f "$app/quarkus-run.jar" ]; then
  echo "aot-cache: no $app/quarkus-run.jar; build it first: ./mvnw package -DskipTests" >&2
  exit 2
fi

free_port() {
  local candidate
  for _ in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "aot-cache: no free port found" >&2
  exit 1
}
port=${AOT_PORT:-$(free_port)}
management=${AOT_MANAGEMENT_PORT:-$(free_port)}

# ready: true when the readiness probe answers 200 (plain bash: container images may have no curl)
ready() {
  local status
  status=$( (exec 3<>"/dev/tcp/127.0.0.1/$management" \
      && printf 'GET /q/health/ready HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3 && head -n 1 <&3) 2>/dev/null || true)
  [[ $status == *" 200"* ]]
}

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
rm -f "$cache"
echo "aot-cache: training run of $app with $("$java" -version 2>&1 | head -n 1)"
# shellcheck disable=SC2086 # AOT_JAVA_OPTS holds several options
"$java" ${AOT_JAVA_OPTS:-} -XX:AOTCacheOutput="$cache" --enable-native-access=ALL-UNNAMED \
  -Dquarkus.http.port="$port" -Dquarkus.http.host=127.0.0.1 \
  -Dquarkus.management.port="$management" -Dquarkus.management.host=127.0.0.1 \
  -Ddiminuendo.store.path="$work/training.db" -Ddiminuendo.auth.jwt-secret="$secret" \
  -jar "$app/quarkus-run.jar" > "$work/training.log" 2>&1 &
pid=$!

waited=0
until ready; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "aot-cache: the training run stopped before it was ready:" >&2
    tail -n 30 "$work/training.log" >&2
    exit 1
  fi
  if [ "$waited" -ge $((timeout_s * 5)) ]; then
    echo "aot-cache: not ready after ${timeout_s}s:" >&2
    tail -n 30 "$work/training.log" >&2
    exit 1
  fi
  sleep 0.2
  waited=$((waited + 1))
done

# on a normal exit the JVM assembles the cache (in a child JVM), which takes a few seconds
kill -TERM "$pid"
wait "$pid" || true
pid=
if [ ! -s "$cache" ]; then
  echo "aot-cache: no cache was written:" >&2
  tail -n 30 "$work/training.log" >&2
  exit 1
fi
echo "aot-cache: wrote $cache ($(du -h "$cache" | cut -f1)); start the gateway with -XX:AOTCache=$cache -jar $app/quarkus-run.jar"
