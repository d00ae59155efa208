#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets: make_corpus.py [DIR] (default: next to this file).

corpus/http1/: the first byte of each file is the read size fuzz_http1.c simulates (0 = all at
once), the rest is what a client sends. corpus/json/: request bodies. corpus/websocket/: client
frames (masked), one or several per file. corpus/smtp/: byte 0 is the read size fuzz_smtp.c
simulates in the DATA phase (0 = all at once), byte 1 a quarter of the message buffer's
capacity, the rest a client's side of an SMTP or LMTP session. corpus/mime/: raw mails, well
formed and broken. corpus/html/: inbound html, XSS vectors included. Crash reproducers found
later are added by hand as crash-*; this script leaves other files alone.
"""
import os
import sys

KEY = b'dGhlIHNhbXBsZSBub25jZQ=='


def http1_seeds():
    get = b'GET /api/v1/conversations?state=open&limit=20 HTTP/1.1\r\nHost: kp\r\n\r\n'
    body = b'{"sender":{"email":"a@b.c"},"text":"Hallo"}'
    post = (b'POST /api/v1/inboxes/1/messages HTTP/1.1\r\nHost: kp\r\n'
            b'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
    chunked = (b'POST /api/v1/inboxes/1/messages HTTP/1.1\r\nHost: kp\r\n'
               b'Transfer-Encoding: chunked\r\n\r\n5\r\nHallo\r\n6;x=y\r\n, Welt\r\n0\r\n\r\n')
    upgrade = (b'GET /api/v1/stream HTTP/1.1\r\nHost: kp\r\nUpgrade: websocket\r\n'
               b'Connection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\n'
               b'Sec-WebSocket-Key: ' + KEY + b'\r\n\r\n\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58')
    return {
        'get': b'\0' + get,
        'get-bytewise': b'\1' + get,
        'get-http10': b'\0GET / HTTP/1.0\r\n\r\n',
        'get-close': b'\0GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n',
        'get-query-escapes': b'\0GET /api/v1/search?q=M%C3%BCller+GmbH&q2=%zz&&=&a HTTP/1.1\r\n\r\n',
        'get-path-escapes': b'\0GET /api/v1/contacts/J%C3%BCrgen%2Fx#frag HTTP/1.1\r\n\r\n',
        'post-json': b'\0' + post,
        'post-json-split': b'\x07' + post,
        'post-chunked': b'\0' + chunked,
        'post-chunked-split': b'\x03' + chunked,
        # trailer fields after the body grow the header buffer once its pointers are set
        'chunked-trailers-regrow': b'\0POST /api/v1/x?y=1 HTTP/1.1\r\nHost: kp\r\n'
                                   b'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n'
                                   b'X-Trailer: ' + b't' * 300 + b'\r\n\r\n',
        'pipelined': b'\0' + get + post + chunked + b'DELETE /api/v1/tokens/3 HTTP/1.1\r\n\r\n',
        'pipelined-split': b'\x0b' + get + post + get,
        'upgrade': b'\0' + upgrade,
        'upgrade-bad-key': b'\0' + upgrade.replace(KEY, b'short'),
        'empty-header-value': b'\0GET / HTTP/1.1\r\nX-Empty:\r\nHost: kp\r\n\r\n',
        'header-folding': b'\0GET / HTTP/1.1\r\nX-A: one\r\n two\r\nHost: kp\r\n\r\n',
        'bad-header': b'\0GET / HTTP/1.1\r\nHost kp\r\n\r\n',
        'bad-method': b'\0G@T / HTTP/1.1\r\n\r\n',
        'bad-target': b'\0GET http://example.org/ HTTP/1.1\r\n\r\n',
        'bad-escape': b'\0GET /%00 HTTP/1.1\r\n\r\n',
        'bad-chunk': b'\0POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        'bad-length': b'\0POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
        'tls-hello': b'\0\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03',
        'oversize-header': b'\0GET / HTTP/1.1\r\nX-Big: ' + b'a' * 700 + b'\r\n\r\n',
        'oversize-url': b'\0GET /' + b'u' * 700 + b' HTTP/1.1\r\n\r\n',
        # a target long enough that decoding its copy grows (moves) the header buffer
        'long-url-regrow': b'\0GET /' + b'u' * 200 + b'?q=1 HTTP/1.1\r\nHost: kp\r\n\r\n',
        'many-headers': b'\0GET / HTTP/1.1\r\n' + b''.join(b'H%d: v\r\n' % i for i in range(70))
                        + b'\r\n',
        'oversize-body': b'\0POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\nxx',
        'oversize-chunked': b'\x10POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'
                            + b'200\r\n' + b'b' * 512 + b'\r\n' + b'201\r\n' + b'c' * 513 + b'\r\n0\r\n\r\n',
    }


def json_seeds():
    return {
        'ingest-min': b'{"sender":{"email":"kunde@example.org"},"text":"Hallo"}',
        'ingest-full': b'{"sender":{"name":"J\\u00fcrgen","email":"j@example.org","phone":"+49301234"},'
                       b'"text":"Die Rechnung fehlt","html":"<p>Die Rechnung fehlt</p>",'
                       b'"subject":"Rechnung","external_id":"<m1@example.org>",'
                       b'"attachments":[{"filename":"a.txt","content_type":"text/plain",'
                       b'"data":"aGFsbG8="}]}',
        'ingest-nulls': b'{"sender":{"email":"a@b"},"text":"x","html":null,"subject":null}',
        'ingest-unknown-field': b'{"sender":{},"text":"x","colour":"red"}',
        'missing-sender': b'{"text":"x"}',
        'missing-text': b'{"sender":{}}',
        'wrong-type-sender': b'{"sender":"bob","text":"x"}',
        'wrong-type-text': b'{"sender":{},"text":42}',
        'wrong-type-attachments': b'{"sender":{},"text":"x","attachments":{}}',
        'text-null': b'{"sender":{},"text":null}',
        'top-array': b'[{"sender":{},"text":"x"}]',
        'top-string': b'"text"',
        'top-number': b'1e999',
        'empty': b'',
        'duplicate-keys': b'{"sender":{},"text":"a","text":"b"}',
        'deep-ok': b'{"sender":{},"text":"x","a":' + b'[' * 30 + b']' * 30 + b'}',
        'deep-too': b'{"a":' + b'[' * 40 + b']' * 40 + b'}',
        'deep-unbalanced': b'{"a":' + b'{"b":' * 50,
        'brackets-in-string': b'{"sender":{},"text":"[[[[{{{{\\"[[[["}',
        'bad-utf8-overlong': b'{"sender":{},"text":"\xc0\xaf"}',
        'bad-utf8-surrogate': b'{"sender":{},"text":"\xed\xa0\x80"}',
        'bad-utf8-truncated': b'{"sender":{},"text":"\xe2\x82"}',
        'bad-utf8-too-big': b'{"sender":{},"text":"\xf4\x90\x80\x80"}',
        'raw-nul': b'{"sender":{},"text":"a\x00b"}',
        'escape-nul': b'{"sender":{},"text":"a\\u0000b"}',
        'escape-lone-surrogate': b'{"sender":{},"text":"\\ud800"}',
        'escapes': b'{"sender":{},"text":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}',
        'huge-numbers': b'{"sender":{},"text":"x","priority":123456789012345678901234567890,'
                        b'"n":-9223372036854775809,"f":1e308,"g":-0.0}',
        'long-key': b'{"sender":{},"text":"x","' + b'k' * 300 + b'":1}',
        'whitespace': b' \t\r\n{ "sender" : { } , "text" : "x" } \n',
    }


def ws_frame(b0, payload):
    """A masked client frame: first byte b0 (FIN, RSV, opcode), then payload."""
    mask = bytes([0x37, 0xfa, 0x21, 0x3d])
    n = len(payload)
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n < 65536:
        head = bytes([b0, 0x80 | 126, n >> 8, n & 255])
    else:
        head = bytes([b0, 0x80 | 127]) + n.to_bytes(8, 'big')
    return head + mask + bytes(p ^ mask[i & 3] for i, p in enumerate(payload))


def websocket_seeds():
    return {
        'text-hello': ws_frame(0x81, b'Hello'),
        'json-watch': ws_frame(0x81, b'{"type":"watch","conversation_id":12}'),
        'fragmented': ws_frame(0x01, b'{"type":"wat') + ws_frame(0x80, b'ch"}'),
        'ping-pong-close': ws_frame(0x89, b'hi') + ws_frame(0x8a, b'') +
        ws_frame(0x88, b'\x03\xe8bye'),
        'medium-16bit': ws_frame(0x82, bytes(300)),
        'large-64bit': ws_frame(0x82, bytes(70000)),
        'unmasked': bytes([0x81, 0x02]) + b'hi',
        'rsv-bits': ws_frame(0xf1, b'x'),
        'bad-opcode': ws_frame(0x83, b'x'),
        'long-ping': ws_frame(0x89, bytes(126)),
        'truncated': ws_frame(0x81, b'Hello')[:7],
        'utf8-invalid': ws_frame(0x81, b'\xc3\x28'),
    }


def smtp_seeds():
    helo = b'EHLO client.example\r\n'
    env = (b'MAIL FROM:<kunde@Example.ORG> SIZE=1234 BODY=8BITMIME\r\n'
           b'RCPT TO:<support@kp.example>\r\n')
    msg = (b'From: Kunde <kunde@example.org>\r\nSubject: Rechnung\r\n\r\n'
           b'Die Rechnung fehlt.\r\n..Punkt am Anfang\r\n.\r\n')
    session = helo + env + b'DATA\r\n' + msg + b'QUIT\r\n'
    return {
        'session': b'\0\xff' + session,
        'session-bytewise': b'\1\xff' + session,
        'session-split7': b'\x07\x04' + session,
        'lmtp': b'\0\xff' + b'LHLO kp.example\r\nMAIL FROM:<>\r\nRCPT TO:<a@kp.example>\r\n'
                b'RCPT TO:<Postmaster>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n',
        'pipelined': b'\x03\x10' + helo + env + b'DATA\r\nx\r\n.\r\nRSET\r\n' + env +
                     b'DATA\r\n.\r\nQUIT\r\n',
        'empty-data': b'\0\x08DATA\r\n.\r\nNOOP\r\n',
        'bare-lf': b'\x02\x20HELO x\nMAIL FROM:<a@b.example>\nRCPT TO:<c@d.example>\nDATA\n'
                   b'a\nb\n..c\n.\nQUIT\n',
        'bare-cr': b'\x01\x20DATA\r\na\rb\r\r\n.\rx\r\n.\r\n',
        'dot-cr-split': b'\x05\x02DATA\r\nxyz\r\n.\r\r\n.\r\nQUIT\r\n',
        'no-end': b'\x04\x01DATA\r\nnever ends\r\n.x\r\n. \r\n',
        'source-route': b'\0\0RCPT TO:<@a.example,@[192.0.2.1]:u@D.Example>\r\n',
        'quoted': b'\0\0MAIL FROM:<"John \\"Q\\" Doe"@Example.org>\r\n'
                  b'RCPT TO:<"a@b>c"@x.example>\r\n',
        'utf8': b'\0\0MAIL FROM:<j\xc3\xbcrgen@m\xc3\xbcller.example> SMTPUTF8\r\n'
                b'RCPT TO:<\xe7\x94\xa8@\xe4\xbe\x8b.example>\r\n',
        'bad-utf8': b'\0\0MAIL FROM:<a\xc0\xaf@x.example>\r\nRCPT TO:<a@\xed\xa0\x80.x>\r\n',
        'params': b'\0\0MAIL FROM:<a@b.example> SIZE=18446744073709551615 BODY=7BIT SMTPUTF8\r\n'
                  b'MAIL FROM:<a@b.example> SIZE=18446744073709551616\r\n'
                  b'MAIL FROM:<a@b.example> AUTH=<> RET=HDRS\r\n'
                  b'RCPT TO:<a@b.example> NOTIFY=NEVER\r\nMAIL FROM:<a@b.example> =x\r\n',
        'literals': b'\0\0HELO [192.0.2.1]\r\nMAIL FROM:<x@[IPv6:2001:DB8::1]>\r\n'
                    b'RCPT TO:<x@[]>\r\n',
        'no-args': b'\0\0DATA now\r\nRSET x\r\nQUIT \r\nSTARTTLS\r\nNOOP hi\r\nHELP\r\n'
                   b'VRFY postmaster\r\nHELO\r\nEHLO\r\nLHLO\r\n',
        'bdat': b'\0\0BDAT 100\r\nBDAT 0 LAST\r\nBDAT x\r\n',
        'control-chars': b'\0\0MAIL FROM:<a\x01b@x.example>\r\nMAIL FROM:<a\x00@x>\r\n'
                         b'NOOP \x7f\r\n\x16\x03\x01\x02\x00\r\n',
        'long-path': b'\0\0MAIL FROM:<' + b'l' * 250 + b'@x.example>\r\nRCPT TO:<' + b'l' * 246 +
                     b'@x.example>\r\n',
        'long-line': b'\0\0HELO x ' + b'y' * 1000 + b'\r\nNOOP\r\n',
        'domains': b'\0\0RCPT TO:<a@-x.example>\r\nRCPT TO:<a@x..example>\r\n'
                   b'RCPT TO:<a@x.example.>\r\nRCPT TO:<a@' + b'l' * 64 + b'.example>\r\n',
    }


def mail(headers, body):
    """A mail from header lines (CRLF added) and a body."""
    return ''.join(h + '\r\n' for h in headers).encode() + b'\r\n' + body


def mime_seeds():
    ct = 'Content-Type: '
    alt = (b'--A\r\nContent-Type: text/plain; charset=iso-8859-1\r\n'
           b'Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe\r\n'
           b'--A\r\nContent-Type: multipart/related; boundary=R\r\n\r\n'
           b'--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
           b'<p onclick=x>Hi <img src="cid:logo@x"><a href="javascript:alert(1)">x</a></p>\r\n'
           b'--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n'
           b'Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgpmYWtlcG5n\r\n--R--\r\n--A--\r\n')
    dsn = (b'--D\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n'
           b'--D\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n'
           b'Final-Recipient: rfc822; a@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n'
           b'Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n'
           b'--D\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <orig@shop>\r\n'
           b'--D--\r\n')
    fwd = (b'--F\r\nContent-Type: text/plain\r\n\r\nsee below\r\n'
           b'--F\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\nSubject: inner\r\n'
           b'Content-Type: text/html\r\n\r\n<b>inner</b>\r\n--F--\r\n')
    signed = (b'--S\r\nContent-Type: text/plain\r\n\r\nsigned\r\n'
              b'--S\r\nContent-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP\r\n--S--\r\n')
    files = (b'--X\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n'
             b" filename*0*=utf-8''R%C3%A9sum%C3%A9; filename*1=.pdf\r\n\r\n%PDF\r\n"
             b'--X\r\nContent-Type: text/plain; name="=?UTF-8?B?w6QudHh0?="\r\n'
             b'Content-Disposition: attachment\r\n\r\nx\r\n--X--\r\n')
    return {
        'plain': mail(['From: =?UTF-8?Q?J=C3=BCrgen?= <J@Example.org>',
                       'To: a@b.example, "C, D" <c@d.example>', 'Subject: =?koi8-r?B?8NLJ18XU?=',
                       'Message-ID: <m1@example.org>', 'In-Reply-To: <p@x>',
                       'References: <r1@x> <p@x>', 'Date: Tue, 1 Oct 2024 09:30:00 +0200'],
                      b'Hello\r\n'),
        'alternative-related': mail(['From: a@b', ct + 'multipart/alternative; boundary=A'], alt),
        'dsn': mail(['From: MAILER-DAEMON@mx', 'Subject: Undelivered Mail',
                     ct + 'multipart/report; report-type=delivery-status; boundary=D'], dsn),
        'qmail': mail(['From: MAILER-DAEMON@q', 'Return-Path: <>', 'Subject: failure notice'],
                      b'Hi. This is the qmail-send program at q.\r\n\r\n<a@example.com>:\r\n'
                      b'Sorry, no mailbox here by that name. (#5.1.1)\r\n\r\n'
                      b'--- Below this line is a copy of the message.\r\n\r\n'
                      b'Message-ID: <q@shop>\r\n'),
        'forwarded': mail(['From: a@b', ct + 'multipart/mixed; boundary=F'], fwd),
        'signed': mail(['From: a@b', ct + 'multipart/signed; protocol="application/pgp-signature";'
                        ' boundary=S'], signed),
        'encrypted': mail(['From: a@b', ct + 'multipart/encrypted; boundary=E'],
                          b'--E\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n'
                          b'--E\r\nContent-Type: application/octet-stream\r\n\r\nxx\r\n--E--\r\n'),
        'pkcs7': mail(['From: a@b', ct + 'application/pkcs7-mime; smime-type=enveloped-data',
                       'Content-Transfer-Encoding: base64'], b'MIAGCSqGSIb3\r\n'),
        'filenames': mail(['From: a@b', ct + 'multipart/mixed; boundary=X'], files),
        'utf16': mail(['From: a@b', ct + 'text/plain; charset=utf-16',
                       'Content-Transfer-Encoding: base64'], b'//5IAGkAIADkAA==\r\n'),
        'utf7-flowed': mail(['From: a@b', ct + 'text/plain; charset=utf-7; format=flowed'],
                            b'Hi +AOQ- soft \r\nbreak\r\n> q \r\n> r\r\n'),
        'auto-flags': mail(['From: postmaster@x', 'Auto-Submitted: auto-replied',
                            'Precedence: bulk', 'List-Id: <l.x>', 'X-Autoreply: yes'], b'away\r\n'),
        'no-headers': b'just text\nno headers\n',
        'nul-and-8bit': b'From: \xff\xfe <a@b>\r\nSubject: caf\xe9\x00x\r\n\r\nbody\x00\xc3\r\n',
        'truncated': mail(['From: a@b', ct + 'multipart/mixed; boundary=T'],
                          b'--T\r\nContent-Type: text/plain\r\n\r\ncut'),
        'no-boundary': mail(['From: a@b', ct + 'multipart/mixed'], b'--Z\r\n\r\nx\r\n--Z--\r\n'),
        'bad-base64': mail(['From: a@b', 'Content-Transfer-Encoding: base64'], b'SGVsbG8*!!\r\n'),
        'nested': mail(['From: a@b'], b''.join(
            b'Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n' % (i, i)
            for i in range(30)) + b'\r\ndeep\r\n'),
        'many-parts': mail(['From: a@b', ct + 'multipart/mixed; boundary=M'], b''.join(
            b'--M\r\nContent-Type: application/octet-stream\r\n\r\n%d\r\n' % i
            for i in range(150)) + b'--M--\r\n'),
        'mbox-from-line': b'From someone Mon Jan  1 00:00:00 2024\n' + mail(['From: a@b'], b'x\n'),
    }


def html_seeds():
    return {
        'basic': b'<html><head><title>t</title><style>p{}</style></head><body><p>Hello '
                 b'<b>world</b> &amp; <a href="https://example.org/?a=1&amp;b=2">link</a></p>'
                 b'<ul><li>one<li>two</ul><blockquote>q<br>r</blockquote><pre>\n code</pre>'
                 b'</body></html>',
        'xss-links': b'<a href="jav&#x09;ascript:alert(1)">a</a><a href=" JaVaScRiPt:x">b</a>'
                     b'<a href="java\x00script:x">c</a><a href="javascript&colon;x">d</a>'
                     b'<a href="mailto:a@b">e</a><a href="//evil/">f</a>',
        'xss-events': b'<img src=cid:a onerror=alert(1) style="x:y"><p onclick=x>t</p>'
                      b'<svg onload=alert(1)><script>alert(1)</script></svg>'
                      b'<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
        'mxss': b'<noscript><p title="</noscript><img src=x onerror=alert(1)>">'
                b'<form><math><mtext></form><form><mglyph><style></math><img src onerror=x>',
        'images': b'<img src="https://t.example/p.gif" width=1><img src="CID:logo" alt=Logo>'
                  b'<image src=cid:x><img srcset="http://e/ 1x">',
        'tables': b'<table><tr><td><table><tr><td>in</table><td>b</tr><caption>c</caption>'
                  b'</table><table>stray<tr><td colspan=2 rowspan=x>x</table>',
        'misnested': b'<b><i>x</b>y</i><p>a<div>b</p>c<a href=http://a/>1<a href=http://b/>2',
        'deep': b'<div>' * 300 + b'x',
        'formatting-flood': b''.join(b'<b id=%d>' % i for i in range(200)) + b'<p>t</p>' * 20,
        'entities': b'&lt;script&gt; &nbsp;&nbsp; &#0; &#x110000; &bogus; &amp',
        'bad-utf8': b'<p>caf\xe9 \xff\xfe \xed\xa0\x80 \xf4\x90\x80\x80 ok</p>',
        'empty': b'',
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, seeds in (('http1', http1_seeds()), ('json', json_seeds()),
                        ('websocket', websocket_seeds()), ('smtp', smtp_seeds()),
                        ('mime', mime_seeds()), ('html', html_seeds())):
        d = os.path.join(root, 'corpus', name)
        os.makedirs(d, exist_ok=True)
        for fname, data in seeds.items():
            with open(os.path.join(d, fname), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
