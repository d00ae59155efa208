#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Server memory per idle chat-widget WebSocket, used by `make bench` (bench/run.sh).

widget_idle.py PORT SERVER_PID INBOX [TOTAL [PROCESSES]]   (defaults 15000 over 3 processes)

Each worker process (a process may hold at most 20,000 open files here, so the connections are
spread) first creates its share of visitor sessions (POST /widget/v1/sessions), then, when
told, opens one widget WebSocket per session (GET /widget/v1/stream?token=...) and holds it
idle. The parent reads the server's resident memory (VmRSS) after all sessions exist and again
once every WebSocket is open: the difference over TOTAL is the memory one idle connection costs
(sessions, SQLite pages and caches are already in the first reading). Loopback only; bounded
in time; every worker exits when the parent does.

Prints one line: widget_idle connections=<n> rss_before_kb=<n> rss_after_kb=<n>
bytes_per_connection=<n> failed=<n>
"""
import json
import os
import resource
import select
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"
DEADLINE_S = 240


def http(port, method, path, body):
    data = json.dumps(body).encode()
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(("%s %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n"
               % (method, path, HOST, port, len(data))).encode() + data)
    raw = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    s.close()
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(rest) if rest.strip() else None


def open_ws(port, token):
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(("GET /widget/v1/stream?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\nOrigin: http://%s:%d\r\n\r\n"
               % (token, HOST, port, HOST, port)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed during the handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise OSError("handshake answered %r" % head.split(b"\r\n", 1)[0])
    s.setblocking(False)
    return s


def worker(port, inbox, n):
    """Creates n sessions, says 'sessions', waits for a line, opens n sockets, says 'open N F',
    then holds them until stdin closes."""
    tokens = []
    for _ in range(n):
        st, body = http(port, "POST", "/widget/v1/sessions", {"inbox_id": inbox})
        if st in (200, 201) and body and body.get("visitor_token"):
            tokens.append(body["visitor_token"])
    print("sessions %d" % len(tokens), flush=True)
    if not sys.stdin.readline():
        return
    socks, failed = [], n - len(tokens)
    for t in tokens:
        try:
            socks.append(open_ws(port, t))
        except OSError:
            failed += 1
    print("open %d %d" % (len(socks), failed), flush=True)
    # hold, draining whatever the server sends (hello, pings), until the parent closes stdin
    while True:
        r, _, _ = select.select([sys.stdin] + socks[:1000], [], [], 1.0)
        if sys.stdin in r and not sys.stdin.readline():
            return
        for s in r:
            if s is not sys.stdin:
                try:
                    s.recv(4096)
                except OSError:
                    pass


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    port, pid, inbox = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    total = int(sys.argv[4]) if len(sys.argv) > 4 else 15000
    procs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    deadline = time.monotonic() + DEADLINE_S
    share = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
    workers = [subprocess.Popen([sys.executable, __file__, "--worker", str(port), str(inbox),
                                 str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True) for n in share]

    def read_all(prefix):
        lines = []
        for w in workers:
            while True:
                if time.monotonic() > deadline:
                    raise SystemExit("widget_idle: workers did not finish in time")
                line = w.stdout.readline()
                if not line:
                    raise SystemExit("widget_idle: a worker exited early")
                if line.startswith(prefix):
                    lines.append(line.split())
                    break
        return lines

    try:
        read_all("sessions")
        time.sleep(1.0)  # let the writer settle
        before = rss_kb(pid)
        for w in workers:
            w.stdin.write("go\n")
            w.stdin.flush()
        opened = read_all("open")
        n_open = sum(int(x[1]) for x in opened)
        failed = sum(int(x[2]) for x in opened)
        time.sleep(1.0)
        after = rss_kb(pid)
        per = (after - before) * 1024 // n_open if n_open else 0
        print("widget_idle connections=%d rss_before_kb=%d rss_after_kb=%d "
              "bytes_per_connection=%d failed=%d" % (n_open, before, after, per, failed))
    finally:
        for w in workers:
            try:
                w.stdin.close()
            except OSError:
                pass
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()


if __name__ == "__main__":
    main()
