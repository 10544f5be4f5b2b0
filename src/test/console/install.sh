#!/usr/bin/env bash
# Installs what the client-library and console tests need (run by the Maven build before the tests, see pom.xml,
# execution "console-test-install"):
# - the npm packages of src/test/console from package-lock.json (ws, playwright-core), again only when the
#   lockfile changed, so later builds need no network;
# - Debian's chromium, when no Chromium is on the machine yet (playwright-core never downloads a browser).
#   DIMINUENDO_TEST_CHROMIUM names another Chromium binary instead.
set -euo pipefail
cd "$(dirname "$0")"

# shellcheck source=../require-node.sh
source ../require-node.sh "console tests"

npm_ci_when_changed "console test"

chromium="${DIMINUENDO_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  echo "browser for the console tests: $chromium"
  exit 0
fi
if [ -n "${DIMINUENDO_TEST_CHROMIUM:-}" ]; then
  echo "DIMINUENDO_TEST_CHROMIUM=$chromium is not an executable file." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The console tests need Chromium at /usr/bin/chromium (or DIMINUENDO_TEST_CHROMIUM), and this machine has no" >&2
  echo "apt-get to install Debian's package. Install Chromium, or skip the tests with -DskipTests." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the console tests needs root (or sudo); install it with" >&2
    echo "  apt-get install chromium" >&2
    exit 1
  fi
  sudo="sudo -n"
fi
echo "installing Debian's chromium for the console tests (once)"
export DEBIAN_FRONTEND=noninteractive
# a fresh machine may not have read its package lists yet
$sudo apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null; }
if [ ! -x "$chromium" ]; then
  echo "apt-get finished, but $chromium is still missing." >&2
  exit 1
fi
echo "installed $("$chromium" --version 2>/dev/null || echo chromium)"
