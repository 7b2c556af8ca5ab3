#!/usr/bin/env python3
"""A TLS (or, with --plain, TCP) client for test_peers_tls.sh and
test_peers_calls.sh: connects from a chosen source address and an ephemeral
port (openssl s_client cannot bind one), with or without a client
certificate, sends one request (OPTIONS, or INVITE with --method INVITE)
whose Via names another port and no rport, as many SBCs do, and reports
what happened on one line:

  handshake-failed: REASON     the server refused during the handshake
  closed: REASON               handshake done, then the server closed/alerted
  response: STATUS-LINE        a SIP response came back
  no-response                  nothing within the timeout

usage: tls_probe.py --src IP --dst IP:PORT [--ca CA.pem] [--cert C --key K]
                    --call-id ID [--timeout S] [--plain] [--method INVITE]"""
import argparse
import socket
import ssl
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--method", default="OPTIONS")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--server-name", default="sipwalld.test")
    ap.add_argument("--call-id", required=True)
    ap.add_argument("--timeout", type=float, default=3.0)
    a = ap.parse_args()
    host, port = a.dst.rsplit(":", 1)

    if not a.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(a.ca)
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.settimeout(a.timeout)
    raw.bind((a.src, 0))
    try:
        raw.connect((host, int(port)))
    except OSError as e:
        print("connect-failed: %s" % e)
        return
    if a.plain:
        s = raw
    else:
        try:
            s = ctx.wrap_socket(raw, server_hostname=a.server_name)
        except (ssl.SSLError, OSError) as e:
            print("handshake-failed: %s" % e)
            return
    tp = "TCP" if a.plain else "TLS"
    # Via: our address with a port we do not send from (5999), no rport.
    # To a user of ours: sipwalld forwards it to the core (an OPTIONS to
    # sipwalld itself would be answered by sipwalld).
    body = ""
    extra = ""
    if a.method == "INVITE":
        body = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio 40000 RTP/AVP 8\r\n") % (a.src, a.src)
        extra = ("Contact: <sip:+4930100777@%s:5999;transport=%s>\r\n"
                 "Content-Type: application/sdp\r\n") % (a.src, tp.lower())
    msg = ("%s sip:+447700900001@%s:%s;transport=%s SIP/2.0\r\n"
           "Via: SIP/2.0/%s %s:5999;branch=z9hG4bK-probe-%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:+4930100777@%s>;tag=probe1\r\n"
           "To: <sip:+447700900001@%s:%s>\r\n"
           "Call-ID: %s\r\n"
           "CSeq: 1 %s\r\n%s"
           "Content-Length: %d\r\n\r\n%s") % (
               a.method, host, port, tp.lower(), tp, a.src, a.call_id, a.src, host, port,
               a.call_id, a.method, extra, len(body), body)
    try:
        s.sendall(msg.encode())
        data = s.recv(65535)
    except socket.timeout:
        print("no-response")
        return
    except (ssl.SSLError, OSError) as e:
        print("closed: %s" % e)
        return
    if not data:
        print("closed: EOF")
    else:
        print("response: %s" % data.split(b"\r\n", 1)[0].decode("latin-1"))


if __name__ == "__main__":
    main()
    sys.exit(0)
