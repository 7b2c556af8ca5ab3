#!/usr/bin/python3
"""A core for tests (test data, not product code): callid_core.py ADDR PORT FILE
listens on UDP ADDR:PORT and appends the Call-ID of every SIP message it
receives to FILE, one per line, so a test knows which calls got through."""
import socket, sys

s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
out = open(sys.argv[3], "a", buffering=1)
while True:
    data, _ = s.recvfrom(65535)
    for line in data.decode("latin-1").split("\r\n"):
        if line.lower().startswith("call-id:"):
            out.write(line.split(":", 1)[1].strip() + "\n")
