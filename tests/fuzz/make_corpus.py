#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz targets: make_corpus.py [DIR] (default: next to this file).

corpus/http1/: the first byte of each file is the read size fuzz_http1.c simulates (0 = all at
once), the rest is what a client sends. corpus/json/: request bodies. corpus/websocket/: client
frames (masked), one or several per file. Crash reproducers found
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


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, seeds in (('http1', http1_seeds()), ('json', json_seeds()),
                        ('websocket', websocket_seeds())):
        d = os.path.join(root, 'corpus', name)
        os.makedirs(d, exist_ok=True)
        for fname, data in seeds.items():
            with open(os.path.join(d, fname), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
