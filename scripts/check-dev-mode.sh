#!/usr/bin/env bash
# Starts `./mvnw quarkus:dev` non-interactively on a free port, waits for /health, checks that the Dev UI
# answers and that its configuration page lists the gateway's own diminuendo.* settings, that the console is served
# at / (and, when the console tests' packages and Chromium are installed, signs in with the dev key and streams a
# turn in headless Chromium), then stops it.
# Edits nothing. Takes 1-2 minutes on our 2-core machines; not part of `./mvnw verify`.
# The store goes to a temporary file, so a gateway you already run on ./data is not disturbed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

timeout_s=${DEV_MODE_TIMEOUT:-300}
work=$(mktemp -d)
log="$work/dev-mode.log"

port=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
[[ -n "$port" ]] || { echo "no free port found" >&2; exit 1; }

setsid ./mvnw -B quarkus:dev -Dquarkus.console.enabled=false -Ddebug=false -Dquarkus.analytics.disabled=true \
  -Dquarkus.http.port="$port" -Ddiminuendo.store.path="$work/dev.db" </dev/null >"$log" 2>&1 &
pid=$!

stop() {
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

fail() {
  echo "FAIL: $1" >&2
  echo "--- last lines of the dev-mode log:" >&2
  tail -n 40 "$log" >&2
  exit 1
}

start=$(date +%s)
until curl -sf "http://localhost:$port/health" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || fail "dev mode exited during start-up"
  (( $(date +%s) - start < timeout_s )) || fail "/health did not answer within ${timeout_s}s"
  sleep 1
done
echo "dev mode up on :$port after $(( $(date +%s) - start ))s: $(curl -s "http://localhost:$port/health")"

grep -q "Profile dev activated" "$log" || fail "the dev profile is not active"
code=$(curl -s -o /dev/null -w '%{http_code}' -L "http://localhost:$port/q/dev-ui/")
[[ "$code" == 200 ]] || fail "/q/dev-ui/ answered $code"
echo "Dev UI answers at /q/dev-ui/"
config=$(java scripts/DevUiRpc.java "ws://localhost:$port/q/dev-ui/json-rpc-ws" devui-configuration_getAllConfiguration) \
  || fail "the Dev UI configuration could not be read over its JSON-RPC socket"
for property in diminuendo.store.path diminuendo.store.writer.queue-capacity diminuendo.limits.outbound-queue; do
  grep -q "\"$property\"" <<<"$config" || fail "the Dev UI configuration does not list $property"
done
echo "the Dev UI configuration lists the diminuendo.* settings"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer diminuendo-dev-key' "http://localhost:$port/api/sessions")
[[ "$code" == 200 ]] || fail "the dev key was refused (/api/sessions answered $code)"
echo "the dev API key works"
curl -sf "http://localhost:$port/" | grep -q 'data-testid="token-input"' || fail "/ does not serve the console"
curl -sf "http://localhost:$port/console/settings.json" | grep -q '"simMenu":true' \
  || fail "the console does not offer the /sim menu in the dev profile"
echo "the console answers at /"
if [[ -d src/test/console/node_modules/playwright-core && -x "${DIMINUENDO_TEST_CHROMIUM:-/usr/bin/chromium}" ]]; then
  (cd src/test/console && node console.mjs stream \
    "{\"base\":\"http://localhost:$port/\",\"key\":\"diminuendo-dev-key\"}" </dev/null >/dev/null) \
    || fail "signing in to the console with the dev key and streaming a /sim turn failed"
  echo "the console signs in with the dev key and streams a turn (headless Chromium)"
fi
echo "dev mode check passed"
