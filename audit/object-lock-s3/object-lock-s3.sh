#!/usr/bin/env bash
# A real S3 endpoint with Object Lock on this machine, for tests, benchmarks and the embedded
# demo: single-node Ceph (one ceph-mon, one ceph-osd, radosgw), no ceph-mgr, auth none,
# everything bound to 127.0.0.1. Packages: audit/object-lock-s3/install.sh.
#
#   object-lock-s3.sh start    start the cluster in $OLS3_DIR (create it when absent)
#   object-lock-s3.sh fresh    delete $OLS3_DIR and create a new cluster
#   object-lock-s3.sh stop     stop it (mon/osd cleanly, radosgw with SIGKILL)
#   object-lock-s3.sh kill     SIGKILL every daemon of this cluster
#
# Environment (defaults in brackets):
#   OLS3_DIR       state directory              [/tmp/charter-object-lock-s3]
#   OLS3_PORT      S3 port on 127.0.0.1         [7480]
#   OLS3_MON_PORT  mon port (msgr v1; v2 = +1)  [6789]
#   OLS3_STORE     memstore | bluestore         [memstore]  (memstore: RAM, saved only on a clean
#                  stop, quick; bluestore: sparse 10 GiB file, durable, slower to create)
#   OLS3_ACCESS_KEY / OLS3_SECRET_KEY           [charter / charter-secret]
#   OLS3_TIMEOUT   seconds to wait for S3       [60]
# On success prints S3_ENDPOINT=, S3_ACCESS_KEY=, S3_SECRET_KEY= and exits 0.
set -euo pipefail

dir=${OLS3_DIR:-/tmp/charter-object-lock-s3}
s3_port=${OLS3_PORT:-7480}
mon_v1=${OLS3_MON_PORT:-6789}
mon_v2=$((mon_v1 + 1))
store=${OLS3_STORE:-memstore}
access=${OLS3_ACCESS_KEY:-charter}
secret=${OLS3_SECRET_KEY:-charter-secret}
conf=$dir/ceph.conf

say() { echo "object-lock-s3: $*" >&2; }

running() { # pid is alive and not a zombie
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Kills the daemon recorded in a pid file; waits up to $2 seconds for a clean exit first.
halt() {
  local pidfile=$1 grace=$2 pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if running "$pid" && grep -qaE 'ceph-mon|ceph-osd|radosgw' "/proc/$pid/cmdline" 2>/dev/null; then
    if [ "$grace" -gt 0 ]; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < grace * 10; i++)); do running "$pid" || break; sleep 0.1; done
    fi
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do running "$pid" || break; sleep 0.05; done
  fi
  rm -f "$pidfile"
}

shutdown() { # clean | kill
  # radosgw holds no state (acknowledged writes are in RADOS) and can hang for minutes on
  # SIGTERM, so it is always SIGKILLed. memstore saves its data only on a clean OSD stop.
  halt "$dir/run/rgw.pid" 0
  if [ "$1" = clean ]; then halt "$dir/run/osd.0.pid" 20; halt "$dir/run/mon.a.pid" 10
  else halt "$dir/run/osd.0.pid" 0; halt "$dir/run/mon.a.pid" 0; fi
  # daemons of this cluster whose pid file went missing
  local p
  for p in $(pgrep -f -- "-c $conf" 2>/dev/null || true); do
    grep -qaE 'ceph-mon|ceph-osd|radosgw' "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
  done
}

make_conf() {
  local fsid=$1 persist=false
  [ "$store" = memstore ] && persist=false || persist=true
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]
public_network = 127.0.0.0/8
ms_bind_ipv6 = false
# no cephx; with auth none only the crc connection mode works, and radosgw asks for secure by default
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_client_mode = crc
ms_mon_client_mode = crc
ms_service_mode = crc secure
ms_cluster_mode = crc secure
ms_mon_service_mode = crc secure
ms_mon_cluster_mode = crc secure
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
log_file = $dir/log/\$name.log
log_to_stderr = false
debug_ms = 0/0
debug_mon = 0/0
debug_osd = 0/0
debug_rgw = 0/0
debug_bluestore = 0/0
debug_rocksdb = 0/0
# a single OSD holds the only copy of everything
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_max_pg_per_osd = 2000
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# one mon: propose map changes at once (the 1 s default makes startup take ~13 s)
paxos_propose_interval = 0.01
paxos_min_wait = 0.001

[mon]
mon_data = $dir/mon.a
mon_initial_members = a
mon_cluster_log_file = $dir/log/cluster.log
admin_socket = $dir/run/\$name.asok

[osd]
osd_data = $dir/osd.0
osd_objectstore = $store
admin_socket = $dir/run/\$name.asok
memstore_device_bytes = ${OLS3_MEM_BYTES:-2147483648}
bluestore_block_path = $dir/osd.0.block
bluestore_block_size = 10737418240
bluestore_block_create = true
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
# the sparse block file looks rotational; HDD tuning stalls small writes
bluestore_debug_enforce_settings = ssd
osd_memory_target = 939524096
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
osd_min_pg_log_entries = 100
osd_max_pg_log_entries = 500
osd_class_load_list = *
osd_class_default_list = *
# memstore writes its data out only during a full (not fast) shutdown
osd_fast_shutdown = $persist

[client.rgw]
admin_socket = $dir/run/\$name.asok
rgw_frontends = beast endpoint=127.0.0.1:$s3_port
rgw_data = $dir/rgw
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
CONF
}

start_mon() { ceph-mon -c "$conf" -i a </dev/null >>"$dir/log/mon.out" 2>&1; }
start_osd() { ceph-osd -c "$conf" -i 0 </dev/null >>"$dir/log/osd.out" 2>&1; }
start_rgw() {
  # foreground in its own session: a daemonizing radosgw can block its parent for minutes when it fails
  setsid radosgw -f -c "$conf" -n client.rgw </dev/null >>"$dir/log/rgw.out" 2>&1 &
  echo $! >"$dir/run/rgw.pid"
}

await_s3() {
  local until=$(($(date +%s) + ${OLS3_TIMEOUT:-60})) pid
  while [ "$(date +%s)" -lt "$until" ]; do
    # an anonymous GET / answered by radosgw itself lists (no) buckets
    if curl -s -m 2 "http://127.0.0.1:$s3_port/" 2>/dev/null | grep -q ListAllMyBucketsResult; then return 0; fi
    pid=$(cat "$dir/run/rgw.pid" 2>/dev/null || echo "")
    if [ -n "$pid" ] && ! running "$pid"; then say "radosgw exited:"; tail -5 "$dir/log/rgw.out" "$dir/log/client.rgw.log" >&2 2>/dev/null || true; return 1; fi
    sleep 0.05
  done
  say "radosgw did not answer within ${OLS3_TIMEOUT:-60} s"
  return 1
}

create_cluster() {
  local fsid osd_uuid id
  shutdown kill
  rm -rf "$dir"
  mkdir -p "$dir/run" "$dir/log" "$dir/mon.a" "$dir/osd.0" "$dir/rgw"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  make_conf "$fsid"
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_v2,v1:127.0.0.1:$mon_v1]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" </dev/null >>"$dir/log/mon.out" 2>&1
  start_mon
  id=$(ceph -c "$conf" --connect-timeout 20 osd new "$osd_uuid")
  [ "$id" = 0 ] || { say "expected osd id 0, got $id"; return 1; }
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$osd_uuid" </dev/null >>"$dir/log/osd.out" 2>&1
  start_osd
  # creates the rgw pools and the S3 user (waits for the OSD by itself)
  timeout 90 radosgw-admin -c "$conf" -n client.rgw user create --uid=charter --display-name=charter \
    --access-key="$access" --secret-key="$secret" >/dev/null
  start_rgw
  await_s3
  touch "$dir/created"
}

action=${1:-start}
case "$action" in
  stop) shutdown clean; exit 0 ;;
  kill) shutdown kill; exit 0 ;;
  start | fresh) ;;
  *) echo "usage: $0 start|fresh|stop|kill" >&2; exit 2 ;;
esac

for tool in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph curl setsid; do
  command -v "$tool" >/dev/null || { say "$tool is missing: run audit/object-lock-s3/install.sh"; exit 1; }
done

ok=no
trap '[ "$ok" = yes ] || { say "start failed; logs in $dir/log"; shutdown kill; }' EXIT
if [ "$action" = start ] && [ -f "$dir/created" ]; then
  shutdown clean
  start_mon
  start_osd
  start_rgw
  await_s3
else
  create_cluster
fi
ok=yes
echo "S3_ENDPOINT=http://127.0.0.1:$s3_port"
echo "S3_ACCESS_KEY=$access"
echo "S3_SECRET_KEY=$secret"
