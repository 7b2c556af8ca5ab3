#!/usr/bin/env bash
# HEP timestamps are evidence, not the engine's clock (defect R4).
#
# A capture agent sets any timestamp it likes.  Two bursts of 3000 INVITEs
# from one source each go to sipwalld's HEP input (tests/tools/hep-send
# replaying pcaps this test writes): the control burst with timestamps that
# advance at 100 messages/s, the attack burst alternating between now and
# 2106.  When HEP time drove the engine, the attack burst raised one event
# per packet (each jump reset the event caps) and the flood detector never
# tripped.  Now both bursts must give about the same events, both must trip
# flood.source, and the events carry the agent's time as "capture_ts".
set -uo pipefail
SW_SRC=${SW_SRC:-.}
. "$SW_SRC/tests/peers/lib.sh"
peers_init hepclock 92

peers_write_policy
HEP=$SW_IC:9061
cat >"$CONF" <<EOF
mode passive
workers 1
policy builtin:default
policy $POLICY
events $EVENTS
log stderr
admin $ADMIN
hep udp $HEP
limits socket-buffer=4194304
EOF
"$SIPWALLD" -c "$CONF" --check-config >"$WORK/check-config.log" 2>&1 || die "check-config: $(cat "$WORK/check-config.log")"
peers_bg sipwalld "$SIPWALLD" -c "$CONF"
SIPWALLD_PID=$PEERS_PID
for _ in $(seq 200); do peers_stats >/dev/null 2>&1 && break; kill -0 "$SIPWALLD_PID" || die "sipwalld exited"; sleep 0.1; done
peers_wait_listen udp "$SW_IC" 9061 5 || die "no HEP listener"

# pcap files: 3000 INVITEs from SRC each, mode mono or alternating
mkpcap() { # MODE SRC FILE
    python3 - "$1" "$2" "$3" "$SW_IC" <<'PY'
import socket, struct, sys, time
mode, src, path, dst = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
now = int(time.time())
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # LINKTYPE_RAW
    for i in range(3000):
        sip = ("INVITE sip:+447700900%03d@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s%d\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:+4930100%04d@%s>;tag=t%d\r\nTo: <sip:+447700900%03d@%s>\r\n"
               "Call-ID: hc-%s-%d@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
               % (i % 1000, dst, src, mode, i, i % 10000, src, i, i % 1000, dst, mode, i)).encode()
        udp = struct.pack("!HHHH", 5060, 5060, 8 + len(sip), 0) + sip
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        pkt = ip + udp
        sec = now + i // 100
        if mode == "alt" and i % 2:
            sec = 0xFFFFFF00 + i // 100          # 2106
        f.write(struct.pack("<IIII", sec, (i % 100) * 10000, len(pkt), len(pkt)) + pkt)
PY
}
CTRL=127.$PEERS_NET.4.1
ATTK=127.$PEERS_NET.4.2
mkpcap mono "$CTRL" "$WORK/mono.pcap" || die "pcap"
mkpcap alt "$ATTK" "$WORK/alt.pcap" || die "pcap"

sent_wait() { # N: until the sensor has seen N messages (bounded)
    local n
    for _ in $(seq 100); do
        n=$(peers_stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["sensor_messages"])')
        [ "$n" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "sensor_messages=$n, wanted $1"
    return 1
}
python3 "$SW_SRC/tests/tools/hep-send" -q --rate 5000 "$WORK/mono.pcap" "$HEP" || die "hep-send"
check "the control burst reached the engine" sent_wait 3000
python3 "$SW_SRC/tests/tools/hep-send" -q --rate 5000 "$WORK/alt.pcap" "$HEP" || die "hep-send"
check "the attack burst reached the engine" sent_wait 6000
sleep 1.5 # event summaries and the once-a-second flush

python3 - "$EVENTS" "$CTRL" "$ATTK" >"$WORK/counts.txt" <<'PY'
import json, sys
path, ctrl, attk = sys.argv[1:4]
n = {ctrl: 0, attk: 0}; flood = {ctrl: 0, attk: 0}; cts = {ctrl: [], attk: []}
for line in open(path):
    e = json.loads(line)
    s = e.get("src", "").rsplit(":", 1)[0]
    blob = json.dumps(e)
    for ip in (ctrl, attk):
        if s == ip or ('"%s"' % ip) in blob:
            n[ip] += 1
            if e.get("rule", "").startswith("flood.source"):
                flood[ip] += 1
            c = e.get("evidence", {}).get("capture_ts")
            if c:
                cts[ip].append(int(c))
far = sum(1 for c in cts[attk] if c >= 0xFFFFFF00 * 10**9)
print(n[ctrl], n[attk], flood[ctrl], flood[attk], len(cts[attk]), far)
PY
read -r ev_ctrl ev_attk fl_ctrl fl_attk cts_attk cts_far <"$WORK/counts.txt"
peers_log "events: control $ev_ctrl (flood.source $fl_ctrl), alternating $ev_attk (flood.source $fl_attk); capture_ts on $cts_attk, $cts_far of them in 2106"
check "the control burst trips flood.source" [ "$fl_ctrl" -ge 1 ]
check "the alternating burst trips flood.source too ($fl_attk)" [ "$fl_attk" -ge 1 ]
check "alternating timestamps do not defeat the event caps ($ev_attk events vs $ev_ctrl)" \
    [ "$ev_attk" -le $((2 * ev_ctrl + 20)) ]
check "far fewer events than packets ($ev_attk for 3000)" [ "$ev_attk" -lt 300 ]
check "events carry the agent's time as capture_ts ($cts_attk events, $cts_far in 2106)" [ "$cts_attk" -ge 1 ]
# the events' own time is the daemon's: within the last minute, never 2106
check "event times are the daemon's clock" python3 - "$EVENTS" <<'PY'
import json, sys, time, datetime
now = time.time()
for line in open(sys.argv[1]):
    ts = json.loads(line).get("ts", "")
    t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
    if not (now - 120 <= t <= now + 5):
        sys.exit("event time %s is not now" % ts)
PY
peers_done
