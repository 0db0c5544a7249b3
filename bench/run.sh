#!/usr/bin/env bash
# bench/run.sh — Aegis side by side with HAProxy, nginx and no proxy at all, on loopback.
#
#   bench/run.sh                                            # everything, 10 s per measurement
#   DURATION=3 SCENARIOS=http_keepalive,udp_pps PROXIES="direct aegis" bench/run.sh
#   PROXIES="direct haproxy nginx aegis aegis-nolog" bench/run.sh
#
# Knobs (environment):
#   DURATION      seconds per measurement (10); LAT_DURATION for latency_light (DURATION)
#   WARMUP        seconds of untimed load before the HTTP and UDP measurements (2)
#   SCENARIOS     comma list (every one below but tls_close): tcp_throughput http_keepalive
#                 http_close latency_light udp_pps idle_conns rss_idle rss_under_load, and
#                 tls_close (a TLS handshake per request to an nginx TLS backend, SNI "localhost";
#                 needs nginx and openssl); "all" = every one
#   PROXIES       space list ("direct haproxy nginx aegis"); also aegis-nolog (logging.access_log false),
#                 aegis-ppv2 (proxy_protocol.send: v2; the HTTP backend skips the header) and
#                 aegis-sni (one tls_routes route for "localhost": tls_close's clients take it, the
#                 plain-HTTP clients are peeked, "not TLS", and go to the default pool): what each
#                 feature costs against plain aegis
#   PIN           1: proxy on CPU 0, load and backends on CPU 1; 0: no pinning (1)
#   IDLE_CONNS    idle connection counts, ascending ("1000 9000"; capped by the fd limit)
#   UDP_CAP       packet cap of each UDP load run (50000000)
#   BASE_PORT     first port tried for the block of 8 loopback ports the run uses (21000)
#   RESULTS_DIR   where <timestamp>.md/.json/.svg go (bench/results)
#   AEGIS_JAVA_OPTS  extra JVM flags for Aegis (the GC log flag is added to them)
#
# Output: the markdown table on stdout, <timestamp>.{md,json,svg} in RESULTS_DIR, the chart also
# copied to bench/chart.svg. Raw logs (wrk, iperf3, proxy logs, GC logs, configs) stay in a
# /tmp/aegis-bench.* work directory, printed at the end.
#
# Safety: only 127.0.0.1; every load is bounded (wrk -d, iperf3 -t, udp-load duration + cap) and
# wrapped in `timeout`; every server runs under `timeout` and is stopped by its PID; the EXIT trap
# stops whatever is left.
set -uo pipefail

BENCH=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
REPO=$(dirname "$BENCH")

# The command as given, for the report: the knobs set explicitly, then the script.
KNOBS=(DURATION LAT_DURATION WARMUP SCENARIOS PROXIES PIN IDLE_CONNS UDP_CAP BASE_PORT RESULTS_DIR AEGIS_JAVA_OPTS)
COMMAND=""
for k in "${KNOBS[@]}"; do
  [ -n "${!k+set}" ] || continue
  if [[ ${!k} =~ ^[A-Za-z0-9_./,:=+-]+$ ]]; then COMMAND+="$k=${!k} "; else COMMAND+="$k=${!k@Q} "; fi
done
COMMAND+="bench/run.sh"

DURATION=${DURATION:-10}
LAT_DURATION=${LAT_DURATION:-$DURATION}
WARMUP=${WARMUP:-2}
DEFAULT_SCENARIOS="tcp_throughput,http_keepalive,http_close,latency_light,udp_pps,idle_conns,rss_idle,rss_under_load"
ALL_SCENARIOS="$DEFAULT_SCENARIOS,tls_close"
SCENARIOS=${SCENARIOS:-$DEFAULT_SCENARIOS}
[ "$SCENARIOS" = all ] && SCENARIOS=$ALL_SCENARIOS
SCENARIOS=${SCENARIOS// /,}
PROXIES=${PROXIES:-"direct haproxy nginx aegis"}
PIN=${PIN:-1}
IDLE_CONNS=${IDLE_CONNS:-"1000 9000"}
UDP_CAP=${UDP_CAP:-50000000}
BASE_PORT=${BASE_PORT:-21000}
RESULTS_DIR=${RESULTS_DIR:-$BENCH/results}
USER_JAVA_OPTS=${AEGIS_JAVA_OPTS:-}
# Servers outlive one scenario group at most; this bounds them even if this script is killed -9.
SERVER_LIFETIME=$(( 10 * DURATION + 2 * LAT_DURATION + 300 ))
IDLE_CONNECT_S=60     # bound on opening one level of idle connections
STOP_GRACE_S=40       # SIGTERM, then this long (Aegis drains up to 30 s by default), then SIGKILL

TS=$(date +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/aegis-bench.XXXXXX)

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }
wants() { [[ ",$SCENARIOS," == *",$1,"* ]]; }
wants_any() { local s; for s; do wants "$s" && return 0; done; return 1; }

for s in ${SCENARIOS//,/ }; do
  [[ ",$ALL_SCENARIOS," == *",$s,"* ]] || die "unknown scenario $s (known: $ALL_SCENARIOS)"
done
for p in $PROXIES; do
  case $p in direct|haproxy|nginx|aegis|aegis-nolog|aegis-ppv2|aegis-sni) ;;
    *) die "unknown proxy $p (known: direct haproxy nginx aegis aegis-nolog aegis-ppv2 aegis-sni)" ;; esac
done
[[ $DURATION =~ ^[1-9][0-9]*$ && $LAT_DURATION =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] \
  || die "DURATION, LAT_DURATION (>= 1) and WARMUP (>= 0) are whole seconds"

# ------------------------------------------------------------------ processes we start
STARTED=()   # PIDs of the `timeout` wrappers of every server started here

# spawn LOG CMD... : run CMD under `timeout` in the background; SPAWNED = the wrapper's PID.
# timeout puts itself and CMD in a process group of their own, led by that PID.
spawn() {
  local log=$1; shift
  timeout -k 5 "$SERVER_LIFETIME" "$@" >"$log" 2>&1 &
  SPAWNED=$!
  STARTED+=("$SPAWNED")
}

# halt PID... : SIGTERM (timeout passes it on), wait up to STOP_GRACE_S, then SIGKILL the group.
halt() {
  local p i
  for p; do kill -TERM "$p" 2>/dev/null; done
  for p; do
    for ((i = 0; i < STOP_GRACE_S * 10; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      say "pid $p did not stop in ${STOP_GRACE_S}s: SIGKILL to its process group"
      kill -KILL -- "-$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null
  done
  return 0
}

SAMPLER=""
cleanup() {
  local p alive=()
  [ -n "$SAMPLER" ] && { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }
  for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive+=("$p"); done
  [ ${#alive[@]} -gt 0 ] && STOP_GRACE_S=5 halt "${alive[@]}"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_bound tcp|udp PORT SECONDS WRAPPER_PID : until something listens on 127.0.0.1:PORT
wait_bound() {
  local proto=$1 port=$2 secs=$3 pid=$4 i flag=-Hltn
  [ "$proto" = udp ] && flag=-Hlun
  for ((i = 0; i < secs * 20; i++)); do
    ss "$flag" "sport = :$port" 2>/dev/null | grep -q 127.0.0.1 && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
    sleep 0.05
  done
  return 1
}

# tree_of PID : PID and all its descendants (nginx: master + worker)
tree_of() {
  local todo=("$1") out=() p
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}"); out+=("$p")
    # shellcheck disable=SC2207
    todo+=($(cat /proc/"$p"/task/*/children 2>/dev/null))
  done
  echo "${out[@]}"
}

# rss_sum PID... : sets RSS_KIB to VmRSS (or $RSS_FIELD) summed over the PIDs. No fork: it runs
# in the sampling loop on the load core.
rss_sum() {
  local field=${RSS_FIELD:-VmRSS} p k v _
  RSS_KIB=0
  for p; do
    [ -r "/proc/$p/status" ] || continue
    while read -r k v _; do
      [ "$k" = "$field:" ] && { RSS_KIB=$((RSS_KIB + v)); break; }
    done <"/proc/$p/status"
  done
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# CPU time (utime + stime, all threads) of the proxy's processes over one measurement.
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
  local p line f total=0
  for p in "${PROXY_PIDS[@]}"; do
    read -r line 2>/dev/null <"/proc/$p/stat" || continue
    # shellcheck disable=SC2206
    f=(${line##*) })        # fields after "pid (comm) ": [0]=state ... [11]=utime [12]=stime
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}
cpu_mark() { CPU_T0=$(cpu_ticks); CPU_W0=$(date +%s.%N); }
cpu_put() { # SCENARIO METRIC : the proxy's CPU % since cpu_mark (100 = one core busy)
  [ ${#PROXY_PIDS[@]} -gt 0 ] || return 0
  put "$1" "$2" "$(awk -v a="$CPU_T0" -v b="$(cpu_ticks)" -v w0="$CPU_W0" -v w1="$(date +%s.%N)" -v hz="$CLK_TCK" \
    'BEGIN { printf "%.0f", (b - a) / hz / (w1 - w0) * 100 }')"
}

# ------------------------------------------------------------------ results
PX=""   # the proxy being measured
put() { printf '%s\t%s\t%s\t%s\n' "$PX" "$1" "$2" "$3" >>"$WORK/results.tsv"; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$WORK/meta.tsv"; }
note_cmd() { printf '%s\t%s\n' "${PX:-setup}" "$*" >>"$WORK/commands.tsv"; }
load() { note_cmd "load: ${LOAD_PIN[*]} ${*@Q}"; "${LOAD_PIN[@]}" "$@"; }

# ------------------------------------------------------------------ setup
install_missing() {
  local pkgs=()
  command -v wrk >/dev/null || pkgs+=(wrk)
  command -v iperf3 >/dev/null || pkgs+=(iperf3)
  command -v gcc >/dev/null || pkgs+=(build-essential)
  if [[ " $PROXIES " == *" haproxy "* ]]; then command -v haproxy >/dev/null || pkgs+=(haproxy); fi
  if [[ " $PROXIES " == *" nginx "* ]]; then
    command -v nginx >/dev/null || pkgs+=(nginx)
    [ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || pkgs+=(libnginx-mod-stream)
  fi
  [ ${#pkgs[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${pkgs[*]}"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null \
      || say "apt-get failed; going on with what is installed"
  else
    say "missing ${pkgs[*]} (install them with apt-get as root)"
  fi
}

install_missing
for c in wrk iperf3 gcc taskset python3 ss timeout awk; do
  command -v "$c" >/dev/null || die "$c is required"
done
KEEP=""
for p in $PROXIES; do
  case $p in
    haproxy) command -v haproxy >/dev/null || { say "haproxy not installed: left out"; continue; } ;;
    nginx) command -v nginx >/dev/null || { say "nginx not installed: left out"; continue; } ;;
  esac
  KEEP+="$p "
done
PROXIES=${KEEP% }
[ -n "$PROXIES" ] || die "no proxy left to measure"
NGINX_STREAM=/usr/lib/nginx/modules/ngx_stream_module.so

TOOL=$WORK/benchtool
gcc -O2 -Wall -o "$TOOL" "$BENCH/tools/benchtool.c" || die "cannot compile bench/tools/benchtool.c"

AEGIS_VERSION=""
if [[ " $PROXIES " == *" aegis"* ]]; then
  say "building Aegis if needed (bin/aegis version)"
  AEGIS_VERSION=$("$REPO/bin/aegis" version) || die "bin/aegis version failed"
  AEGIS_VERSION=${AEGIS_VERSION#aegis }
fi

# Every process may hold as many fds as the hard limit allows; a proxy needs 2 per connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FD_LIMIT=$(ulimit -n)
[ "$FD_LIMIT" = unlimited ] && FD_LIMIT=1048576
IDLE_MAX=$(( (FD_LIMIT - 500) / 2 ))

TW_REUSE=$(cat /proc/sys/net/ipv4/tcp_tw_reuse 2>/dev/null || echo '?')
[ "$TW_REUSE" = 0 ] && say "net.ipv4.tcp_tw_reuse is 0: http_close may run out of ports (TIME_WAIT)"

# Eight consecutive ports nobody uses, TCP or UDP: proxy tcp+udp, four backends, admin, metrics.
port_taken() { ss -Htuan 2>/dev/null | awk '{ print $5 }' | grep -q ":$1\$"; }
pick_ports() {
  local base i free
  for ((base = BASE_PORT; base < BASE_PORT + 2000; base += 10)); do
    free=1
    for ((i = 0; i < 8; i++)); do port_taken $((base + i)) && { free=0; break; }; done
    [ "$free" = 1 ] && { echo "$base"; return 0; }
  done
  return 1
}
P0=$(pick_ports) || die "no 8 free ports from $BASE_PORT"
PORT_TCP=$P0; PORT_UDP=$((P0 + 1)); ADMIN_PORT=$((P0 + 6)); METRICS_PORT=$((P0 + 7))
BE=($((P0 + 2)) $((P0 + 3)) $((P0 + 4)) $((P0 + 5)))

if [ "$PIN" = 1 ]; then
  PROXY_PIN=(taskset -c 0); LOAD_PIN=(taskset -c 1)
  taskset -p -c 1 $$ >/dev/null || die "taskset failed"   # this script and what it starts: CPU 1
else
  PROXY_PIN=(); LOAD_PIN=()
fi

: >"$WORK/results.tsv"; : >"$WORK/meta.tsv"; : >"$WORK/commands.tsv"
meta command "$COMMAND"
meta timestamp "$TS"
meta duration_s "$DURATION"; meta lat_duration_s "$LAT_DURATION"; meta warmup_s "$WARMUP"
meta pin "$PIN"; meta scenarios "$SCENARIOS"; meta proxies "$PROXIES"; meta idle_conns "$IDLE_CONNS"
meta fd_limit "$FD_LIMIT"; meta tcp_tw_reuse "$TW_REUSE"
meta cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
meta cpus "$(nproc --all)"; meta kernel "$(uname -r)"
meta memory_mb "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
meta load_before "$(cut -d' ' -f1-3 /proc/loadavg)"
meta wrk "$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
meta iperf3 "$(iperf3 --version 2>/dev/null | awk 'NR == 1 { print $2 }')"
command -v haproxy >/dev/null && meta haproxy "$(haproxy -v 2>/dev/null | awk 'NR == 1 { print $3 }')"
command -v nginx >/dev/null && meta nginx "$(nginx -v 2>&1 | sed 's|.*nginx/||')"
[ -n "$AEGIS_VERSION" ] && meta aegis "$AEGIS_VERSION"
say "work dir $WORK; ports $P0-$((P0 + 7)); fd limit $FD_LIMIT; PIN=$PIN; DURATION=$DURATION s"
say "proxies: $PROXIES; scenarios: $SCENARIOS"

# ------------------------------------------------------------------ proxies
has_udp() { [ "$PX" != haproxy ]; }   # HAProxy 2.6 community proxies no UDP

write_haproxy() { # DIR BACKEND_PORT...
  local dir=$1 i=0 p; shift
  {
    echo "global"
    echo "  nbthread 1"
    echo "  maxconn $IDLE_MAX"
    echo "defaults"
    echo "  mode tcp"
    echo "  maxconn $IDLE_MAX"
    echo "  timeout connect 5s"
    echo "  timeout client 300s"
    echo "  timeout server 300s"
    echo "listen bench"
    echo "  bind 127.0.0.1:$PORT_TCP"
    echo "  balance roundrobin"
    for p; do echo "  server be$((++i)) 127.0.0.1:$p"; done
  } >"$dir/haproxy.cfg"
}

write_nginx() { # DIR BACKEND_PORT...
  local dir=$1 p; shift
  {
    [ -e "$NGINX_STREAM" ] && echo "load_module $NGINX_STREAM;"
    echo "daemon off;"
    echo "worker_processes 1;"
    echo "worker_rlimit_nofile $FD_LIMIT;"
    echo "pid $dir/nginx.pid;"
    echo "error_log $dir/error.log warn;"
    echo "events { worker_connections $((FD_LIMIT - 100)); }"
    echo "stream {"
    echo "  upstream backends {"
    for p; do echo "    server 127.0.0.1:$p;"; done
    echo "  }"
    echo "  server { listen 127.0.0.1:$PORT_TCP backlog=4096; proxy_pass backends; proxy_timeout 300s; }"
    echo "  server { listen 127.0.0.1:$PORT_UDP udp; proxy_pass backends; proxy_timeout 30s; }"
    echo "}"
  } >"$dir/nginx.conf"
}

# Aegis's own defaults except what a benchmark must set: addresses, backends, round robin.
# aegis = the default logging (access log on); aegis-nolog = logging.access_log: false.
write_aegis() { # DIR BACKEND_PORT...
  local dir=$1 p; shift
  {
    echo "proxy:"
    echo "  listen:"
    echo "    tcp: \"127.0.0.1:$PORT_TCP\""
    echo "    udp: \"127.0.0.1:$PORT_UDP\""
    echo "  backends:"
    for p; do echo "    - address: \"127.0.0.1:$p\""; done
    if [ "$PX" = aegis-ppv2 ]; then
      echo "  proxy_protocol:"
      echo "    send: v2"
    fi
    if [ "$PX" = aegis-sni ]; then
      echo "  tls_routes:"
      echo "    - server_names: [\"localhost\"]"
      echo "      backends:"
      echo "        - address: \"127.0.0.1:$1\""
    fi
    echo "  load_balancing:"
    echo "    algorithm: round_robin"
    echo "admin:"
    echo "  api_address: \"127.0.0.1:$ADMIN_PORT\""
    echo "  metrics_address: \"127.0.0.1:$METRICS_PORT\""
    if [ "$PX" = aegis-nolog ]; then
      echo "logging:"
      echo "  access_log: false"
    fi
  } >"$dir/aegis.yaml"
}

PROXY_WRAPPER=""; PROXY_PIDS=(); GC_LOG=""
# start_proxy GROUP BACKEND_PORT... : sets TCP_TARGET / UDP_TARGET (where the load goes),
# PROXY_PIDS (the proxy's process tree). direct: the load goes to the first backend.
start_proxy() {
  local group=$1; shift
  PROXY_WRAPPER=""; PROXY_PIDS=(); GC_LOG=""
  if [ "$PX" = direct ]; then TCP_TARGET=$1; UDP_TARGET=$1; return 0; fi
  TCP_TARGET=$PORT_TCP; UDP_TARGET=$PORT_UDP
  local dir=$WORK/$PX cmd=()
  mkdir -p "$dir"
  case $PX in
    haproxy) write_haproxy "$dir" "$@"; cmd=(haproxy -db -f "$dir/haproxy.cfg") ;;
    nginx) write_nginx "$dir" "$@"; cmd=(nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log") ;;
    aegis|aegis-nolog|aegis-ppv2|aegis-sni)
      write_aegis "$dir" "$@"
      GC_LOG=$dir/gc-$group.log
      cmd=(env "AEGIS_JAVA_OPTS=${USER_JAVA_OPTS:+$USER_JAVA_OPTS }-Xlog:gc:file=$GC_LOG" "$REPO/bin/aegis" start -c "$dir/aegis.yaml") ;;
  esac
  note_cmd "proxy: ${PROXY_PIN[*]} ${cmd[*]@Q}"
  spawn "$dir/$group.log" "${PROXY_PIN[@]}" "${cmd[@]}"
  PROXY_WRAPPER=$SPAWNED
  if ! wait_bound tcp "$PORT_TCP" 90 "$PROXY_WRAPPER" || { has_udp && ! wait_bound udp "$PORT_UDP" 10 "$PROXY_WRAPPER"; }; then
    say "$PX did not start; last lines of $dir/$group.log:"
    tail -n 5 "$dir/$group.log" >&2
    halt "$PROXY_WRAPPER"; PROXY_WRAPPER=""
    return 1
  fi
  sleep 0.5   # nginx forks its worker after binding
  local root
  root=$(cat /proc/"$PROXY_WRAPPER"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
  [ -n "$root" ] || { say "$PX: no process under its wrapper"; halt "$PROXY_WRAPPER"; return 1; }
  read -r -a PROXY_PIDS <<<"$(tree_of "$root")"
  if [[ $PX == aegis* ]] && ! grep -q $'^java\t' "$WORK/meta.tsv"; then
    meta java "$("$(readlink -f /proc/"$root"/exe)" -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')"
  fi
  return 0
}

# stop_proxy GROUP : also records the GC pauses of this group (Aegis)
stop_proxy() {
  [ -n "$PROXY_WRAPPER" ] && halt "$PROXY_WRAPPER"
  PROXY_WRAPPER=""; PROXY_PIDS=()
  if [ -n "$GC_LOG" ] && [ -f "$GC_LOG" ]; then
    # -Xlog:gc lines: "[1.234s][info][gc] GC(3) Pause Young (Allocation Failure) 9M->2M(16M) 1.234ms"
    put gc "pauses_$1" "$(grep -c 'Pause' "$GC_LOG")"
    put gc "max_pause_ms_$1" "$(sed -n 's/.*Pause.* \([0-9.]*\)ms$/\1/p' "$GC_LOG" | sort -g | tail -n 1 | grep . || echo 0)"
    put gc "total_pause_ms_$1" "$(sed -n 's/.*Pause.* \([0-9.]*\)ms$/\1/p' "$GC_LOG" | awk '{ s += $1 } END { printf "%.1f", s }')"
  fi
  GC_LOG=""
}

BACKENDS=()
start_backend() { # LOG CMD...
  note_cmd "backend: ${LOAD_PIN[*]} ${*:2}"
  spawn "$1" "${LOAD_PIN[@]}" "${@:2}"
  BACKENDS+=("$SPAWNED")
}
stop_backends() { [ ${#BACKENDS[@]} -gt 0 ] && halt "${BACKENDS[@]}"; BACKENDS=(); }

# ------------------------------------------------------------------ scenario groups
# Each group starts a fresh proxy for every proxy in turn (same backends, same load), so memory
# figures do not carry over between groups and the proxies are measured close together in time.

group_tcp() {
  local k json gbps
  start_backend "$WORK/iperf-$PX.log" iperf3 -s -B 127.0.0.1 -p "${BE[0]}"
  wait_bound tcp "${BE[0]}" 10 "" || { say "iperf3 server did not start"; stop_backends; return; }
  if ! start_proxy tcp "${BE[0]}"; then put tcp_throughput error start_failed; stop_backends; return; fi
  for k in 1 4; do
    json=$WORK/$PX.iperf-P$k.json
    cpu_mark
    load timeout $((DURATION + 30)) iperf3 -c 127.0.0.1 -p "$TCP_TARGET" -t "$DURATION" -O 1 -P "$k" -J >"$json" 2>&1
    cpu_put tcp_throughput "proxy_cpu_p$k"
    gbps=$(python3 -c 'import json, sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$json" 2>/dev/null || echo error)
    put tcp_throughput "gbps_p$k" "$gbps"
    say "$PX tcp_throughput -P$k: $gbps Gbit/s"
  done
  stop_proxy tcp; stop_backends
}

# wrk_run NAME CONNS SECONDS [wrk args] : prints "req/s p50_ms p99_ms errors"
wrk_run() {
  local name=$1 conns=$2 secs=$3; shift 3
  local out=$WORK/$PX.wrk-$name.txt
  load timeout $((secs + 30)) wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "${WRK_URL:-http://127.0.0.1:$TCP_TARGET/}" >"$out" 2>&1
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
    /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 } /Non-2xx/ { err += $NF }
    END { if (rps == "") print "error error error error"; else printf "%.0f %.3f %.3f %d\n", rps, p50, p99, err }' "$out"
}

group_http() {
  local rps p50 p99 err
  local mode=http
  [ "$PX" = aegis-ppv2 ] && mode=http-proxied   # reads the PROXY header Aegis sends first
  start_backend "$WORK/http-$PX.log" "$TOOL" "$mode" "$SERVER_LIFETIME" "${BE[0]}"
  wait_bound tcp "${BE[0]}" 10 "" || { say "http backend did not start"; stop_backends; return; }
  if ! start_proxy http "${BE[0]}"; then put http error start_failed; stop_backends; return; fi
  if wants rss_idle && [ ${#PROXY_PIDS[@]} -gt 0 ]; then
    sleep 1
    rss_sum "${PROXY_PIDS[@]}"; put rss_idle rss_mb "$(mib "$RSS_KIB")"
    say "$PX rss_idle: $(mib "$RSS_KIB") MB"
  fi
  if wants_any http_keepalive http_close latency_light rss_under_load && [ "$WARMUP" -gt 0 ]; then
    wrk_run warmup 64 "$WARMUP" >/dev/null
  fi
  if wants_any http_keepalive rss_under_load; then
    if [ ${#PROXY_PIDS[@]} -gt 0 ]; then
      # Peak RSS, sampled every 0.25 s on the load core while wrk runs (killed by PID below).
      ( peak=0; while :; do rss_sum "${PROXY_PIDS[@]}"
          [ "$RSS_KIB" -gt "$peak" ] && { peak=$RSS_KIB; echo "$peak" >"$WORK/peak.kib"; }; sleep 0.25; done ) &
      SAMPLER=$!
    fi
    cpu_mark
    read -r rps p50 p99 err < <(wrk_run keepalive 64 "$DURATION")
    cpu_put http_keepalive proxy_cpu
    if [ -n "$SAMPLER" ]; then kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""; fi
    if wants http_keepalive; then
      put http_keepalive rps "$rps"; put http_keepalive p50_ms "$p50"; put http_keepalive p99_ms "$p99"
      put http_keepalive errors "$err"
      say "$PX http_keepalive: $rps req/s, p50 $p50 ms, p99 $p99 ms, $err errors"
    fi
    if wants rss_under_load && [ ${#PROXY_PIDS[@]} -gt 0 ]; then
      put rss_under_load peak_mb "$(mib "$(cat "$WORK/peak.kib" 2>/dev/null || echo 0)")"
      RSS_FIELD=VmHWM rss_sum "${PROXY_PIDS[@]}"; put rss_under_load hwm_mb "$(mib "$RSS_KIB")"
      say "$PX rss_under_load: peak $(mib "$(cat "$WORK/peak.kib" 2>/dev/null || echo 0)") MB sampled"
      rm -f "$WORK/peak.kib"
    fi
  fi
  if wants http_close; then
    # A new client connection (and a new backend connection) per request.
    [ "$WARMUP" -gt 0 ] && wrk_run warmup-close 64 "$WARMUP" -H "Connection: close" >/dev/null
    cpu_mark
    read -r rps p50 p99 err < <(wrk_run close 64 "$DURATION" -H "Connection: close")
    cpu_put http_close proxy_cpu
    put http_close rps "$rps"; put http_close p50_ms "$p50"; put http_close p99_ms "$p99"; put http_close errors "$err"
    say "$PX http_close: $rps req/s, p50 $p50 ms, p99 $p99 ms, $err errors"
  fi
  if wants latency_light; then
    read -r rps p50 p99 err < <(wrk_run light 1 "$LAT_DURATION")
    put latency_light p50_ms "$p50"; put latency_light p99_ms "$p99"; put latency_light rps "$rps"
    say "$PX latency_light: p50 $p50 ms, p99 $p99 ms ($rps req/s, one connection)"
  fi
  stop_proxy http; stop_backends
}

# tls_close: wrk makes a TLS connection per request (SNI "localhost", which resolves to 127.0.0.1)
# to nginx terminating TLS (ECDSA P-256) behind the proxy. The proxy only passes bytes; what it
# adds per connection is what is measured, and for aegis-sni the ClientHello parse and route.
group_tls() {
  local rps p50 p99 err dir=$WORK/tls-backend
  if ! command -v nginx >/dev/null || ! command -v openssl >/dev/null; then
    put tls_close error no_nginx_or_openssl; return
  fi
  mkdir -p "$dir/tmp"
  if [ ! -f "$dir/cert.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 || { put tls_close error no_certificate; return; }
  fi
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1; daemon off; pid $dir/nginx.pid; error_log $dir/error.log warn;
worker_rlimit_nofile $FD_LIMIT;
events { worker_connections 16384; }
http {
  access_log off; client_body_temp_path $dir/tmp/cb; proxy_temp_path $dir/tmp/p;
  fastcgi_temp_path $dir/tmp/f; uwsgi_temp_path $dir/tmp/u; scgi_temp_path $dir/tmp/s;
  server { listen 127.0.0.1:${BE[0]} ssl backlog=4096; ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    location / { default_type text/plain; return 200 "ok\n"; } }
}
EOF
  start_backend "$WORK/tls-$PX.log" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
  wait_bound tcp "${BE[0]}" 10 "" || { say "nginx TLS backend did not start"; stop_backends; return; }
  if ! start_proxy tls "${BE[0]}"; then put tls_close error start_failed; stop_backends; return; fi
  WRK_URL="https://localhost:$TCP_TARGET/"
  [ "$WARMUP" -gt 0 ] && wrk_run warmup-tls 64 "$WARMUP" -H "Connection: close" >/dev/null
  cpu_mark
  read -r rps p50 p99 err < <(wrk_run tls-close 64 "$DURATION" -H "Connection: close")
  cpu_put tls_close proxy_cpu
  unset WRK_URL
  put tls_close rps "$rps"; put tls_close p50_ms "$p50"; put tls_close p99_ms "$p99"; put tls_close errors "$err"
  say "$PX tls_close: $rps req/s, p50 $p50 ms, p99 $p99 ms, $err errors"
  stop_proxy tls; stop_backends
}

group_udp() {
  if ! has_udp; then put udp_pps pps_1 n/a; put udp_pps pps_64 n/a; say "$PX: no UDP"; return; fi
  local sessions window line
  start_backend "$WORK/udp-echo-$PX.log" "$TOOL" udp-echo "$SERVER_LIFETIME" "${BE[0]}"
  wait_bound udp "${BE[0]}" 10 "" || { say "udp backend did not start"; stop_backends; return; }
  if ! start_proxy udp "${BE[0]}"; then put udp_pps error start_failed; stop_backends; return; fi
  [ "$WARMUP" -gt 0 ] && load timeout $((WARMUP + 30)) "$TOOL" udp-load "$UDP_TARGET" 64 4 "$WARMUP" "$UDP_CAP" >/dev/null
  # 1 session keeps 64 datagrams in flight; 64 sessions keep 4 each (256 in flight).
  for sessions in 1 64; do
    window=$(( sessions == 1 ? 64 : 4 ))
    cpu_mark
    line=$(load timeout $((DURATION + 30)) "$TOOL" udp-load "$UDP_TARGET" "$sessions" "$window" "$DURATION" "$UDP_CAP")
    cpu_put udp_pps "proxy_cpu_$sessions"
    put udp_pps "pps_$sessions" "$(sed -n 's/.* pps=\([0-9]*\).*/\1/p' <<<"$line" | grep . || echo error)"
    put udp_pps "loss_pct_$sessions" "$(sed -n 's/.* loss_pct=\([0-9.]*\).*/\1/p' <<<"$line" | grep . || echo error)"
    say "$PX udp_pps $sessions session(s): ${line:-no result}"
  done
  stop_proxy udp; stop_backends
}

group_idle() {
  local n held=0 want targets holders=() log i line base ready rss k
  targets=$PORT_TCP
  [ "$PX" = direct ] && targets=$(IFS=,; echo "${BE[*]}")
  start_backend "$WORK/echo-$PX.log" "$TOOL" tcp-echo "$SERVER_LIFETIME" "${BE[@]}"
  wait_bound tcp "${BE[3]}" 10 "" || { say "echo backends did not start"; stop_backends; return; }
  if ! start_proxy idle "${BE[@]}"; then put idle_conns error start_failed; stop_backends; return; fi
  sleep 1
  base=0
  if [ ${#PROXY_PIDS[@]} -gt 0 ]; then rss_sum "${PROXY_PIDS[@]}"; base=$RSS_KIB; put idle_conns base_mb "$(mib "$base")"; fi
  # Levels add connections on top of the ones already held (one holder process per level).
  for n in $IDLE_CONNS; do
    if [ "$n" -gt "$IDLE_MAX" ]; then
      put idle_conns "held_$n" "skipped:fd_limit_$FD_LIMIT"; say "$PX idle_conns $n: above the fd limit ($FD_LIMIT)"; continue
    fi
    want=$((n - held))
    [ "$want" -gt 0 ] || continue
    log=$WORK/$PX.hold-$n.log
    note_cmd "load: ${LOAD_PIN[*]} $TOOL tcp-hold $targets $want $IDLE_CONNECT_S $SERVER_LIFETIME"
    spawn "$log" "${LOAD_PIN[@]}" "$TOOL" tcp-hold "$targets" "$want" "$IDLE_CONNECT_S" "$SERVER_LIFETIME"
    holders+=("$SPAWNED")
    ready=""
    for ((i = 0; i < (IDLE_CONNECT_S + 10) * 10; i++)); do
      line=$(grep -m1 READY "$log" 2>/dev/null) && { ready=1; break; }
      kill -0 "$SPAWNED" 2>/dev/null || break
      sleep 0.1
    done
    [ -n "$ready" ] || { say "$PX idle_conns $n: the holder gave no result"; put idle_conns "held_$n" error; break; }
    held=$((held + $(sed -n 's/.*held=\([0-9]*\).*/\1/p' <<<"$line")))
    put idle_conns "held_$n" "$held"
    put idle_conns "connect_s_$n" "$(sed -n 's/.*secs=\([0-9.]*\).*/\1/p' <<<"$line")"
    if [ ${#PROXY_PIDS[@]} -gt 0 ]; then
      # as the shared harness does: 2 s after the connections are up (Aegis parks idle connections
      # after 1 s and gives their memory back after the wave, README "Memory")
      sleep 2
      rss=0
      for k in 1 2 3; do rss_sum "${PROXY_PIDS[@]}"; [ "$RSS_KIB" -gt "$rss" ] && rss=$RSS_KIB; sleep 0.3; done
      put idle_conns "rss_mb_$n" "$(mib "$rss")"
      [ "$held" -gt 0 ] && put idle_conns "kib_per_conn_$n" "$(awk -v r="$rss" -v b="$base" -v n="$held" 'BEGIN { printf "%.1f", (r - b) / n }')"
      say "$PX idle_conns $n: $held held ($line), RSS $(mib "$rss") MB (base $(mib "$base") MB)"
    else
      say "$PX idle_conns $n: $held held ($line)"
    fi
  done
  # Clients first, so the proxies close their side at once and Aegis has nothing left to drain.
  [ ${#holders[@]} -gt 0 ] && halt "${holders[@]}"
  stop_proxy idle; stop_backends
}

# ------------------------------------------------------------------ main
run_group() { # NAME FUNCTION
  local first=1
  for PX in $PROXIES; do
    [ "$first" = 1 ] || sleep 1
    first=0
    say "--- $1: $PX"
    "$2"
  done
  PX=""
}
wants tcp_throughput && run_group tcp_throughput group_tcp
wants_any rss_idle http_keepalive rss_under_load http_close latency_light && run_group http group_http
wants tls_close && run_group tls_close group_tls
wants udp_pps && run_group udp_pps group_udp
wants idle_conns && run_group idle_conns group_idle
meta runtime_s "$SECONDS"
meta load_after "$(cut -d' ' -f1-3 /proc/loadavg)"

mkdir -p "$RESULTS_DIR" || die "cannot create $RESULTS_DIR"
python3 "$BENCH/report.py" "$WORK" "$RESULTS_DIR/$TS" || die "report failed (raw results in $WORK/results.tsv)"
python3 "$BENCH/chart.py" "$RESULTS_DIR/$TS.json" "$RESULTS_DIR/$TS.svg" && cp "$RESULTS_DIR/$TS.svg" "$BENCH/chart.svg"
say "done in ${SECONDS}s: $RESULTS_DIR/$TS.md, .json, .svg (chart copied to bench/chart.svg); raw logs in $WORK"
