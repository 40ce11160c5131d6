#!/bin/sh
# Schemathesis over every API operation with many fresh random examples (CI runs 12 fixed
# ones): no 5xx and no answer outside the schema. Usage: bench/fuzz.sh [EXAMPLES|--smoke]
# [-- pytest args], e.g. bench/fuzz.sh 500; --smoke (make bench-smoke) draws 2 per
# operation. With KASERU_TEST_DATABASE_URL set it runs on PostgreSQL.
set -e
cd "$(dirname "$0")/.."
examples=${1:-500}
[ "$examples" = --smoke ] && examples=2
[ $# -gt 0 ] && shift
[ "${1:-}" = -- ] && shift
start=$(date +%s)
KASERU_FUZZ_EXAMPLES=$examples .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/api/test_schemathesis.py "$@"
echo "schemathesis: $examples random examples per operation, no 5xx, $(( $(date +%s) - start )) s"
