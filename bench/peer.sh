#!/usr/bin/env bash
# Dostup side by side with Better Auth, in one run of the shared peer harness
# (/work/shared/peers/better-auth: same users, same load, same report for both systems).
#
# The harness folder is read-only and writes its results next to itself, so it is copied to
# PEER_WORK (default /tmp/dostup-peer-ba; node_modules is kept between runs, the harness files are
# refreshed) and run there with Dostup plugged in as the EXTERNAL system through bench/peer-adapter.mjs.
#
#   bash bench/peer.sh                       # default knobs, ~6 min (+ ~2 min first npm install)
#   DURATION=5 USERS=50 bash bench/peer.sh   # any run.sh knob passes through
#   DOSTUP_DB=postgres://postgres@127.0.0.1:5432/test bash bench/peer.sh
#       # Dostup on PostgreSQL (its production store) in a database created for the run and dropped
#       # after; Better Auth stays on its fastest store here, SQLite (DB=pg moves it to PostgreSQL too)
#
# Phases: all of the harness's (sign-in, session, reset request for existing/unknown e-mails with the
# timing probe, complete reset). Dostup runs without SMTP_URL, so its mail lands in the dev mailbox,
# where the adapter reads the reset link (the harness reads Better Auth's from a test endpoint).
# Output: the harness's summary JSON on stdout, also copied to bench/results/peer-<stamp>.json.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
SRC="${PEER_SRC:-/work/shared/peers/better-auth}"
WORK="${PEER_WORK:-/tmp/dostup-peer-ba}"
MAX_RUN_S="${MAX_RUN_S:-1200}"
log() { echo "[peer.sh $(date -u +%H:%M:%S)] $*" >&2; }

[ -f "$SRC/run.sh" ] || { log "no peer harness at $SRC"; exit 2; }

# ---- 1. copy the harness (never write into the shared, read-only original) --------------------
mkdir -p "$WORK"
chmod -R u+w "$WORK"
for f in "$SRC"/* "$SRC"/.gitignore; do
  name="$(basename "$f")"
  case "$name" in node_modules | data) continue ;; esac
  rm -rf "${WORK:?}/$name"
  cp -r "$f" "$WORK/$name"
done
chmod -R u+w "$WORK"

# ---- 2. install once (better-sqlite3 compiles from source here: ~2 min) -------------------------
if [ ! -f "$WORK/node_modules/better-auth/package.json" ] || [ ! -f "$WORK/node_modules/autocannon/package.json" ] \
  || ! (cd "$WORK" && node -e "require('better-sqlite3')" 2>/dev/null); then
  log "npm install in $WORK (bounded: 900 s)"
  (cd "$WORK" && timeout 900 npm install --no-audit --no-fund >&2)
fi

# ---- 3. Dostup's environment for this run ------------------------------------------------------
DATA_DIR="$(mktemp -d /tmp/dostup-peer-data.XXXXXX)"
DB_ENV="-u DATABASE_URL"
PEER_DB_NAME=""
cleanup() {
  rm -rf "$DATA_DIR"
  if [ -n "$PEER_DB_NAME" ]; then psql "$DOSTUP_DB" -qc "drop database if exists $PEER_DB_NAME" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
if [ -n "${DOSTUP_DB:-}" ]; then
  # A database of its own on the server DOSTUP_DB names (loopback only, like every target here):
  # "fresh" must never mean wiping the database the caller pointed at.
  case "$DOSTUP_DB" in postgres://*@127.0.0.1[:/]* | postgres://*@localhost[:/]*) ;; *)
    log "DOSTUP_DB must be a loopback postgres:// URL"
    exit 2
    ;;
  esac
  PEER_DB_NAME="dostup_peer_$$"
  psql "$DOSTUP_DB" -qc "drop database if exists $PEER_DB_NAME" -c "create database $PEER_DB_NAME" >/dev/null
  DB_ENV="DATABASE_URL=${DOSTUP_DB%/*}/$PEER_DB_NAME"
  log "Dostup on PostgreSQL: ${DB_ENV#DATABASE_URL=}"
fi
export DOSTUP_DATA_DIR="$DATA_DIR" HOST=127.0.0.1 LOG_LEVEL=warn
# A fresh admin token per run; the adapter reads it to create the users.
DOSTUP_ADMIN_TOKEN="peer-bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DOSTUP_ADMIN_TOKEN
# All load comes from one loopback IP: raise Dostup's sign-in limits as the harness turns Better
# Auth's limiter off (100000 is the per-account maximum Dostup's config accepts).
export RATE_SIGNIN_PER_IP=1000000 RATE_SIGNIN_PER_ACCOUNT=100000 RATE_RECOVERY_PER_IP=1000000 RATE_RECOVERY_PER_ACCOUNT=1000000 RATE_RECOVERY_PER_DESTINATION=1000000 RATE_RECOVERY_VERIFY_PER_IP=1000000
log "rate limits raised for the benchmark (sign-in and recovery, all to the maximum; Better Auth: rateLimit off)"
log "phases: all of the harness's (sign-in, session, reset request + timing probe, complete reset)"

# ---- 4. run -------------------------------------------------------------------------------------
# The server as users run it: bin/dostup.js runs the sources through tsx when any is newer than the
# build, and tsx's loader thread is a second V8 isolate (~40 MiB of RSS) — build first, as
# bench/lib/dostup.mjs does for the other benchmarks.
node "$ROOT/scripts/build.mjs" >/dev/null
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$HERE/results/peer-$STAMP.json"
mkdir -p "$HERE/results"
# `exec env -u ...`: the server must be the process run.sh watches (its PID is read from /proc), and
# it must use the database chosen above (embedded unless DOSTUP_DB) whatever the caller's shell carries.
(
  cd "$WORK"
  EXTERNAL_NAME=dostup \
    EXTERNAL_ADAPTER="$HERE/peer-adapter.mjs" \
    EXTERNAL_START="exec env -u REDIS_URL -u DOSTUP_CONFIG $DB_ENV node $ROOT/bin/dostup.js start" \
    EXTERNAL_HEALTH=/health \
    SYSTEMS="better-auth dostup" \
    MAX_RUN_S="$MAX_RUN_S" \
    timeout $((MAX_RUN_S + 60)) bash run.sh
) | tee "$OUT"
log "summary also in ${OUT#"$ROOT"/}; full run dir: $WORK/data/ (newest run-*)"
