# SPDX-License-Identifier: MIT
"""t009 - the agent workspace and the widget script as files: pages with a strict
Content-Security-Policy, gzip when accepted, ETag revalidation, 404 for what is not there, and
the default security headers on every answer."""
import gzip

import kp
from kp import check, eq


def test_workspace_page_and_headers(srv):
    c = kp.Client(srv.port)
    st, h, body = c.request("GET", "/", headers={"Accept-Encoding": None})
    eq(st, 200, "GET / status")
    check(h["content-type"].startswith("text/html"), "GET / content type %r" % h["content-type"])
    check(b'<div id="app">' in body and b'src="/app/app.js"' in body, "workspace page %r" % body[:200])
    csp = h.get("content-security-policy", "")
    for part in ("default-src 'self'", "script-src 'self'", "object-src 'none'",
                 "frame-ancestors 'none'"):
        check(part in csp, "CSP lacks %s: %r" % (part, csp))
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, "CSP allows inline: %r" % csp)
    eq(h.get("x-frame-options"), "DENY", "X-Frame-Options")
    eq(h.get("x-content-type-options"), "nosniff", "X-Content-Type-Options")
    eq(h.get("referrer-policy"), "same-origin", "Referrer-Policy")


def test_assets_gzip_and_etag(srv):
    c = kp.Client(srv.port)
    st, h, plain = c.request("GET", "/app/app.js", headers={"Accept-Encoding": None})
    eq(st, 200, "app.js status")
    check(h["content-type"].startswith("text/javascript"), "app.js type %r" % h["content-type"])
    check("content-encoding" not in h, "gzip sent to a client that did not ask for it")
    check(len(plain) > 1000, "app.js is %d bytes" % len(plain))
    st, hz, packed = c.request("GET", "/app/app.js", headers={"Accept-Encoding": "gzip, br"})
    eq(hz.get("content-encoding"), "gzip", "Content-Encoding for a gzip client")
    eq(gzip.decompress(packed), plain, "gzip body unpacks to the same script")
    check(len(packed) < len(plain), "gzip form is not smaller")
    etag = h.get("etag")
    check(etag and etag.startswith('"'), "ETag %r" % etag)
    st, h2, body = c.request("GET", "/app/app.js", headers={"If-None-Match": etag})
    eq((st, body), (304, b""), "revalidation with the ETag")
    st, _, css = c.request("GET", "/app/app.css")
    eq(st, 200, "app.css status")
    got = c.request("GET", "/app/secret.txt")
    kp.expect_error(got, 404, "not_found", "unknown app file")
    got = c.request("GET", "/app/..%2fapp.js")
    kp.expect_error(got, 404, "not_found", "path trick")


def test_widget_script_and_demo_shop(srv):
    c = kp.Client(srv.port)
    st, h, body = c.request("GET", "/widget/v1/widget.js")
    eq(st, 200, "widget.js status")
    eq(h.get("access-control-allow-origin"), "*", "widget script usable from any origin")
    check("max-age=" in h.get("cache-control", ""), "widget script cacheable: %r" % h)
    got = c.request("GET", "/demo/shop")
    kp.expect_error(got, 404, "not_found", "demo shop outside demo mode")


def test_api_answers_have_security_headers(srv):
    admin = srv.admin()
    st, h, _ = admin.request("GET", "/api/v1/agents")
    eq(st, 200, "agents status")
    eq(h.get("x-content-type-options"), "nosniff", "nosniff on JSON")
    check("default-src 'none'" in h.get("content-security-policy", ""),
          "JSON answers forbid everything: %r" % h.get("content-security-policy"))
    got = admin.request("GET", "/api/v1/nothing-here")
    eq(got[1].get("x-content-type-options"), "nosniff", "nosniff on errors")
