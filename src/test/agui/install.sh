#!/usr/bin/env bash
# Installs the npm packages of the AG-UI client tests (src/test/agui) from package-lock.json. The Maven build runs
# it before the tests (see pom.xml, execution "agui-npm-install"); it only reinstalls when the lockfile changed, so
# builds after the first need no network.
set -euo pipefail
cd "$(dirname "$0")"

# shellcheck source=../require-node.sh
source ../require-node.sh "AG-UI client tests"
npm_ci_when_changed "AG-UI test"
