# SPDX-License-Identifier: MIT
"""
kp.py - harness for Knotenpunkt's integration tests.

Starts the real binary on an ephemeral loopback port with a fresh data directory (Server),
talks HTTP/1.1 to it over keep-alive connections (Client), speaks RFC 6455 WebSocket over a
raw socket (WebSocket), and reads raw HTTP responses for tests that write bytes themselves
(raw_request, read_response). Python 3 standard library only.

Every blocking call has a timeout, so a hung server makes a test fail instead of hang.
"""
import base64
import hashlib
import http.client
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

ADMIN_EMAIL = "admin@test.example"
ADMIN_NAME = "Admin"
ADMIN_PASSWORD = "secret-pass-1"
HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 20.0
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# Every 5xx any Client or raw reader sees is recorded here; the runner fails the test that
# saw one, because a 5xx means a server bug, never bad input.
SEEN_5XX = []
_seen_lock = threading.Lock()

# Servers started and not yet cleaned up; the runner cleans them after each test.
LIVE_SERVERS = []


class Failure(AssertionError):
    pass


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def eq(got, want, what):
    if got != want:
        raise Failure("%s: expected %r, got %r" % (what, want, got))


def _short(v, n=400):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


def _note_status(status, method, path):
    if status >= 500:
        with _seen_lock:
            SEEN_5XX.append("%s %s -> %d" % (method, path, status))


def env(**kw):
    """Decorator: extra environment for the Server the runner starts for this test."""
    def wrap(fn):
        fn.kp_env = {k: str(v) for k, v in kw.items()}
        return fn
    return wrap


def timeout(seconds):
    """Decorator: watchdog limit for this test (default 120 s)."""
    def wrap(fn):
        fn.kp_timeout = seconds
        return fn
    return wrap


# --------------------------------------------------------------------------------------------
# Server


class Server:
    """The binary, run on 127.0.0.1:0 with a fresh data directory and an admin with a token."""

    def __init__(self, binary, extra_env=None):
        self.binary = os.path.abspath(binary)
        self.extra_env = dict(extra_env or {})
        self.root = tempfile.mkdtemp(prefix="kp-it-")
        self.data = os.path.join(self.root, "data")
        os.mkdir(self.data)
        self.stderr_path = os.path.join(self.root, "stderr.log")
        self.proc = None
        self.port = None
        self.url = None
        self.lmtp_port = None  # with KNOTENPUNKT_LMTP_LISTEN / _SMTP_LISTEN set
        self.smtp_port = None
        self.token = None
        self.starts = 0
        self._lines = None
        LIVE_SERVERS.append(self)
        try:
            self.cli("user", "add", "--data", self.data, "--email", ADMIN_EMAIL,
                     "--name", ADMIN_NAME, "--role", "admin", "--password", ADMIN_PASSWORD)
            out = self.cli("user", "token", "--data", self.data, "--email", ADMIN_EMAIL)
            lines = [l.strip() for l in out.splitlines() if l.strip()]
            check(len(lines) == 1, "'user token' must print one line, printed %r" % out)
            self.token = lines[0]
            check(self.token.startswith("kpt_"), "token should start with kpt_: %r" % self.token)
            self.start()
        except BaseException:
            self.cleanup()
            raise

    def cli(self, *args, check_rc=True):
        """Runs the binary with args; returns stdout. Fails when it exits nonzero."""
        r = subprocess.run([self.binary] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30, env=self._env())
        if check_rc and r.returncode != 0:
            fail("%s %s exited %d: %s" % (os.path.basename(self.binary), " ".join(args),
                                          r.returncode, r.stderr.decode(errors="replace")))
        return r.stdout.decode(errors="replace")

    def _env(self):
        e = dict(os.environ)
        e["KNOTENPUNKT_LISTEN"] = "%s:0" % HOST
        e["KNOTENPUNKT_DATA"] = self.data
        e["KNOTENPUNKT_LOG_LEVEL"] = "warn"
        e.update(self.extra_env)
        return e

    def start(self):
        check(self.proc is None or self.proc.poll() is not None, "server already running")
        errf = open(self.stderr_path, "ab")
        try:
            self.proc = subprocess.Popen([self.binary, "serve"], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=errf, env=self._env())
        finally:
            errf.close()
        self.starts += 1
        lines = queue.Queue()
        self._lines = lines
        proc = self.proc

        def drain():  # keeps reading so the pipe never fills
            for raw in proc.stdout:
                lines.put(raw.decode(errors="replace").rstrip("\r\n"))
            lines.put(None)
        threading.Thread(target=drain, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                fail("server did not print 'listening on' within %.0f s; stdout %r; stderr %s"
                     % (START_TIMEOUT, seen, _short(self.stderr_tail())))
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                rc = proc.wait(timeout=5)
                fail("server exited (%s) before listening; stdout %r; stderr %s"
                     % (rc, seen, _short(self.stderr_tail())))
            seen.append(line)
            m = re.search(r"^(lmtp|smtp) on 127\.0\.0\.1:(\d+)", line)
            if m:
                setattr(self, m.group(1) + "_port", int(m.group(2)))
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self.url = "http://%s:%d" % (HOST, self.port)
                return

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait, and assert a clean exit (status 0)."""
        check(self.alive(), "server is not running (exit status %r); stderr %s"
              % (self.proc.poll() if self.proc else None, _short(self.stderr_tail())))
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            fail("server did not exit within %.0f s of SIGTERM" % STOP_TIMEOUT)
        eq(rc, 0, "server exit status after SIGTERM (stderr %s)" % _short(self.stderr_tail()))

    def kill(self):
        """SIGKILL and reap; the data directory stays."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass

    def restart(self):
        """Starts again on the same data directory (stopping cleanly first if running)."""
        if self.alive():
            self.stop()
        self.start()

    def stderr_tail(self, n=3000):
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - n))
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def cleanup(self):
        self.kill()
        if os.environ.get("KP_KEEP_DATA") != "1":
            shutil.rmtree(self.root, ignore_errors=True)
        if self in LIVE_SERVERS:
            LIVE_SERVERS.remove(self)

    # conveniences
    def admin(self):
        """A Client authenticated with the admin's Bearer token."""
        return Client(self.port, self.token)

    def client(self, token=None):
        return Client(self.port, token)


# --------------------------------------------------------------------------------------------
# HTTP client


class Client:
    """Keep-alive HTTP/1.1 client; Bearer token or cookie session with CSRF token."""

    def __init__(self, port, token=None, timeout=15):
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.session = None   # kp_session cookie value
        self.csrf = None
        self.send_csrf = True

    def close(self):
        self.conn.close()

    def request(self, method, path, body=None, headers=None):
        """Returns (status, headers with lower-case names, parsed JSON or raw bytes).

        body: dict/list -> JSON with Content-Type application/json; bytes/str sent as is.
        headers: added last; a value of None removes a default header."""
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if self.session:
            h["Cookie"] = "kp_session=" + self.session
            if self.csrf and self.send_csrf and method in UNSAFE:
                h["X-CSRF-Token"] = self.csrf
        data = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif isinstance(body, str):
            data = body.encode()
        elif body is not None:
            data = body
        if data is None and method in UNSAFE:
            data = b""
        for k, v in (headers or {}).items():
            for old in [x for x in h if x.lower() == k.lower()]:
                del h[old]
            if v is not None:
                h[k] = v
        try:
            self.conn.request(method, path, body=data, headers=h)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        hdrs = {}
        for k, v in resp.getheaders():
            k = k.lower()
            hdrs[k] = hdrs[k] + "\n" + v if k in hdrs else v
        _note_status(resp.status, method, path)
        if resp.will_close:
            self.conn.close()
        return resp.status, hdrs, _parse_body(hdrs, raw)

    def call(self, method, path, body=None, status=200, headers=None):
        """request() that fails unless the status is `status`; returns the parsed body."""
        st, hdrs, parsed = self.request(method, path, body, headers)
        if st != status:
            fail("%s %s: expected %d, got %d %s" % (method, path, status, st, _short(parsed)))
        return parsed

    def get(self, path, status=200):
        return self.call("GET", path, status=status)

    def post(self, path, body=None, status=201, headers=None):
        return self.call("POST", path, body if body is not None else {}, status, headers)

    def patch(self, path, body, status=200):
        return self.call("PATCH", path, body, status)

    def put(self, path, body=None, status=200):
        return self.call("PUT", path, body, status)

    def delete(self, path, status=200):
        return self.call("DELETE", path, None, status)

    def login(self, email, password):
        """POST /api/v1/session; keeps the kp_session cookie and the csrf token."""
        st, hdrs, body = self.request("POST", "/api/v1/session",
                                      {"email": email, "password": password})
        if st != 200:
            fail("login %s: expected 200, got %d %s" % (email, st, _short(body)))
        cookie = session_cookie(hdrs)
        check(cookie is not None, "login sets no kp_session cookie: %r" % hdrs.get("set-cookie"))
        check(isinstance(body, dict) and isinstance(body.get("csrf_token"), str)
              and body["csrf_token"], "login body lacks csrf_token: %r" % body)
        self.session = cookie
        self.csrf = body["csrf_token"]
        return body


def session_cookie(hdrs):
    for line in (hdrs.get("set-cookie") or "").split("\n"):
        m = re.match(r"\s*kp_session=([^;]*)", line)
        if m and m.group(1):
            return m.group(1)
    return None


def _parse_body(hdrs, raw):
    ctype = hdrs.get("content-type", "")
    if "json" in ctype and raw:
        try:
            return json.loads(raw.decode("utf-8"))
        except ValueError:
            return raw
    return raw


def error_code(body):
    """The error code of a JSON error body, or None when the body is not one."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        c = body["error"].get("code")
        return c if isinstance(c, str) else None
    return None


def expect_error(got, status, codes, what):
    """got = (status, headers, body) from Client.request or read_response."""
    st, hdrs, body = got
    if st != status:
        fail("%s: expected %d, got %d %s" % (what, status, st, _short(body)))
    check("application/json" in hdrs.get("content-type", ""),
          "%s: error content type should be JSON, got %r" % (what, hdrs.get("content-type")))
    code = error_code(body)
    if isinstance(codes, str):
        codes = (codes,)
    check(code is not None, "%s: body is not a JSON error object: %s" % (what, _short(body)))
    check(isinstance(body["error"].get("message"), str),
          "%s: error has no message: %s" % (what, _short(body)))
    if codes:
        check(code in codes, "%s: expected code %s, got %r" % (what, "|".join(codes), code))


# --------------------------------------------------------------------------------------------
# Raw HTTP over a socket


def connect(port, timeout=10):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class RawReader:
    """Buffered reader over a socket for HTTP responses written by tests by hand."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.eof = False

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_until(self, sep, limit=1 << 20):
        while sep not in self.buf:
            if len(self.buf) > limit:
                fail("response header too large")
            if not self._fill():
                return None
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            if not self._fill():
                fail("connection closed inside a response body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def closed_by_peer(self):
        """True when the server closes the connection (reads until EOF or timeout)."""
        try:
            while self._fill():
                pass
            return True
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


def read_response(reader, method="GET", path="?"):
    """Reads one HTTP response; returns (status, headers, parsed body) or None at EOF."""
    head = reader.read_until(b"\r\n\r\n")
    if head is None:
        return None
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
    check(m is not None, "bad status line %r" % lines[0])
    status = int(m.group(1))
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            hdrs[k] = hdrs[k] + "\n" + v.strip() if k in hdrs else v.strip()
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        body = b""
        while True:
            size_line = reader.read_until(b"\r\n")
            check(size_line is not None, "connection closed inside chunked body")
            n = int(size_line.split(b";")[0].strip(), 16)
            if n == 0:
                reader.read_until(b"\r\n")
                break
            body += reader.read_exact(n)
            reader.read_exact(2)
    elif "content-length" in hdrs:
        body = reader.read_exact(int(hdrs["content-length"]))
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        while reader._fill():
            pass
        body, reader.buf = reader.buf, b""
    _note_status(status, method, path)
    return status, hdrs, _parse_body(hdrs, body)


def raw_request(port, data, timeout=10, method="?", path="?"):
    """Writes bytes on a fresh connection and reads one response.

    Returns (status, headers, body, closed): closed tells whether the server then closed."""
    s = connect(port, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        r = RawReader(s)
        got = read_response(r, method, path)
        check(got is not None, "%s %s: connection closed without a response" % (method, path))
        s.settimeout(3)
        closed = r.closed_by_peer() if got[1].get("connection", "").lower() == "close" else None
        return got + (closed,)
    finally:
        s.close()


def build_request(method, path, headers=None, body=b"", port=0):
    h = [("Host", "%s:%d" % (HOST, port))]
    h += list((headers or {}).items())
    if body or method in UNSAFE:
        if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in h):
            h.append(("Content-Length", str(len(body))))
    out = "%s %s HTTP/1.1\r\n" % (method, path)
    out += "".join("%s: %s\r\n" % kv for kv in h)
    return out.encode("latin-1") + b"\r\n" + body


# --------------------------------------------------------------------------------------------
# WebSocket (RFC 6455)

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocketRefused(Exception):
    def __init__(self, status, headers, body):
        Exception.__init__(self, "websocket upgrade refused: %d %s" % (status, _short(body)))
        self.status = status
        self.headers = headers
        self.body = body


class WebSocketClosed(Exception):
    pass


class WebSocket:
    def __init__(self, port, path="/api/v1/stream", headers=None, timeout=10):
        self.sock = connect(port, timeout)
        self.closed = False
        self.close_code = None
        try:
            self._handshake(port, path, headers or {})
        except BaseException:
            self.sock.close()
            raise

    def _handshake(self, port, path, headers):
        key = base64.b64encode(os.urandom(16)).decode()
        h = {"Host": "%s:%d" % (HOST, port), "Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
        h.update(headers)
        req = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in h.items())
        self.sock.sendall(req.encode("latin-1") + b"\r\n")
        self.reader = RawReader(self.sock)
        head = self.reader.read_until(b"\r\n\r\n")
        check(head is not None, "websocket: connection closed during handshake")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3})", lines[0])
        check(m is not None, "websocket: bad status line %r" % lines[0])
        status = int(m.group(1))
        hdrs = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
        if status != 101:
            body = b""
            if "content-length" in hdrs:
                body = self.reader.read_exact(int(hdrs["content-length"]))
            _note_status(status, "GET", path)
            raise WebSocketRefused(status, hdrs, _parse_body(hdrs, body))
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        eq(hdrs.get("sec-websocket-accept"), want, "Sec-WebSocket-Accept")
        eq(hdrs.get("upgrade", "").lower(), "websocket", "Upgrade header")
        check("upgrade" in hdrs.get("connection", "").lower(), "Connection header lacks upgrade")

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self._send_frame(0x1, text.encode())

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    def _read_frame(self):
        b0, b1 = self.reader.read_exact(2)
        fin, opcode = b0 & 0x80, b0 & 0x0F
        check(b0 & 0x70 == 0, "websocket: server set RSV bits")
        check(not (b1 & 0x80), "websocket: server frames must not be masked")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.reader.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.reader.read_exact(8))[0]
        check(n <= 64 << 20, "websocket: frame of %d bytes" % n)
        return bool(fin), opcode, self.reader.read_exact(n)

    def recv_message(self, timeout=10):
        """Returns (opcode, payload) of the next data message; answers pings, joins fragments."""
        if self.closed:
            raise WebSocketClosed("closed (%r)" % self.close_code)
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("no websocket message within %.1f s" % timeout)
            self.sock.settimeout(left)
            try:
                fin, op, payload = self._read_frame()
            except Failure as e:
                if self.reader.eof:
                    self.closed = True
                    raise WebSocketClosed("connection closed by server")
                raise e
            if op == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if op == 0xA:
                continue
            if op == 0x8:
                self.closed = True
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    self._send_frame(0x8, payload[:2])
                except OSError:
                    pass
                raise WebSocketClosed("server closed the websocket (%r)" % self.close_code)
            if op == 0x0:
                check(first_op is not None, "websocket: continuation without a start frame")
            else:
                check(first_op is None, "websocket: new data frame inside a fragmented message")
                check(op in (0x1, 0x2), "websocket: unknown opcode %d" % op)
                first_op = op
            parts.append(payload)
            if fin:
                return first_op, b"".join(parts)

    def recv_json(self, timeout=10):
        op, payload = self.recv_message(timeout)
        eq(op, 0x1, "websocket message opcode (text)")
        try:
            return json.loads(payload.decode("utf-8"))
        except ValueError:
            fail("websocket text is not JSON: %r" % payload[:200])

    def recv_until(self, pred, timeout=10):
        """Reads JSON messages until pred(msg); returns (msg, [messages before it])."""
        deadline = time.monotonic() + timeout
        before = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail("websocket: expected message not received within %.0f s; got %s"
                     % (timeout, _short(before, 1500)))
            try:
                msg = self.recv_json(left)
            except socket.timeout:
                fail("websocket: expected message not received within %.0f s; got %s"
                     % (timeout, _short(before, 1500)))
            if pred(msg):
                return msg, before
            before.append(msg)

    def close(self):
        if not self.closed:
            try:
                self._send_frame(0x8, struct.pack("!H", 1000))
                self.sock.settimeout(2)
                while True:
                    self._read_frame()
            except Exception:
                pass
            self.closed = True
        self.sock.close()


# --------------------------------------------------------------------------------------------
# Domain helpers


def make_team(admin, name):
    t = admin.post("/api/v1/teams", {"name": name})
    eq(t.get("name"), name, "created team name")
    check(isinstance(t.get("id"), int), "team id should be an integer: %r" % t)
    return t


def make_agent(admin, email, name, team_ids=(), role="agent", password="agent-pass-1"):
    body = {"email": email, "name": name, "role": role, "password": password,
            "team_ids": list(team_ids)}
    a = admin.post("/api/v1/agents", body)
    eq(a.get("email"), email, "created agent email")
    eq(a.get("role"), role, "created agent role")
    eq(sorted(a.get("teams") or []), sorted(team_ids), "created agent teams")
    return a


def make_inbox(admin, name, team_id=None):
    body = {"name": name, "channel": "api"}
    if team_id is not None:
        body["team_id"] = team_id
    i = admin.post("/api/v1/inboxes", body)
    eq(i.get("channel"), "api", "created inbox channel")
    eq(i.get("team_id"), team_id, "created inbox team_id")
    return i


def ingest(client, inbox_id, who, text, kind="email", status=201, headers=None, **extra):
    """Posts a message from sender (kind, who) to the API channel; returns the
    acknowledgement. extra adds body fields (sender= replaces the whole sender object)."""
    body = {"sender": {"kind": kind, "value": who}, "text": text}
    body.update(extra)
    r = client.post("/api/v1/inboxes/%d/messages" % inbox_id, body, status, headers)
    for k in ("message_id", "conversation_id", "contact_id"):
        check(isinstance(r.get(k), int), "ingest answer lacks integer %s: %r" % (k, r))
    eq(r.get("duplicate"), status == 200, "ingest duplicate flag")
    return r


def wait_pipeline(client, timeout=15):
    """Waits until the message pipeline has analysed and indexed every stored message, as
    /healthz reports it; search finds a message only after that."""
    deadline = time.monotonic() + timeout
    while True:
        left = client.get("/healthz")["store"]["pipeline_pending"]
        if left == 0:
            return
        check(time.monotonic() < deadline, "%d messages still wait for the pipeline" % left)
        time.sleep(0.02)


def agent_client(srv, email, password="agent-pass-1"):
    """A Bearer client for an agent: logs in with a cookie and creates a token."""
    c = Client(srv.port)
    c.login(email, password)
    t = c.post("/api/v1/tokens", {"name": "tests"})
    check(isinstance(t.get("token"), str) and t["token"].startswith("kpt_"),
          "token creation answer: %r" % t)
    c.close()
    return Client(srv.port, t["token"])


def all_pages(client, path, limit=25, max_pages=1000):
    """Follows next_cursor; returns (items, number of pages)."""
    sep = "&" if "?" in path else "?"
    items, cursor, pages = [], None, 0
    while True:
        q = "%s%slimit=%d" % (path, sep, limit)
        if cursor is not None:
            q += "&cursor=" + urlquote(cursor)
        page = client.get(q)
        pages += 1
        check(isinstance(page.get("items"), list), "%s: no items list" % q)
        check(len(page["items"]) <= limit, "%s: %d items over limit" % (q, len(page["items"])))
        items += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            return items, pages
        check(pages < max_pages, "%s: more than %d pages" % (path, max_pages))


def urlquote(s):
    from urllib.parse import quote
    return quote(str(s), safe="")
