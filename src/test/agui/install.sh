#!/usr/bin/env bash
# Installs the npm packages of the AG-UI client tests (src/test/agui) from package-lock.json. The Maven build runs
# it before the tests (see pom.xml, execution "agui-npm-install"); it only reinstalls when the lockfile changed, so
# builds after the first need no network.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "The AG-UI client tests need Node.js 20+ and npm on the PATH, and neither is there." >&2
  echo "Install Node.js 20 (it ships npm), or skip the tests with -DskipTests." >&2
  exit 1
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
  echo "The AG-UI client tests need Node.js 20 or newer; this is $(node --version)." >&2
  exit 1
fi

installed=node_modules/.package-lock.json
if [ -f "$installed" ] && [ "$installed" -nt package-lock.json ] && [ "$installed" -nt package.json ]; then
  echo "AG-UI test packages are up to date"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
