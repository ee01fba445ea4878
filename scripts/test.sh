#!/bin/sh
# Builds the test configuration (-Werror, ASan/UBSan) and runs every test.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh --test
cmake -S . -B build-test -DSMAUDIT_TESTS=ON -DSMAUDIT_SANITIZE=ON -DSMAUDIT_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-test -j2
ctest --test-dir build-test --output-on-failure -j2
