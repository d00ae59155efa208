#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/run.sh - the benchmarks run by `make bench`. Run from anywhere; it works in the repo root.
#
# Every figure is printed next to a reference measured in the same run on the same machine,
# and next to its target:
#   a) raw SQLite inserts (bench/sqlite_insert): WAL, the server's synchronous level, 1,000 rows per
#      transaction, with and without the FTS5 index - the storage engine's ceiling;
#   b) ingest: bench/ingest_load posts messages to POST /api/v1/inboxes/{id}/messages over 64
#      keep-alive connections, then waits until the message pipeline has indexed them all; the
#      rate counts both (target >= 20,000 msg/s stored and searchable); reference: raw SQLite
#      FTS inserts, and the same load generator against nginx answering 201 (the client's own
#      ceiling);
#   c) GET /api/v1/conversations?limit=25 on the demo data with wrk -t2 -c64 against nginx
#      serving a static file with the same bytes (target >= 50% of nginx), and p99 latency at
#      about 1,000 req/s paced by a wrk Lua script (target < 2 ms; nginx paced the same way);
#   d) idle RSS with the demo data loaded (target < 30 MB; reference: the private nginx) and
#      start-up time until /healthz answers, median of 5 (target < 200 ms; reference: nginx
#      started and probed the same way).
#   c'') event stream fan-out: bench/stream_fanout holds 1,000 agent WebSockets and posts 50
#      messages one by one; time from each message's created_at (written just before its
#      commit) to its arrival on every stream, p50/p99 (target p99 < 50 ms);
#   c''') idle widget WebSockets: bench/widget_idle.py opens 15,000 visitor WebSockets from 3
#      processes (a process may hold 20,000 files here) after creating their sessions; server
#      memory per connection = RSS growth / connections (target <= 4 KB);
#   f) the email channel, by bench/email_load.py with a private Postfix and Dovecot
#      (tests/integration/mailsrv.py) and a generated corpus of mails of about 10 KB (text and
#      HTML, a third with a PDF or PNG attachment, a third replies, a fifth ISO-8859-1):
#      f1) LMTP straight into Knotenpunkt from 8 parallel clients, timed until the last mail is
#          stored and indexed (target >= 2,000 mails/s on 2 cores), with the clients' and the
#          server's CPU and the server's RSS afterwards; reference: the same mails with the same
#          clients into Dovecot's LMTP (Maildir); the clients pipeline MAIL/RCPT/DATA as
#          Postfix does, and a second run awaits each answer before the next command;
#      f2) end to end: SMTP from 8 clients into a private Postfix that delivers to Knotenpunkt
#          by LMTP, until Knotenpunkt has stored them all, as a percentage of the same through
#          a Postfix with the same settings into Dovecot (target >= 90%); each route twice, in
#          the order Knotenpunkt, Dovecot, Dovecot, Knotenpunkt;
#      f3) IMAP import of a 1,000-mail Dovecot mailbox (imap_poll_s 1), from the PUT of the
#          settings until all are stored; reference: imaplib fetching them with BODY.PEEK[];
#   e) all figures go to bench/RESULTS.md as a Markdown table and to stdout. Whatever follows
#      the table in RESULTS.md from a line starting with "## " on (notes, profiles) is kept.
#
# Loopback only; every phase is bounded in time; every server started here is stopped by its
# pid on exit. Needs: wrk, nginx, curl, python3 (stdlib only), postfix, dovecot (root).
#
# Environment: KP_BIN (default build/knotenpunkt), BENCH_BUILD (folder with the built bench
# helpers, default <dir of KP_BIN>/bench), INGEST_TOTAL (100000), INGEST_CONNS (64),
# WRK_DURATION (10s), NGINX_WORKERS (auto: one per CPU, like the server's event loops),
# BENCH_SYNC (full, the server's default, or normal: KNOTENPUNKT_SYNC for the ingest run and
# the synchronous level of the raw SQLite reference), BENCH_STRICT=1 to exit 1 when a target
# is missed, EMAIL_LMTP_TOTAL (10000), EMAIL_POSTFIX_TOTAL (2000), EMAIL_IMAP_TOTAL (1000),
# EMAIL_CONNS (8), BENCH_ONLY=email to run f) alone (its table then goes to the work folder's
# RESULTS.md, not to bench/RESULTS.md).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
KP_BIN=${KP_BIN:-build/knotenpunkt}
case $KP_BIN in /*) ;; *) KP_BIN=$ROOT/$KP_BIN ;; esac
BENCH_BUILD=${BENCH_BUILD:-$(dirname "$KP_BIN")/bench}
INGEST_TOTAL=${INGEST_TOTAL:-100000}
INGEST_CONNS=${INGEST_CONNS:-64}
WRK_DURATION=${WRK_DURATION:-10s}
NGINX_WORKERS=${NGINX_WORKERS:-auto}
BENCH_SYNC=${BENCH_SYNC:-full}
case $BENCH_SYNC in
full | normal) ;;
*) echo "bench: BENCH_SYNC must be full or normal" >&2 && exit 2 ;;
esac
SQ_SYNC=$(tr '[:lower:]' '[:upper:]' <<<"$BENCH_SYNC")
BENCH_STRICT=${BENCH_STRICT:-0}
NGINX=${NGINX:-/usr/sbin/nginx}
RESULTS=$ROOT/bench/RESULTS.md
EMAIL_LMTP_TOTAL=${EMAIL_LMTP_TOTAL:-10000}
EMAIL_POSTFIX_TOTAL=${EMAIL_POSTFIX_TOTAL:-2000}
EMAIL_IMAP_TOTAL=${EMAIL_IMAP_TOTAL:-1000}
EMAIL_CONNS=${EMAIL_CONNS:-8}
BENCH_ONLY=${BENCH_ONLY:-}
case $BENCH_ONLY in
'' | email) ;;
*) echo "bench: BENCH_ONLY must be empty or email" >&2 && exit 2 ;;
esac

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    printf 'bench: error: %s\n' "$*" >&2
    exit 1
}

for tool in wrk curl python3 "$NGINX" postfix dovecot; do
    command -v "$tool" >/dev/null || die "'$tool' is missing (scripts/deps.sh bench installs it)"
done
[ -x "$KP_BIN" ] || die "server binary '$KP_BIN' not found: build it first (meson compile -C build) or set KP_BIN"

if [ -d "$(dirname "$KP_BIN")" ] && [ -w "$(dirname "$KP_BIN")" ]; then
    OUT=$(dirname "$KP_BIN")/bench-out
    rm -rf "$OUT"
    mkdir -p "$OUT"
else
    OUT=$(mktemp -d "${TMPDIR:-/tmp}/kp-bench.XXXXXX")
fi
log "work folder $OUT"
[ -z "$BENCH_ONLY" ] || RESULTS=$OUT/RESULTS.md

# ---- bookkeeping: started processes, figures ----

PIDS=()
ROWS=()
MISSED=0
STAGE=setup
DONE=0

stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# row FIGURE MEASURED REFERENCE TARGET RESULT
row() {
    ROWS+=("| $1 | $2 | $3 | $4 | $5 |")
    printf '  %-44s %s  (reference: %s; target: %s) %s\n' "$1" "$2" "$3" "$4" "$5"
    if [ "$5" = MISSED ]; then MISSED=$((MISSED + 1)); fi
}

# verdict VALUE OP LIMIT -> met|MISSED (OP is >= or <)
verdict() {
    if awk -v v="$1" -v l="$3" -v op="$2" \
        'BEGIN { exit !((op == ">=" && v + 0 >= l + 0) || (op == "<" && v + 0 < l + 0)) }'; then
        echo met
    else
        echo MISSED
    fi
}

write_results() {
    local status=$1 notes=
    # notes under the table ("## ..." headings on) survive a new run
    if [ -f "$RESULTS" ]; then notes=$(sed -n '/^## /,$p' "$RESULTS"); fi
    {
        echo "# Benchmark results"
        echo
        echo "Written by \`bench/run.sh\` (\`make bench\`); every reference was measured in the same run."
        echo
        echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //' || echo unknown)), $(uname -sr)"
        echo "- server: ${KP_BIN#"$ROOT"/}, git $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "- nginx reference: $($NGINX -v 2>&1 | sed 's/.*: //'), worker_processes $NGINX_WORKERS, access_log off"
        if [ -z "$BENCH_ONLY" ]; then
            echo "- load: ingest $INGEST_TOTAL messages over $INGEST_CONNS connections; wrk -t2 -c64 -d$WRK_DURATION; paced wrk -t1 -c10, 10 ms between requests per connection"
        else
            echo "- only the $BENCH_ONLY benchmarks (BENCH_ONLY=$BENCH_ONLY)"
        fi
        echo "- email: $EMAIL_LMTP_TOTAL mails straight by LMTP, $EMAIL_POSTFIX_TOTAL through Postfix (twice per route), both from $EMAIL_CONNS clients; IMAP import of $EMAIL_IMAP_TOTAL; postfix $(postconf -d mail_version 2>/dev/null | sed "s/.* = //" || echo ?), dovecot $(dovecot --version 2>/dev/null | cut -d' ' -f1 || echo ?)${OTHER_LOAD:+; $OTHER_LOAD}"
        if [ "$status" != ok ]; then
            echo
            echo "**Incomplete: the run stopped in stage '$STAGE'.**"
        fi
        echo
        echo "| Figure | Knotenpunkt | Reference (same run) | Target | Result |"
        echo "|---|---|---|---|---|"
        if [ ${#ROWS[@]} -gt 0 ]; then printf '%s\n' "${ROWS[@]}"; fi
        if [ -n "$notes" ]; then
            echo
            printf '%s\n' "$notes"
        fi
    } >"$RESULTS.tmp"
    mv "$RESULTS.tmp" "$RESULTS"
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
    local rc=$? pid
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    if [ "$DONE" != 1 ]; then
        write_results failed
        log "stopped in stage '$STAGE' (exit $rc); partial results in $RESULTS"
    fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 141' PIPE
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# start_kp COMMAND DATADIR LOGNAME TIMEOUT_S: starts `knotenpunkt COMMAND` on an ephemeral
# loopback port; sets KP_PID and KP_PORT.
start_kp() {
    local cmd=$1 data=$2 name=$3 limit=$4 i line
    KNOTENPUNKT_LISTEN=127.0.0.1:0 KNOTENPUNKT_DATA=$data KNOTENPUNKT_LOG_LEVEL=warn \
        "$KP_BIN" "$cmd" >"$OUT/$name.out" 2>"$OUT/$name.err" &
    KP_PID=$!
    PIDS+=("$KP_PID")
    for ((i = 0; i < limit * 20; i++)); do
        line=$(grep -s -m1 -o 'listening on http://127\.0\.0\.1:[0-9]*' "$OUT/$name.out" || true)
        if [ -n "$line" ]; then
            KP_PORT=${line##*:}
            return 0
        fi
        if ! kill -0 "$KP_PID" 2>/dev/null; then
            tail -n 20 "$OUT/$name.err" >&2 || true
            die "'knotenpunkt $cmd' exited before listening (logs: $OUT/$name.out, $OUT/$name.err)"
        fi
        sleep 0.05
    done
    tail -n 20 "$OUT/$name.err" >&2 || true
    die "'knotenpunkt $cmd' printed no 'listening on http://127.0.0.1:PORT' line within ${limit}s (stdout not flushed?)"
}

# field NAME LINE: value of NAME=... in a "key=value key=value" line
field() {
    awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"
}

# wrk_rps FILE, wrk_p99_ms FILE, wrk_non2xx FILE: figures from wrk's output
wrk_rps() {
    awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"
}
wrk_p99_ms() {
    awk '$1 == "99%" {
        v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
        f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
        printf "%.3f", v * f }' "$1"
}
wrk_non2xx() {
    local n
    n=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$1")
    echo "${n:-0}"
}

# ---- f) the email channel: LMTP, Postfix end to end, IMAP import (bench/email_load.py) ----

# machine_busy: CPUs kept busy by anything over the next second (other people's work skews
# every figure on a 2-core machine)
machine_busy() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    sleep 1
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
    awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN { split(a, x); split(b, y)
        printf "%.2f", (y[2] > x[2] ? (y[1] - x[1]) / (y[2] - x[2]) * n : 0) }'
}

# email_run MODE NAME ARGS...: bench/email_load.py MODE; its output lines in EM; a machine
# that is busy before the run (more than a fifth of a CPU) gets a note in OTHER_LOAD
email_run() {
    local mode=$1 name=$2 busy
    shift 2
    busy=$(machine_busy)
    if awk -v b="$busy" 'BEGIN { exit !(b > 0.2) }'; then
        log "warning: other processes keep $busy CPUs busy before the email $mode run: its figures are low"
        OTHER_LOAD="${OTHER_LOAD:+$OTHER_LOAD, }$busy CPUs busy elsewhere before the $mode run"
    fi
    EM=$(BENCH_SYNC=$BENCH_SYNC timeout 900 python3 bench/email_load.py "$mode" "$KP_BIN" \
        "$OUT/email-$name" "$@" 2>"$OUT/email-$name.err") || true
    printf '%s\n' "$EM" >"$OUT/email-$name.txt"
    if [ -s "$OUT/email-$name.err" ]; then sed 's/^/  /' "$OUT/email-$name.err" | tail -n 20 >&2; fi
}

# em LINE KEY: the value of KEY in EM's line that starts with LINE
em() {
    field "$2" "$(grep "^$1 " <<<"$EM")"
}

bench_email() {
    local ok err per res

    STAGE=email-lmtp
    log "f1) email: $EMAIL_LMTP_TOTAL mails over $EMAIL_CONNS LMTP connections into Knotenpunkt, then into Dovecot"
    email_run lmtp lmtp "$EMAIL_LMTP_TOTAL" "$EMAIL_CONNS"
    per=$(em lmtp_kp per_s)
    if [ -z "$per" ] || [ -z "$(em lmtp_dovecot per_s)" ]; then
        die "email_load.py lmtp printed no figures (see $OUT/email-lmtp.err)"
    fi
    ok=$(em lmtp_kp ok)
    err=$(em lmtp_kp errors)
    res=$(verdict "$per" ">=" 2000)
    if [ "$ok" != "$EMAIL_LMTP_TOTAL" ] || [ "$(em lmtp_kp complete)" != 1 ]; then res=MISSED; fi
    row "Email: LMTP from $EMAIL_CONNS clients, $(awk -v b="$(em corpus avg_bytes)" 'BEGIN { printf "%.1f", b / 1000 }') KB mails, stored and indexed (mails/s)" \
        "$(printf '%.0f' "$per") ($ok ok, $err errors; 250 at $(printf '%.0f' "$(em lmtp_kp ack_per_s)")/s, all searchable $(awk -v a="$(em lmtp_kp secs)" -v b="$(em lmtp_kp ack_s)" 'BEGIN { printf "%.2f", a - b }') s after the last 250; CPU cores: server $(printf '%.2f' "$(em lmtp_kp server_cores)"), clients $(printf '%.2f' "$(em lmtp_kp client_cores)"), machine $(printf '%.2f' "$(em lmtp_kp machine_cores)") of $(nproc))" \
        "Dovecot LMTP into Maildir, same clients: $(printf '%.0f' "$(em lmtp_dovecot per_s)") ($(em lmtp_dovecot ok) ok; clients $(printf '%.2f' "$(em lmtp_dovecot client_cores)") cores)" \
        ">= 2000 on 2 cores" "$res"
    row "Email: the same, each LMTP command awaited, no pipelining (mails/s)" \
        "$(printf '%.0f' "$(em lmtp_kp_nopipe per_s)") ($(em lmtp_kp_nopipe ok) ok; server $(printf '%.2f' "$(em lmtp_kp_nopipe server_cores)") cores, clients $(printf '%.2f' "$(em lmtp_kp_nopipe client_cores)"))" \
        "pipelined, as a mail server sends: $(printf '%.0f' "$per")" "reference only" "-"
    row "Email writer: jobs per commit, time in commits" \
        "pipelined: $(printf '%.1f' "$(em lmtp_kp jobs_per_commit)") jobs, $(printf '%.1f' "$(em lmtp_kp commit_s)") of $(printf '%.1f' "$(em lmtp_kp secs)") s; awaited: $(printf '%.1f' "$(em lmtp_kp_nopipe jobs_per_commit)") jobs, $(printf '%.1f' "$(em lmtp_kp_nopipe commit_s)") of $(printf '%.1f' "$(em lmtp_kp_nopipe secs)") s" \
        "server /metrics: $(em lmtp_kp commits) and $(em lmtp_kp_nopipe commits) commits" "reference only" "-"
    row "Email: server RSS after the LMTP run (MB)" \
        "$(awk -v k="$(em lmtp_kp rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }') after $ok mails (after the second run: $(awk -v k="$(em lmtp_kp_nopipe rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }'))" \
        "the same server before the run: $(awk -v k="$(em lmtp_kp rss_before_kb)" 'BEGIN { printf "%.1f", k / 1024 }')" "reference only" "-"

    STAGE=email-postfix
    log "f2) email: $EMAIL_POSTFIX_TOTAL mails by SMTP into Postfix, delivered to Knotenpunkt / Dovecot / Dovecot / Knotenpunkt"
    email_run postfix postfix "$EMAIL_POSTFIX_TOTAL" "$EMAIL_CONNS"
    per=$(em postfix_kp per_s)
    if [ -z "$per" ] || [ -z "$(em postfix_dovecot per_s)" ]; then
        die "email_load.py postfix printed no figures (see $OUT/email-postfix.err)"
    fi
    local pct
    pct=$(awk -v a="$per" -v b="$(em postfix_dovecot per_s)" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
    res=$(verdict "$pct" ">=" 90)
    if [ "$(em postfix_kp stored)" != $((2 * EMAIL_POSTFIX_TOTAL)) ] || [ "$(em postfix_kp errors)" != 0 ] ||
        [ "$(em postfix_kp complete)" != 1 ]; then res=MISSED; fi
    row "Email: SMTP into Postfix, LMTP into Knotenpunkt, end to end, 2 runs (mails/s)" \
        "$(printf '%.0f' "$per") = $pct% of Dovecot (runs: $(em postfix_kp runs); $(em postfix_kp stored) stored; Postfix accepted them at $(printf '%.0f' "$(em postfix_kp submit_per_s)")/s; server $(printf '%.2f' "$(em postfix_kp server_cores)") cores, machine $(printf '%.2f' "$(em postfix_kp machine_cores)"))" \
        "Postfix with the same settings into Dovecot LMTP: $(printf '%.0f' "$(em postfix_dovecot per_s)") (runs: $(em postfix_dovecot runs); $(em postfix_dovecot stored) in the Maildir; accepted at $(printf '%.0f' "$(em postfix_dovecot submit_per_s)")/s; machine $(printf '%.2f' "$(em postfix_dovecot machine_cores)"))" \
        ">= 90% of Dovecot" "$res"

    STAGE=email-imap
    log "f3) email: IMAP import of $EMAIL_IMAP_TOTAL mails from Dovecot"
    email_run imap imap "$EMAIL_IMAP_TOTAL"
    per=$(em imap_kp per_s)
    if [ -z "$per" ] || [ -z "$(em imap_imaplib each_per_s)" ]; then
        die "email_load.py imap printed no figures (see $OUT/email-imap.err)"
    fi
    res=-
    if [ "$(em imap_kp complete)" != 1 ]; then res=MISSED; fi
    row "Email: IMAP import of $EMAIL_IMAP_TOTAL mails, imap_poll_s 1 (mails/s)" \
        "$(printf '%.0f' "$per") (all stored $(printf '%.1f' "$(em imap_kp secs)") s after the PUT, indexed at $(printf '%.1f' "$(em imap_kp indexed_s)") s; server $(printf '%.2f' "$(em imap_kp server_cores)") cores)" \
        "imaplib, one UID FETCH BODY.PEEK[] each: $(printf '%.0f' "$(em imap_imaplib each_per_s)"); all in one FETCH: $(printf '%.0f' "$(em imap_imaplib bulk_per_s)")" \
        "reference only" "$res"
}

# finish: e) the results
finish() {
    STAGE=finish
    if [ -n "${NGX_PID:-}" ]; then stop_pid "$NGX_PID"; fi
    write_results ok
    DONE=1
    echo "results written to ${RESULTS#"$ROOT"/}"
    if [ "$BENCH_STRICT" = 1 ] && [ "$MISSED" -gt 0 ]; then
        die "$MISSED target(s) missed"
    fi
    exit 0
}

if [ "$BENCH_ONLY" = email ]; then
    echo "Knotenpunkt benchmarks ($(nproc) CPUs), email only"
    bench_email
    finish
fi

# ---- helpers: built by meson (bench/meson.build), or compiled here as a fallback ----

STAGE=helpers
SQLITE_INSERT=$BENCH_BUILD/sqlite_insert
INGEST_LOAD=$BENCH_BUILD/ingest_load
STREAM_FANOUT=$BENCH_BUILD/stream_fanout
if [ ! -x "$SQLITE_INSERT" ] || [ ! -x "$INGEST_LOAD" ] || [ ! -x "$STREAM_FANOUT" ]; then
    log "bench helpers not in $BENCH_BUILD; compiling them into $OUT/bin"
    mkdir -p "$OUT/bin"
    read -ra sqlite_flags <<<"$(pkg-config --cflags --libs sqlite3)"
    read -ra uv_flags <<<"$(pkg-config --cflags --libs libuv)"
    cc -O2 -D_GNU_SOURCE -std=c17 -o "$OUT/bin/sqlite_insert" bench/sqlite_insert.c "${sqlite_flags[@]}"
    cc -O2 -D_GNU_SOURCE -std=c17 -o "$OUT/bin/ingest_load" bench/ingest_load.c "${uv_flags[@]}"
    cc -O2 -D_GNU_SOURCE -std=c17 -o "$OUT/bin/stream_fanout" bench/stream_fanout.c
    SQLITE_INSERT=$OUT/bin/sqlite_insert
    INGEST_LOAD=$OUT/bin/ingest_load
    STREAM_FANOUT=$OUT/bin/stream_fanout
fi

# ---- private nginx: static copy of the list response, a 201 stub for ingest, /healthz ----

STAGE=nginx
NGX=$OUT/nginx
mkdir -p "$NGX/www"
echo '{"items":[],"next_cursor":null}' >"$NGX/www/conversations.json"
# write_nginx_conf PREFIX PORT
write_nginx_conf() {
    local p=$1 port=$2
    mkdir -p "$p"
    cat >"$p/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $p/nginx.pid;
error_log $p/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $p/client_body;
    proxy_temp_path $p/proxy;
    fastcgi_temp_path $p/fastcgi;
    uwsgi_temp_path $p/uwsgi;
    scgi_temp_path $p/scgi;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$port;
        location = /api/v1/conversations {
            default_type application/json;
            alias $NGX/www/conversations.json;
        }
        location /api/v1/inboxes/ {
            default_type application/json;
            return 201 '{"message_id":1,"conversation_id":1,"contact_id":1,"duplicate":false}';
        }
        location = /healthz {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
    }
}
EOF
}
NGX_PORT=$(free_port)
write_nginx_conf "$NGX" "$NGX_PORT"
"$NGINX" -p "$NGX" -c "$NGX/nginx.conf" 2>"$NGX/stderr" &
NGX_PID=$!
PIDS+=("$NGX_PID")
for ((i = 0; i < 100; i++)); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$NGX_PORT/healthz" && break
    kill -0 "$NGX_PID" 2>/dev/null || { cat "$NGX/stderr" "$NGX/error.log" >&2 2>/dev/null || true; die "nginx did not start"; }
    sleep 0.05
done

echo "Knotenpunkt benchmarks ($(nproc) CPUs)"

# ---- a) raw SQLite ----

STAGE=sqlite
log "a) raw SQLite insert, $INGEST_TOTAL rows, synchronous=$SQ_SYNC"
sq=$(timeout 300 "$SQLITE_INSERT" "$INGEST_TOTAL" "$SQ_SYNC" "$OUT")
printf '%s\n' "$sq" >"$OUT/sqlite_insert.txt"
SQ_FTS=$(field rows_per_s "$(grep '^sqlite_insert_fts ' <<<"$sq")")
SQ_PLAIN=$(field rows_per_s "$(grep '^sqlite_insert_plain ' <<<"$sq")")
if [ -z "$SQ_FTS" ] || [ -z "$SQ_PLAIN" ]; then
    die "sqlite_insert printed no figures: $sq"
fi
row "Raw SQLite insert with FTS5, synchronous=$SQ_SYNC (rows/s)" "$SQ_FTS" "without FTS5: $SQ_PLAIN" "reference only" "-"

# ---- b) ingest ----

STAGE=ingest
log "b) ingest: $INGEST_TOTAL messages over $INGEST_CONNS connections"
D1=$OUT/ingest-data
mkdir -p "$D1"
timeout 60 "$KP_BIN" user add --data "$D1" --email bench@x.test --name Bench --role admin \
    --password benchpass1 >"$OUT/user-add.out" 2>&1 || { cat "$OUT/user-add.out" >&2; die "'knotenpunkt user add' failed"; }
TOKEN=$(timeout 60 "$KP_BIN" user token --data "$D1" --email bench@x.test 2>"$OUT/user-token.err" | tail -n1 | tr -d '[:space:]')
[ -n "$TOKEN" ] || { cat "$OUT/user-token.err" >&2; die "'knotenpunkt user token' printed no token"; }
KNOTENPUNKT_SYNC=$BENCH_SYNC start_kp serve "$D1" serve-ingest 15
resp=$(curl -sS --max-time 10 -w '\n%{http_code}' -X POST \
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d '{"name":"Bench","channel":"api"}' "http://127.0.0.1:$KP_PORT/api/v1/inboxes") ||
    die "POST /api/v1/inboxes failed"
code=${resp##*$'\n'}
[ "$code" = 201 ] || die "POST /api/v1/inboxes answered $code: ${resp%$'\n'*}"
INBOX=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "${resp%$'\n'*}")

ing=$("$INGEST_LOAD" "$KP_PORT" "$INBOX" "$TOKEN" "$INGEST_CONNS" "$INGEST_TOTAL" 60 \
    2>"$OUT/ingest_load.err") || true
# the messages are searchable once the pipeline has indexed them: wait for it (bounded) and
# count that time too, so the rate is the rate of messages stored *and* indexed
t0=$(date +%s.%N)
PENDING=?
for ((i = 0; i < 600; i++)); do
    PENDING=$(curl -sS --max-time 5 "http://127.0.0.1:$KP_PORT/healthz" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["store"]["pipeline_pending"])' 2>/dev/null) || PENDING=?
    [ "$PENDING" = 0 ] && break
    sleep 0.05
done
CATCHUP=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
printf '%s\n' "$ing" >"$OUT/ingest_load.txt"
[ -s "$OUT/ingest_load.err" ] && sed 's/^/  /' "$OUT/ingest_load.err" >&2
ING_RATE=$(field messages_per_s "$ing")
[ -n "$ING_RATE" ] || die "ingest_load printed no figures (see $OUT/ingest_load.err)"
ING_OK=$(field ok "$ing")
ING_ERR=$(field errors "$ing")
ING_P50=$(field p50_ms "$ing")
ING_P99=$(field p99_ms "$ing")
ING_SECS=$(field secs "$ing")
kill -0 "$KP_PID" 2>/dev/null || die "the server died during the ingest run (see $OUT/serve-ingest.err)"
# the server's own counters: were the messages stored, and how did the writer batch them
curl -sS --max-time 10 -H "Authorization: Bearer $TOKEN" -o "$OUT/metrics-ingest.txt" \
    "http://127.0.0.1:$KP_PORT/metrics" || true
metric() {
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF; n++ } END { if (n) printf "%.6f", s }' \
        "$OUT/metrics-ingest.txt" 2>/dev/null
}
STORED=$(metric kp_messages_ingested_total)
COMMITS=$(metric kp_store_commits_total)
WRITES=$(metric kp_store_writes_total)
COMMIT_SECS=$(metric kp_store_commit_duration_seconds_sum)
stop_pid "$KP_PID"

ceil=$("$INGEST_LOAD" "$NGX_PORT" 1 x "$INGEST_CONNS" "$INGEST_TOTAL" 30 2>"$OUT/ingest_ceiling.err") || true
CEIL_RATE=$(field messages_per_s "$ceil")

ING_INDEXED=$(awk -v n="$ING_OK" -v s="$ING_SECS" -v c="$CATCHUP" 'BEGIN { printf "%.0f", (s + c > 0 ? n / (s + c) : 0) }')
res=$(verdict "$ING_INDEXED" ">=" 20000)
if [ "$ING_ERR" != 0 ] || [ "$ING_OK" -lt "$INGEST_TOTAL" ] || [ "$PENDING" != 0 ]; then res=MISSED; fi
if [ -n "$STORED" ] && [ "${STORED%.*}" != "$ING_OK" ]; then
    log "warning: the server counted ${STORED%.*} messages ingested, the client $ING_OK answers 2xx"
    res=MISSED
fi
row "Ingest via API, stored and indexed (messages/s)" \
    "$ING_INDEXED ($ING_OK ok, $ING_ERR errors; acknowledged at $ING_RATE/s in ${ING_SECS}s, all searchable ${CATCHUP}s later)" \
    "raw SQLite FTS5 insert: $SQ_FTS rows/s; load generator vs nginx 201 stub: ${CEIL_RATE:-?} req/s" \
    ">= 20000, no errors" "$res"
row "Ingest latency p50 / p99 (ms, $INGEST_CONNS in flight)" "$ING_P50 / $ING_P99" \
    "-" "reference only" "-"
if [ -n "$COMMITS" ] && [ -n "$WRITES" ] && [ -n "$COMMIT_SECS" ]; then
    row "Ingest writer: jobs per commit, time in commits" \
        "$(awk -v w="$WRITES" -v c="$COMMITS" -v t="$COMMIT_SECS" -v e="$ING_SECS" \
            'BEGIN { printf "%.1f jobs, %.1f of %.1f s (%.0f%%)", (c > 0 ? w / c : 0), t, e, (e > 0 ? 100 * t / e : 0) }')" \
        "server /metrics: ${COMMITS%.*} commits, ${WRITES%.*} jobs" "reference only" "-"
fi

# ---- c) GET list on the demo data ----

STAGE=demo
log "c) demo data, GET /api/v1/conversations?limit=25"
D2=$OUT/demo-data
mkdir -p "$D2"
start_kp demo "$D2" demo 120
DEMO_PID=$KP_PID
DEMO_PORT=$KP_PORT
TOKEN2=
for ((i = 0; i < 10; i++)); do
    TOKEN2=$(timeout 30 "$KP_BIN" user token --data "$D2" --email admin@demo.knotenpunkt.test \
        2>"$OUT/demo-token.err" | tail -n1 | tr -d '[:space:]') || true
    [ -n "$TOKEN2" ] && break
    sleep 0.5
done
[ -n "$TOKEN2" ] || { cat "$OUT/demo-token.err" >&2; die "no token for admin@demo.knotenpunkt.test"; }

# d) idle RSS, before any load
STAGE=rss
sleep 2
RSS_IDLE=$(rss_kb "$DEMO_PID")
NGX_RSS=0
for p in $NGX_PID $(ps -o pid= --ppid "$NGX_PID"); do
    NGX_RSS=$((NGX_RSS + $(rss_kb "$p")))
done

STAGE=get-list
LIST_URL="http://127.0.0.1:$DEMO_PORT/api/v1/conversations?limit=25"
code=$(curl -sS --max-time 10 -o "$NGX/www/conversations.json" -w '%{http_code}' \
    -H "Authorization: Bearer $TOKEN2" "$LIST_URL")
[ "$code" = 200 ] || die "GET /api/v1/conversations?limit=25 answered $code: $(head -c 300 "$NGX/www/conversations.json")"
LIST_BYTES=$(stat -c %s "$NGX/www/conversations.json")
LIST_ITEMS=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["items"]))' "$NGX/www/conversations.json")
[ "$LIST_ITEMS" -gt 0 ] || log "warning: the demo list has no conversations"
NGX_URL="http://127.0.0.1:$NGX_PORT/api/v1/conversations?limit=25"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code} %{size_download}' "$NGX_URL")
[ "$code" = "200 $LIST_BYTES" ] || die "nginx static copy answered '$code', expected '200 $LIST_BYTES'"

auth=(-H "Authorization: Bearer $TOKEN2")
wrk -t2 -c64 -d"$WRK_DURATION" --latency "${auth[@]}" "$LIST_URL" >"$OUT/wrk-kp.txt" 2>&1
wrk -t2 -c64 -d"$WRK_DURATION" --latency "${auth[@]}" "$NGX_URL" >"$OUT/wrk-nginx.txt" 2>&1
KP_RPS=$(wrk_rps "$OUT/wrk-kp.txt")
NGX_RPS=$(wrk_rps "$OUT/wrk-nginx.txt")
KP_NON2XX=$(wrk_non2xx "$OUT/wrk-kp.txt")
if [ -z "$KP_RPS" ] || [ -z "$NGX_RPS" ]; then
    die "wrk printed no Requests/sec (see $OUT/wrk-*.txt)"
fi
PCT=$(awk -v a="$KP_RPS" -v b="$NGX_RPS" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
res=$(verdict "$PCT" ">=" 50)
[ "$KP_NON2XX" = 0 ] || res=MISSED
row "GET list, $LIST_ITEMS items, $LIST_BYTES bytes (req/s)" \
    "$KP_RPS = $PCT% of nginx ($KP_NON2XX non-2xx)" "nginx static file, same bytes: $NGX_RPS" \
    ">= 50% of nginx" "$res"

cat >"$OUT/paced.lua" <<'EOF'
-- one request per connection every 10 ms: 10 connections give about 1,000 req/s
function delay()
    return 10
end
EOF
wrk -t1 -c10 -d"$WRK_DURATION" --latency -s "$OUT/paced.lua" "${auth[@]}" "$LIST_URL" \
    >"$OUT/wrk-kp-paced.txt" 2>&1
wrk -t1 -c10 -d"$WRK_DURATION" --latency -s "$OUT/paced.lua" "${auth[@]}" "$NGX_URL" \
    >"$OUT/wrk-nginx-paced.txt" 2>&1
KP_P99=$(wrk_p99_ms "$OUT/wrk-kp-paced.txt")
NGX_P99=$(wrk_p99_ms "$OUT/wrk-nginx-paced.txt")
KP_PACED_RPS=$(wrk_rps "$OUT/wrk-kp-paced.txt")
NGX_PACED_RPS=$(wrk_rps "$OUT/wrk-nginx-paced.txt")
KP_PACED_NON2XX=$(wrk_non2xx "$OUT/wrk-kp-paced.txt")
if [ -z "$KP_P99" ] || [ -z "$NGX_P99" ]; then
    die "wrk printed no latency distribution (see $OUT/wrk-*-paced.txt)"
fi
res=$(verdict "$KP_P99" "<" 2)
[ "$KP_PACED_NON2XX" = 0 ] || res=MISSED
row "GET list p99 latency at ~1,000 req/s (ms)" "$KP_P99 (at $KP_PACED_RPS req/s)" \
    "nginx, same pacing: $NGX_P99 (at $NGX_PACED_RPS req/s)" "< 2" "$res"

STAGE=rss
RSS_LOADED=$(rss_kb "$DEMO_PID")
kill -0 "$DEMO_PID" 2>/dev/null || die "the demo server died during the GET runs (see $OUT/demo.err)"
stop_pid "$DEMO_PID"
row "Idle RSS with demo data loaded (MB)" \
    "$(awk -v k="$RSS_IDLE" 'BEGIN { printf "%.1f", k / 1024 }') (after the GET runs: $(awk -v k="$RSS_LOADED" 'BEGIN { printf "%.1f", k / 1024 }'))" \
    "nginx master + workers: $(awk -v k="$NGX_RSS" 'BEGIN { printf "%.1f", k / 1024 }')" "< 30" \
    "$(verdict "$RSS_IDLE" "<" 30720)"

# c') the same list with the answer cache off: every request runs the query and renders rows
STAGE=get-list-uncached
log "c') the same GET list with the answer cache off (KNOTENPUNKT_CACHE_BYTES=0)"
KNOTENPUNKT_CACHE_BYTES=0 start_kp serve "$D2" serve-nocache 30
NOCACHE_PID=$KP_PID
NC_URL="http://127.0.0.1:$KP_PORT/api/v1/conversations?limit=25"
wrk -t2 -c64 -d"$WRK_DURATION" --latency "${auth[@]}" "$NC_URL" >"$OUT/wrk-kp-nocache.txt" 2>&1
wrk -t1 -c10 -d"$WRK_DURATION" --latency -s "$OUT/paced.lua" "${auth[@]}" "$NC_URL" \
    >"$OUT/wrk-kp-nocache-paced.txt" 2>&1
NC_RPS=$(wrk_rps "$OUT/wrk-kp-nocache.txt")
NC_NON2XX=$(wrk_non2xx "$OUT/wrk-kp-nocache.txt")
NC_P99=$(wrk_p99_ms "$OUT/wrk-kp-nocache-paced.txt")
NC_PACED_RPS=$(wrk_rps "$OUT/wrk-kp-nocache-paced.txt")
stop_pid "$NOCACHE_PID"
[ -n "$NC_RPS" ] && [ -n "$NC_P99" ] || die "wrk printed no figures (see $OUT/wrk-kp-nocache*.txt)"
NC_PCT=$(awk -v a="$NC_RPS" -v b="$NGX_RPS" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }')
res=$(verdict "$NC_PCT" ">=" 50)
[ "$NC_NON2XX" = 0 ] || res=MISSED
row "GET list, answer cache off (req/s)" "$NC_RPS = $NC_PCT% of nginx ($NC_NON2XX non-2xx)" \
    "nginx static file, same bytes: $NGX_RPS" ">= 50% of nginx" "$res"
row "GET list p99 at ~1,000 req/s, answer cache off (ms)" "$NC_P99 (at $NC_PACED_RPS req/s)" \
    "nginx, same pacing: $NGX_P99" "< 2" "$(verdict "$NC_P99" "<" 2)"

# ---- c'') event stream fan-out: commit to arrival at 1,000 agent streams ----

STAGE=fanout
FANOUT_STREAMS=${FANOUT_STREAMS:-1000}
log "c'') event stream fan-out to $FANOUT_STREAMS agent streams, 50 messages"
D3=$OUT/fanout-data
mkdir -p "$D3"
timeout 60 "$KP_BIN" user add --data "$D3" --email fan@x.test --name Fan --role admin \
    --password benchpass1 >"$OUT/fan-user.out" 2>&1 || die "'knotenpunkt user add' failed"
FTOKEN=$(timeout 60 "$KP_BIN" user token --data "$D3" --email fan@x.test 2>/dev/null | tail -n1 | tr -d '[:space:]')
ulimit -Sn 4096 2>/dev/null || true  # -S: the widget run below raises it further
start_kp serve "$D3" serve-fanout 15
resp=$(curl -sS --max-time 10 -X POST -H "Authorization: Bearer $FTOKEN" \
    -H 'Content-Type: application/json' -d '{"name":"Fan","channel":"api"}' \
    "http://127.0.0.1:$KP_PORT/api/v1/inboxes") || die "POST /api/v1/inboxes failed"
FINBOX=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$resp")
fan=$(timeout 120 "$STREAM_FANOUT" "$KP_PORT" "$FTOKEN" "$FINBOX" "$FANOUT_STREAMS" 50 \
    2>"$OUT/stream_fanout.err") || true
printf '%s\n' "$fan" >"$OUT/stream_fanout.txt"
[ -s "$OUT/stream_fanout.err" ] && sed 's/^/  /' "$OUT/stream_fanout.err" >&2
stop_pid "$KP_PID"
FAN_P50=$(field p50_ms "$fan")
FAN_P99=$(field p99_ms "$fan")
FAN_LOST=$(field lost "$fan")
[ -n "$FAN_P99" ] || die "stream_fanout printed no figures (see $OUT/stream_fanout.err)"
res=$(verdict "$FAN_P99" "<" 50)
[ "$FAN_LOST" = 0 ] || res=MISSED
row "Event fan-out to $FANOUT_STREAMS agent streams, p50 / p99 (ms)" \
    "$FAN_P50 / $FAN_P99 ($(field deliveries "$fan") deliveries, $FAN_LOST lost)" \
    "from the message's created_at (before its commit); after the 201: $(field ack_p50_ms "$fan") / $(field ack_p99_ms "$fan")" \
    "p99 < 50" "$res"

# ---- c''') idle chat-widget WebSockets: server memory per connection ----

STAGE=widget-idle
WIDGET_CONNS=${WIDGET_CONNS:-15000}
log "c''') $WIDGET_CONNS idle widget WebSockets from 3 processes"
D4=$OUT/widget-data
mkdir -p "$D4"
timeout 60 "$KP_BIN" user add --data "$D4" --email wid@x.test --name Wid --role admin \
    --password benchpass1 >"$OUT/wid-user.out" 2>&1 || die "'knotenpunkt user add' failed"
WTOKEN=$(timeout 60 "$KP_BIN" user token --data "$D4" --email wid@x.test 2>/dev/null | tail -n1 | tr -d '[:space:]')
(
    # a process may hold 20,000 open files here: the server gets them all
    ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
    KNOTENPUNKT_MAX_CONNECTIONS=$((WIDGET_CONNS + 1000)) start_kp serve "$D4" serve-widget 15
    echo "$KP_PID $KP_PORT" >"$OUT/widget-server"
    wait "$KP_PID" 2>/dev/null || true
) &
WSUB=$!
PIDS+=("$WSUB")
for ((i = 0; i < 100; i++)); do [ -s "$OUT/widget-server" ] && break; sleep 0.1; done
read -r WPID WPORT <"$OUT/widget-server" || die "the widget server did not start"
PIDS+=("$WPID")
resp=$(curl -sS --max-time 10 -X POST -H "Authorization: Bearer $WTOKEN" \
    -H 'Content-Type: application/json' -d '{"name":"Shop chat","channel":"webchat"}' \
    "http://127.0.0.1:$WPORT/api/v1/inboxes") || die "POST /api/v1/inboxes failed"
WINBOX=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["id"])' "$resp")
wid=$(timeout 300 python3 bench/widget_idle.py "$WPORT" "$WPID" "$WINBOX" "$WIDGET_CONNS" 3 \
    2>"$OUT/widget_idle.err") || true
printf '%s\n' "$wid" >"$OUT/widget_idle.txt"
[ -s "$OUT/widget_idle.err" ] && sed 's/^/  /' "$OUT/widget_idle.err" >&2
stop_pid "$WPID"
wait "$WSUB" 2>/dev/null || true
WID_BYTES=$(field bytes_per_connection "$wid")
WID_N=$(field connections "$wid")
[ -n "$WID_BYTES" ] || die "widget_idle printed no figures (see $OUT/widget_idle.err)"
res=$(verdict "$WID_BYTES" "<" 4097)
[ "$WID_N" -ge "$WIDGET_CONNS" ] || res=MISSED
row "Idle widget WebSockets: server memory per connection (bytes)" \
    "$WID_BYTES at $WID_N connections ($(field failed "$wid") failed)" \
    "RSS $(field rss_before_kb "$wid") kB with the sessions, $(field rss_after_kb "$wid") kB with the sockets open" \
    "<= 4096" "$res"

# ---- d) start-up time ----

STAGE=startup
log "d) start-up time, median of 5"
cat >"$OUT/startup.py" <<'EOF'
# Starts a server 5 times and prints the median milliseconds from exec until GET /healthz
# answers 200 on its port. argv: port placeholder file mode ("kp" or "nginx"), then the command.
import os, socket, statistics, subprocess, sys, time

mode, cmd = sys.argv[1], sys.argv[2:]

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

def healthy(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.5)
    except OSError:
        return False
    try:
        s.settimeout(2)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b" ")[1:2] == [b"200"]
    except OSError:
        return False
    finally:
        s.close()

times = []
for run in range(5):
    port = free_port()
    env = dict(os.environ)
    args = list(cmd)
    if mode == "kp":
        env["KNOTENPUNKT_LISTEN"] = "127.0.0.1:%d" % port
    else:
        conf = args[-1]
        with open(conf + ".in") as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("@PORT@", str(port)))
    t0 = time.monotonic()
    p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not healthy(port):
            if p.poll() is not None:
                sys.exit("startup: %s exited with %s before /healthz answered" % (args[0], p.returncode))
            if time.monotonic() - t0 > 10:
                sys.exit("startup: /healthz did not answer within 10 s")
            time.sleep(0.001)
        times.append((time.monotonic() - t0) * 1000)
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
print("%.1f" % statistics.median(times), " ".join("%.1f" % t for t in times))
EOF
st=$(KNOTENPUNKT_DATA=$D2 KNOTENPUNKT_LOG_LEVEL=warn timeout 120 python3 "$OUT/startup.py" kp "$KP_BIN" serve)
KP_START=${st%% *}
NS=$OUT/nginx-start
write_nginx_conf "$NS" @PORT@
mv "$NS/nginx.conf" "$NS/nginx.conf.in"
st2=$(timeout 120 python3 "$OUT/startup.py" nginx "$NGINX" -p "$NS" -c "$NS/nginx.conf")
NGX_START=${st2%% *}
row "Start-up until /healthz answers, median of 5 (ms)" "$KP_START (runs: ${st#* })" \
    "nginx, same probe: $NGX_START" "< 200" "$(verdict "$KP_START" "<" 200)"

bench_email

# ---- e) results ----

finish
