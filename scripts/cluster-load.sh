#!/usr/bin/env bash
# Cluster figures (docs/benchmarks.md, "Cluster"): three packaged gateways as the pods of one cluster (a fresh
# PostgreSQL database, NATS under a subject prefix of this run's own), and one gateway on SQLite beside them. The
# load client (scripts/load.sh) measures session creation on the first pod and the streaming benchmark with K=1 and
# K=100 subscribers spread over the three (the turn runs on the first), then the same against the SQLite gateway.
# The pods are stopped and the database dropped afterwards, also after a failure.
#
#   scripts/cluster-load.sh [load client flags...]       e.g. --stream-tokens 500 --stream-rounds 1 for a smoke run
#
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), PGPASSWORD; NATS_URL (nats://127.0.0.1:4222);
# CLUSTER_PORTS ("8081 8082 8083"), SQLITE_PORT (8084); OUT (a new directory under /tmp): pod logs, results.json.
# The gateways are target/quarkus-app/quarkus-run.jar in the dev profile, built first if missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
JAR="$ROOT/target/quarkus-app/quarkus-run.jar"
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
read -r -a PORTS <<< "${CLUSTER_PORTS:-8081 8082 8083}"
SQLITE_PORT=${SQLITE_PORT:-8084}
OUT=${OUT:-$(mktemp -d /tmp/diminuendo-cluster.XXXXXX)}
RUN="$(date +%s)$$"
DB="diminuendo_bench_$RUN"
PREFIX="bench$RUN"
mkdir -p "$OUT"

log() { printf '[cluster-load %(%T)T] %s\n' -1 "$*" >&2; }

if [[ ! -f "$JAR" ]]; then
  log "building $JAR"
  "$ROOT/mvnw" -B -q -f "$ROOT/pom.xml" package -DskipTests
fi
for port in "${PORTS[@]}" "$SQLITE_PORT"; do
  if curl -fsS -o /dev/null "http://localhost:$port/health" 2>/dev/null; then
    log "port $port is already in use by a running gateway; stop it or choose CLUSTER_PORTS / SQLITE_PORT"
    exit 2
  fi
done

PIDS=()
DB_CREATED=
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ -n "$DB_CREATED" ]]; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null && log "dropped database $DB"
  fi
}
trap cleanup EXIT

# start NAME PORT PROPERTY...: a gateway in the dev profile, its output in $OUT/NAME.log; its management interface
# (health probes, metrics) on PORT + 1000, so that the gateways of one machine do not all want 9000
start() {
  local name=$1 port=$2
  shift 2
  java -Dquarkus.profile=dev -Dquarkus.http.port="$port" -Dquarkus.management.port=$((port + 1000)) "$@" \
    -jar "$JAR" > "$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  log "$name: pid $! on port $port (log $OUT/$name.log)"
}

# healthy PORT PID: waits up to 120 s for /health to answer 200
healthy() {
  local port=$1 pid=$2 deadline=$((SECONDS + 120))
  until curl -fsS -o /dev/null "http://localhost:$port/health" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the gateway on port $port exited during start-up; see $OUT"
      return 1
    fi
    if ((SECONDS > deadline)); then
      log "the gateway on port $port is not healthy after 120 s; see $OUT"
      return 1
    fi
    sleep 0.2
  done
}

psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
DB_CREATED=1
log "created database $DB on $PGHOST:$PGPORT; bus $NATS_URL, subject prefix $PREFIX"

STORE=(-Ddiminuendo.store.kind=postgresql "-Ddiminuendo.store.jdbc-url=jdbc:postgresql://$PGHOST:$PGPORT/$DB"
       "-Ddiminuendo.store.username=$PGUSER")
if [[ -n "${PGPASSWORD:-}" ]]; then
  STORE+=("-Ddiminuendo.store.password=$PGPASSWORD")
fi
URLS=()
for i in "${!PORTS[@]}"; do
  pod="pod-$((i + 1))"
  start "$pod" "${PORTS[$i]}" "${STORE[@]}" "-Ddiminuendo.store.path=$OUT/$pod-unused.db" \
    -Ddiminuendo.bus.kind=nats "-Ddiminuendo.bus.url=$NATS_URL" "-Ddiminuendo.bus.subject-prefix=$PREFIX" \
    "-Ddiminuendo.cluster.pod-name=$pod"
  URLS+=("http://localhost:${PORTS[$i]}")
done
start sqlite "$SQLITE_PORT" "-Ddiminuendo.store.path=$OUT/sqlite.db"
for i in "${!PORTS[@]}"; do
  healthy "${PORTS[$i]}" "${PIDS[$i]}"
done
healthy "$SQLITE_PORT" "${PIDS[${#PORTS[@]}]}"
log "all gateways healthy; load average $(cut -d' ' -f1-3 /proc/loadavg)"

status=0
POD_PIDS=("${PIDS[@]:0:${#PORTS[@]}}")
"$ROOT/scripts/load.sh" --urls "$(IFS=,; echo "${URLS[*]}")" --gateway-pid "$(IFS=,; echo "${POD_PIDS[*]}")" \
  --compare-url "http://localhost:$SQLITE_PORT" --compare-pid "${PIDS[${#PORTS[@]}]}" \
  --benchmarks session,stream --stream-subscribers 1,100 --json "$OUT/results.json" "$@" || status=$?
log "results: $OUT/results.json; pod logs: $OUT"
exit "$status"
