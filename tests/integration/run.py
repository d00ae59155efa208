#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
run.py - runs the integration tests against a built binary.

    python3 tests/integration/run.py BINARY [FILTER...]

Discovers tests/integration/tNNN-*.py (a FILTER is a substring of the file name, or
file:test_name to pick one test), runs each test_* function in file order with a fresh
Server (module attribute SERVER_ENV and the kp.env decorator add environment; a test whose
parameter is named `binary` gets the binary path and starts its own servers). Prints
"ok NAME" or "FAIL NAME: reason" per test and exits 1 if any failed.

After each test the runner stops its Server with SIGTERM and requires exit status 0, and fails
the test if any 5xx was seen. A watchdog kills the test's servers when it runs past its limit
(default 120 s, kp.timeout decorator), which unblocks every socket the test waits on.
"""
import glob
import importlib.util
import inspect
import os
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kp  # noqa: E402

DEFAULT_TIMEOUT = 120


def load(path):
    name = os.path.basename(path)[:-3].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tests_of(mod):
    fns = [v for k, v in vars(mod).items() if k.startswith("test_") and callable(v)
           and getattr(v, "__module__", None) == mod.__name__]
    return sorted(fns, key=lambda f: f.__code__.co_firstlineno)


def cleanup_all():
    for s in list(kp.LIVE_SERVERS):
        s.cleanup()


def run_one(binary, mod, fn):
    kp.SEEN_5XX.clear()
    limit = getattr(fn, "kp_timeout", getattr(mod, "TIMEOUT", DEFAULT_TIMEOUT))
    expired = threading.Event()

    def watchdog():
        expired.set()
        for s in list(kp.LIVE_SERVERS):
            s.kill()
    timer = threading.Timer(limit, watchdog)
    timer.daemon = True
    srv = None
    try:
        params = list(inspect.signature(fn).parameters)
        timer.start()
        if params and params[0] == "binary":
            fn(binary)
        else:
            extra = dict(getattr(mod, "SERVER_ENV", {}) or {})
            extra.update(getattr(fn, "kp_env", {}))
            srv = kp.Server(binary, extra)
            fn(srv) if params else fn()
            if expired.is_set():
                raise kp.Failure("ran past its %d s limit" % limit)
            srv.stop()
        if kp.SEEN_5XX:
            raise kp.Failure("server answered 5xx: %s" % "; ".join(kp.SEEN_5XX[:5]))
        return None
    except BaseException as e:  # noqa: B902 - report everything, including KeyboardInterrupt
        if isinstance(e, KeyboardInterrupt):
            raise
        if expired.is_set():
            reason = "ran past its %d s limit (%s: %s)" % (limit, type(e).__name__, e)
        elif isinstance(e, kp.Failure):
            reason = str(e)
        else:
            tb = traceback.extract_tb(e.__traceback__)
            where = next((f for f in reversed(tb) if os.path.dirname(os.path.abspath(f.filename))
                          == HERE), tb[-1] if tb else None)
            loc = " at %s:%d" % (os.path.basename(where.filename), where.lineno) if where else ""
            reason = "%s: %s%s" % (type(e).__name__, e, loc)
        if srv is not None:
            if srv.proc is not None and srv.proc.poll() not in (None, 0, -9, -15):
                reason += " [server exited with status %r]" % srv.proc.poll()
            tail = srv.stderr_tail(800).strip()
            if tail:
                reason += "\n    server stderr: " + tail.replace("\n", "\n    ")
        if os.environ.get("KP_VERBOSE"):
            traceback.print_exc()
        return reason
    finally:
        timer.cancel()
        cleanup_all()


def main(argv):
    if len(argv) < 2:
        print("usage: run.py BINARY [FILTER...]", file=sys.stderr)
        return 2
    binary = os.path.abspath(argv[1])
    if not os.access(binary, os.X_OK):
        print("run.py: %s is not an executable" % binary, file=sys.stderr)
        return 2
    filters = argv[2:]
    files = sorted(glob.glob(os.path.join(HERE, "t[0-9][0-9][0-9]-*.py")))
    failed, passed = [], 0
    start = time.monotonic()
    for path in files:
        base = os.path.basename(path)
        wanted = [f for f in filters if f.split(":")[0] in base] if filters else [""]
        if not wanted:
            continue
        try:
            mod = load(path)
        except Exception as e:
            print("FAIL %s: cannot load: %s" % (base, e), flush=True)
            failed.append(base)
            continue
        for fn in tests_of(mod):
            names = [f.split(":", 1)[1] for f in wanted if ":" in f]
            if names and fn.__name__ not in names:
                continue
            name = "%s:%s" % (base[:-3], fn.__name__)
            t0 = time.monotonic()
            reason = run_one(binary, mod, fn)
            if reason is None:
                passed += 1
                print("ok %s (%.1fs)" % (name, time.monotonic() - t0), flush=True)
            else:
                failed.append(name)
                print("FAIL %s: %s" % (name, reason), flush=True)
    print("%d passed, %d failed (%.0fs)" % (passed, len(failed), time.monotonic() - start))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
