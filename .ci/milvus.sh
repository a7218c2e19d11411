#!/usr/bin/env bash
# Starts and stops the Milvus standalone server the tests use (the PyPI package `milvus`, which
# carries the server binary); tests reach it on 127.0.0.1. One server at a time.
#
#   .ci/milvus.sh start DATA_DIR   start in the background, wait for the health URL
#                                  (MILVUS_START_TIMEOUT seconds, default 120),
#                                  retrying once after etcd's ports 2379/2380 are free
#   .ci/milvus.sh stop [SIGNAL]    stop the launcher and its `milvus` child (default TERM;
#                                  KILL simulates a crash)
#
# MILVUS_SERVER names the launcher (default: milvus-server on PATH); the process group id is
# kept in SIMSUM_MILVUS_PIDFILE (default /tmp/simsum-milvus.pid).
set -uo pipefail
PIDFILE=${SIMSUM_MILVUS_PIDFILE:-/tmp/simsum-milvus.pid}
SERVER=${MILVUS_SERVER:-milvus-server}
HEALTH=http://127.0.0.1:9091/healthz

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ports_closed() {
  for _ in $(seq 1 60); do
    port_open 2379 || port_open 2380 || port_open 19530 || return 0
    sleep 1
  done
  return 1
}

# Healthy, and the proxy's port open: the health URL answers a little before it.
healthy() { [ "$(curl -s -m 2 "$HEALTH" 2>/dev/null)" = "OK" ] && port_open 19530; }

start_once() {
  local data=$1
  mkdir -p "$data"
  # The launcher moves the proxy to another free port when 19530 is busy (a killed server's
  # socket closing): pin it, so clients find the restarted server where they left it.
  setsid "$SERVER" --data "$data" --proxy-port 19530 >>"$data/server.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 "${MILVUS_START_TIMEOUT:-120}"); do
    healthy && return 0
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || return 1
    sleep 1
  done
  return 1
}

stop() {
  local sig=${1:-TERM}
  [ -f "$PIDFILE" ] || return 0
  local pg
  pg=$(cat "$PIDFILE")
  kill "-$sig" -- "-$pg" 2>/dev/null
  for _ in $(seq 1 30); do
    pgrep -g "$pg" >/dev/null 2>&1 || break
    sleep 1
  done
  kill -KILL -- "-$pg" 2>/dev/null
  rm -f "$PIDFILE"
  wait_ports_closed
}

case "${1:-}" in
  start)
    data=${2:?usage: milvus.sh start DATA_DIR}
    start_once "$data" && exit 0
    echo "milvus: not healthy after ${MILVUS_START_TIMEOUT:-120} s; retrying once (log: $data/server.log)" >&2
    stop KILL
    wait_ports_closed || echo "milvus: ports 2379/2380 still in use" >&2
    start_once "$data" && exit 0
    echo "milvus: could not start (log: $data/server.log)" >&2
    stop KILL
    exit 1
    ;;
  stop)
    stop "${2:-TERM}"
    ;;
  *)
    echo "usage: $0 start DATA_DIR | stop [SIGNAL]" >&2
    exit 2
    ;;
esac
