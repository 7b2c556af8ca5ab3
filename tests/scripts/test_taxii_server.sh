#!/usr/bin/env bash
# sipwalld publishes its own indicators and serves them over TAXII 2.1
# (docs/exchange-taxii.md), on loopback 127.232.0.0/16:
#   - scanners (a scanner's User-Agent from 12 stranger addresses) make
#     sip_scan events; the publisher turns them through the export policy
#     into signed FSE objects and STIX indicators in the publish collection;
#   - curl, with a client certificate (mutual TLS) and Basic or bearer
#     credentials: 401 + WWW-Authenticate without credentials, 406 for a
#     wrong Accept, 404 for a collection the user may not see, 403 for a
#     write without the right, 415 for a wrong Content-Type, 413 above
#     max_content_length, 400 for a malformed added_after; paging with
#     limit/next returns every indicator once, and so does added_after =
#     the previous page's X-TAXII-Date-Added-Last (microseconds, strictly
#     increasing); POST into the writable inbox gives a status resource;
#     no client certificate: the TLS handshake fails;
#   - `ctl exchange revoke ID`, `sipwall admin exchange revoke ID` (POST
#     /v1/exchange/ID/revoke) and an operator's unblock publish revoked
#     versions; a restart keeps the collection and adds no version;
#   - where the shared corpus is (SW_SHARED_CORPUS): the OASIS
#     taxii2-client drives the server (discovery, API root, collections,
#     POST + status, paging, match[type], manifest) and reads the publish
#     collection page by page; every object is valid against the OASIS
#     STIX 2.1 schemas and every pattern passes the OASIS pattern validator.
set -uo pipefail
. "${SW_SRC:-.}/tests/peers/lib.sh"
SIPWALL=${SIPWALL:-${SW_BUILD:-build}/sipwall}
command -v curl >/dev/null || die "curl not installed"

peers_init taxii_server 232
API=$SW_IC:8443
STORE=$WORK/events.db
PUB=3f0c5b8e-8a4d-4c1e-9b7a-2d6e1f0a9c31
INBOX=6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d
HIDDEN=7b2e3d4c-5f6a-4b7c-9d8e-0f1a2b3c4d5e
ACCEPT='Accept: application/taxii+json;version=2.1'

# ---- PKI: a CA, the API's server certificate, a client certificate --------------------------
P=$WORK/pki
mkdir -p "$P"
(
    set -e
    cd "$P"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj /CN=taxii-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem
    for who in server client; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $who.key
        openssl req -new -key $who.key -subj /CN=$who -out $who.csr
        if [ $who = server ]; then
            printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s\n' "$SW_IC"
        else
            printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
        fi > $who.ext
        openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
            -extfile $who.ext -out $who.pem
    done
    chmod 600 ./*.key
) > "$WORK/pki.log" 2>&1 || die "PKI: $(tail -3 "$WORK/pki.log")"

# ---- the producer's key, export policy and TAXII users ----------------------------------------
"$SIPWALL" exchange keygen --kid ZZ01:1 --key "$WORK/zz01.pem" --jwks "$WORK/zz01.jwks" >/dev/null ||
    die "keygen failed"
# a partner (ZZ09) whose indicators sipwalld consumes: what they make it
# block must never be published again (anti-echo)
mkdir -p "$WORK/pkeys"
/usr/bin/python3 "$SW_SRC/tests/tools/fse_sign.py" keygen ZZ09 ZZ09:1 "$WORK/pkeys"
mv "$WORK/pkeys/ZZ09.key" "$WORK/ZZ09.key"
printf 'partner ZZ09 trust 90\n' > "$WORK/trust.conf"
cat > "$WORK/export.policy" <<EOF
producer ZZ01 6f1c2a1e-6a5e-4b0e-9c1d-2f6f8f7f0a11
export sip_scan to partners tlp GREEN confidence 90 ttl 6h severity high
export location_probe to partners tlp GREEN ttl 1h
EOF
READER_SECRET=reader-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
PARTNER_SECRET=partner-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
RH=$(echo "$READER_SECRET" | "$SIPWALL" exchange taxii-hash) || die "taxii-hash failed"
PH=$(echo "$PARTNER_SECRET" | "$SIPWALL" exchange taxii-hash) || die "taxii-hash failed"
echo "$PH" > "$WORK/partner.hash"
chmod 600 "$WORK/partner.hash"
check "taxii-hash refuses a short secret" bash -c "! echo short | '$SIPWALL' exchange taxii-hash 2>/dev/null"

TAXII_LINES=(
    "events-db $STORE"
    "admin-api listen $API cert $P/server.pem key $P/server.key client-ca $P/ca.pem"
    "taxii store $WORK/taxii.db"
    "taxii api-root api1 title \"ZZ01 TAXII\" max-content-length 65536"
    "taxii collection $PUB alias indicators title \"ZZ01 indicators\" publish max-objects 5000"
    "taxii collection $INBOX alias inbox title \"Partners' inbox\" writable max-objects 1000"
    "taxii collection $HIDDEN alias hidden title \"Not for partners\""
    "taxii user reader secret $RH read indicators"
    "taxii user partner secret file:$WORK/partner.hash read indicators,inbox write inbox"
    "publish export-policy $WORK/export.policy sign-key $WORK/zz01.pem kid ZZ01:1 group partners refresh 3600"
    "intel trust $WORK/trust.conf keys $WORK/pkeys tick 1"
)

# ---- configuration errors name their line ---------------------------------------------------
peers_write_policy
peers_write_conf "${TAXII_LINES[@]}" "taxii user eve read indicators"
out=$("$SIPWALLD" -c "$CONF" --check-config 2>&1 || true)
eve=$(grep -n '^taxii user eve' "$CONF" | cut -d: -f1)
check "a user without a secret is refused with its line ($out)" \
    bash -c "echo \"\$1\" | grep -q 'sipwalld.conf:$eve: taxii user eve: secret HASH|file:PATH is required (no default credentials)'" _ "$out"
peers_write_conf "${TAXII_LINES[@]}" "taxii user eve secret $RH write indicators"
out=$("$SIPWALLD" -c "$CONF" --check-config 2>&1 || true)
eve=$(grep -n '^taxii user eve' "$CONF" | cut -d: -f1)
check "write on a collection that is not writable is refused ($out)" \
    bash -c "echo \"\$1\" | grep -q 'sipwalld.conf:$eve: taxii user eve: taxii collection .indicators. is not writable'" _ "$out"

peers_start_proxy "${TAXII_LINES[@]}"

tx() { # tx [curl args...]: body, then the status code on the last line
    curl -sS --max-time 10 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
        -o - -w '\n%{http_code}' "$@" 2>>"$WORK/curl.log"
}
code() { tail -n1 <<<"$1"; }
body() { sed '$d' <<<"$1"; }
R=(-u "reader:$READER_SECRET" -H "$ACCEPT")
B=https://$API/taxii2
OBJS=$B/api1/collections/$PUB/objects/

# ---- detections ------------------------------------------------------------------------------
t0=$(date +%s%3N)
python3 - "$SW_IC" "$STRANGER_NET" <<'PY' || die "sending the SIP requests failed"
import socket, sys, time
ic, net = sys.argv[1], sys.argv[2]
for h in range(1, 13):
    src = "%s.%d" % (net, h)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    p = s.getsockname()[1]
    for i in range(3):
        s.sendto(("OPTIONS sip:100@%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKtx%d%d;rport\r\n"
                  "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=t%d\r\nTo: <sip:100@%s>\r\n"
                  "Call-ID: taxii-%d-%d@%s\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
                  "Content-Length: 0\r\n\r\n" % (ic, src, p, h, i, src, i, ic, h, i, src)).encode(), (ic, 5060))
        time.sleep(0.01)
    s.close()
PY

# the partner's indicator on FEED, then FEED scans us too
FEED=$STRANGER_NET.50
now_ms=$(($(date +%s%3N)))
/usr/bin/python3 "$SW_SRC/tests/tools/fse_sign.py" batch "$WORK/ZZ09.key" ZZ09:1 \
    "ZZ09,sip_scan,ipv4,$FEED,90,block,$now_ms,$((now_ms + 3600000))" > "$WORK/feed.json"
out=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl intel take "$WORK/feed.json")
check "the partner's indicator is taken ($out)" bash -c "echo '$out' | grep -q 'accepted.*1\|\"accepted\":1\|ok'"
python3 - "$SW_IC" "$FEED" <<'PY'
import socket, sys, time
ic, src = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
p = s.getsockname()[1]
for i in range(3):
    s.sendto(("OPTIONS sip:100@%s:5060 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKfeed%d;rport\r\n"
              "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=f%d\r\nTo: <sip:100@%s>\r\n"
              "Call-ID: feed-%d@%s\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\n"
              "Content-Length: 0\r\n\r\n" % (ic, src, p, i, src, i, ic, i, src)).encode(), (ic, 5060))
    time.sleep(0.01)
PY

n=0
for _ in $(seq 100); do
    r=$(tx "${R[@]}" "$OBJS?match%5Btype%5D=indicator&limit=100")
    n=$(body "$r" | python3 -c 'import json,sys; print(len([o for o in json.load(sys.stdin).get("objects",[]) if o["name"].startswith("sip_scan ")]))' 2>/dev/null || echo 0)
    [ "$n" -ge 12 ] && break
    sleep 0.2
done
t1=$(date +%s%3N)
peers_log "FIGURES detection to TAXII: 12 scanners sent at t0, all 12 indicators readable over TAXII after $((t1 - t0)) ms (polled every 200 ms)"
check "12 scanners published as 12 sip_scan indicators ($n)" test "$n" -eq 12
check "sip_scan events in the store" test "$(peers_events event_type=sip_scan)" -ge 12
for _ in $(seq 50); do [ "$(peers_events "src=^$FEED:")" -ge 1 ] && break; sleep 0.1; done
sleep 0.5 # the publisher reads the store every 100 ms
check "the partner's block on $FEED acted ($(peers_events "src=^$FEED:") events, rules: $(python3 -c '
import json, sys
print(sorted({json.loads(l).get("rule") for l in open(sys.argv[1]) if sys.argv[2] + ":" in l}))' "$EVENTS" "$FEED"))" \
    test "$(peers_events "src=^$FEED:")" -ge 1
r=$(tx "${R[@]}" "$OBJS?match%5Btype%5D=indicator&limit=100")
check "anti-echo: nothing published on $FEED, which only the partner's indicator blocked" \
    bash -c "! echo \"\$1\" | grep -q \"'$FEED'\"" _ "$(body "$r")"

# ---- statuses and headers ----------------------------------------------------------------------
r=$(curl -sS --max-time 10 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" -D "$WORK/h401" \
    -o /dev/null -w '%{http_code}' -H "$ACCEPT" "$B/")
check "no credentials: 401 ($r)" test "$r" = 401
check "401 carries WWW-Authenticate" grep -qi '^WWW-Authenticate: Basic' "$WORK/h401"
r=$(tx -u "reader:wrong-secret-1" -H "$ACCEPT" "$B/")
check "wrong secret: 401 with a TAXII error message" \
    bash -c "[ '$(code "$r")' = 401 ] && echo '$(body "$r")' | grep -q '\"http_status\":\"401\"'"
r=$(tx -u "reader:$READER_SECRET" -H 'Accept: application/json' "$B/")
check "wrong Accept: 406 ($(code "$r"))" test "$(code "$r")" = 406
r=$(curl -sS --max-time 10 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" -D "$WORK/hdisc" \
    -o "$WORK/disc.json" -w '%{http_code}' "${R[@]}" "$B/")
check "discovery: 200 ($r)" test "$r" = 200
check "discovery: Content-Type application/taxii+json;version=2.1" \
    grep -qi '^Content-Type: application/taxii+json;version=2.1' "$WORK/hdisc"
check "discovery: the API root's URL" grep -q "\"https://$API/taxii2/api1/\"" "$WORK/disc.json"
r=$(tx -H "$ACCEPT" -H "Authorization: Bearer $READER_SECRET" "$B/api1/")
check "bearer: API root 200 with max_content_length" \
    bash -c "[ '$(code "$r")' = 200 ] && echo '$(body "$r")' | grep -q '\"max_content_length\":65536'"
r=$(tx "${R[@]}" "$B/api1/collections/")
check "reader sees one collection" \
    test "$(body "$r" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["collections"]))')" = 1
r=$(tx "${R[@]}" "$B/api1/collections/$HIDDEN/objects/")
check "a collection the user may not see: 404 ($(code "$r"))" test "$(code "$r")" = 404
r=$(tx "${R[@]}" "$OBJS?added_after=yesterday")
check "malformed added_after: 400 ($(code "$r"))" test "$(code "$r")" = 400
out=$(curl -sS --max-time 10 --cacert "$P/ca.pem" -o /dev/null -w '%{http_code}' "${R[@]}" "$B/" 2>&1)
check "no client certificate: the handshake fails ($out)" bash -c "[ '${out: -3}' = 000 ]"

# the TAXII mount opens nothing else: TAXII credentials do not reach the
# admin API, and the admin token does not reach TAXII
r=$(tx -u "reader:$READER_SECRET" "https://$API/v1/status")
check "a TAXII user on the admin API: 401 ($(code "$r"))" test "$(code "$r")" = 401
ADMIN_TOKEN=$(awk '/^ADMIN-TOKEN /{print $2}' "$WORK/sipwalld.log" | head -n1)
check "the admin token was made" test -n "$ADMIN_TOKEN"
r=$(tx -H "$ACCEPT" -H "Authorization: Bearer $ADMIN_TOKEN" "$B/")
check "the admin token on TAXII: 401 ($(code "$r"))" test "$(code "$r")" = 401
r=$(tx -H "Authorization: Bearer $ADMIN_TOKEN" "https://$API/v1/status")
check "the admin token on the admin API still works ($(code "$r"))" test "$(code "$r")" = 200

# ---- paging ---------------------------------------------------------------------------------------
pages=0 url="$OBJS?match%5Btype%5D=indicator&limit=5"
: > "$WORK/next.ids"
for _ in $(seq 10); do
    r=$(curl -sS --max-time 10 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" -D "$WORK/hp" \
        -o "$WORK/page.json" "${R[@]}" "$url")
    pages=$((pages + 1))
    python3 -c 'import json,sys; [print(o["id"]) for o in json.load(open(sys.argv[1])).get("objects",[])]' \
        "$WORK/page.json" >> "$WORK/next.ids"
    first=$(grep -i '^X-TAXII-Date-Added-First:' "$WORK/hp" | tr -d '\r' | cut -d' ' -f2)
    last=$(grep -i '^X-TAXII-Date-Added-Last:' "$WORK/hp" | tr -d '\r' | cut -d' ' -f2)
    [[ "$first" =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$ ]] || bad "page $pages: X-TAXII-Date-Added-First '$first'"
    nx=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("next","") if d.get("more") else "")' \
        "$WORK/page.json")
    [ -z "$nx" ] && break
    url="$OBJS?match%5Btype%5D=indicator&limit=5&next=$nx"
done
TOTAL=$(tx "${R[@]}" "$OBJS?match%5Btype%5D=indicator&limit=1000" | sed '$d' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["objects"]))')
check "limit=5/next: $TOTAL indicators in $(( (TOTAL + 4) / 5 )) pages ($pages pages)" test "$pages" = $(( (TOTAL + 4) / 5 ))
check "limit=5/next: each indicator once" \
    test "$(sort -u "$WORK/next.ids" | wc -l)" = "$TOTAL" -a "$(wc -l < "$WORK/next.ids")" = "$TOTAL"
: > "$WORK/after.ids"
url="$OBJS?match%5Btype%5D=indicator&limit=5"
for _ in $(seq 10); do
    curl -sS --max-time 10 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" -D "$WORK/hp" \
        -o "$WORK/page.json" "${R[@]}" "$url"
    c=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1])).get("objects",[]); [print(x["id"]) for x in o]' \
        "$WORK/page.json" | tee -a "$WORK/after.ids" | wc -l)
    [ "$c" -eq 0 ] && break
    last=$(grep -i '^X-TAXII-Date-Added-Last:' "$WORK/hp" | tr -d '\r' | cut -d' ' -f2)
    url="$OBJS?match%5Btype%5D=indicator&limit=5&added_after=$last"
done
check "added_after = the last X-TAXII-Date-Added-Last: each indicator once" \
    test "$(sort -u "$WORK/after.ids" | wc -l)" = "$TOTAL" -a "$(wc -l < "$WORK/after.ids")" = "$TOTAL"
check "the empty page is {}" test "$(cat "$WORK/page.json")" = "{}"
r=$(tx "${R[@]}" "$B/api1/collections/$PUB/manifest/?limit=3")
check "manifest: date_added with microseconds" \
    bash -c "echo '$(body "$r")' | grep -Eq '\"date_added\":\"[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z\"'"

# ---- what a partner sees: signed, marked, our extension ---------------------------------------------
ind=$(head -n1 "$WORK/next.ids")
r=$(tx "${R[@]}" "$OBJS$ind/")
echo "$(body "$r")" > "$WORK/one.json"
check "an indicator carries the FSE signature and the TLP 2.0 GREEN marking" python3 - "$WORK/one.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))["objects"][0]
ext = list(o["extensions"].values())[0]
assert ext["sig"].count(".") == 2 and ".." in ext["sig"], ext
assert o["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"], o["object_marking_refs"]
assert o["pattern"].startswith("[ipv4-addr:value = '127.232.1."), o["pattern"]
PY

# a sipwall consumer verifies what it reads: the signed FSE object in the
# telco-fse extension, against our JWKS (and a changed one fails)
tx "${R[@]}" "$OBJS?match%5Btype%5D=indicator&limit=1000" | sed '$d' | python3 -c '
import json, sys
objs = json.load(sys.stdin)["objects"]
fse = [list(o["extensions"].values())[0]["fse"] for o in objs]
json.dump(fse, open(sys.argv[1], "w"))
fse[0]["count"] += 1
json.dump(fse[:1], open(sys.argv[2], "w"))' "$WORK/fse.json" "$WORK/fse-tampered.json"
nv=$("$SIPWALL" exchange verify --partner "ZZ01=$WORK/zz01.jwks" "$WORK/fse.json" 2>"$WORK/verify.err" | grep -c '"sig"')
check "every indicator's FSE object verifies against our JWKS ($nv of $TOTAL)" test "$nv" = "$TOTAL"
check "a changed FSE object does not verify" \
    bash -c "! '$SIPWALL' exchange verify --partner 'ZZ01=$WORK/zz01.jwks' '$WORK/fse-tampered.json' >/dev/null 2>&1"

# ---- POST into the inbox -------------------------------------------------------------------------------
PA=(-u "partner:$PARTNER_SECRET" -H "$ACCEPT")
cat > "$WORK/post.json" <<'EOF'
{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
"created":"2026-12-01T10:00:00.000Z","modified":"2026-12-01T10:00:00.000Z","name":"partner scanner",
"pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-12-01T10:00:00Z"},
{"type":"indicator","id":"not-an-id"}]}
EOF
r=$(tx "${PA[@]}" -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @"$WORK/post.json" \
    "$B/api1/collections/$INBOX/objects/")
check "POST into the inbox: 202 ($(code "$r"))" test "$(code "$r")" = 202
sid=$(body "$r" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["id"] if d["success_count"]==1 and d["failure_count"]==1 else "")')
check "status: one success, one failure" test -n "$sid"
r=$(tx "${PA[@]}" "$B/api1/status/$sid/")
check "GET status/{id}: 200 complete" \
    bash -c "[ '$(code "$r")' = 200 ] && echo '$(body "$r")' | grep -q '\"status\":\"complete\"'"
r=$(tx "${R[@]}" -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @"$WORK/post.json" "$OBJS")
check "POST without the write right: 403 ($(code "$r"))" test "$(code "$r")" = 403
r=$(tx "${PA[@]}" -H 'Content-Type: application/json' --data-binary @"$WORK/post.json" \
    "$B/api1/collections/$INBOX/objects/")
check "POST with a wrong Content-Type: 415 ($(code "$r"))" test "$(code "$r")" = 415
head -c 70000 /dev/zero | tr '\0' ' ' > "$WORK/big.json"
r=$(tx "${PA[@]}" -H 'Content-Type: application/taxii+json;version=2.1' --data-binary @"$WORK/big.json" \
    "$B/api1/collections/$INBOX/objects/")
check "POST above max_content_length: 413 ($(code "$r"))" test "$(code "$r")" = 413

# ---- revocation ---------------------------------------------------------------------------------------------
uuid=${ind#indicator--}
out=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl exchange revoke "$uuid")
check "ctl exchange revoke ($out)" bash -c "echo '$out' | grep -q '^ok revoked'"
r=$(tx "${R[@]}" "$OBJS$ind/")
check "the latest version of the indicator is revoked" bash -c "echo '$(body "$r")' | grep -q '\"revoked\":true'"
r=$(tx "${R[@]}" "$OBJS$ind/versions/")
check "two versions of it" \
    test "$(body "$r" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')" = 2
out=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl exchange revoke 00000000-0000-4000-8000-000000000000)
check "revoking an unknown id is an error ($out)" bash -c "echo '$out' | grep -q '^error: no published indicator'"
# the same through the admin API (`sipwall admin exchange revoke`): another
# indicator gets a revoked version; an unknown id is a 404, a TAXII user 401
ind2=$(sed -n 2p "$WORK/next.ids")
printf '%s\n' "$ADMIN_TOKEN" > "$WORK/admin.token"
chmod 600 "$WORK/admin.token"
out=$("$SIPWALL" admin --url "https://$API" --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
    --token-file "$WORK/admin.token" exchange revoke "${ind2#indicator--}" 2>&1)
check "sipwall admin exchange revoke ($out)" bash -c "echo '$out' | grep -q '^ok revoked'"
r=$(tx "${R[@]}" "$OBJS$ind2/")
check "its latest version is revoked" bash -c "echo '$(body "$r")' | grep -q '\"revoked\":true'"
for _ in $(seq 30); do [ "$(peers_events rule=admin.exchange-revoke)" -ge 2 ] && break; sleep 0.1; done
check "both revocations are audit events ($(peers_events rule=admin.exchange-revoke))" \
    test "$(peers_events rule=admin.exchange-revoke)" -eq 2
r=$(tx -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
    "https://$API/v1/exchange/00000000-0000-4000-8000-000000000000/revoke")
check "admin API: revoking an unknown id is a 404 ($(code "$r"))" test "$(code "$r")" = 404
r=$(tx -X POST -u "reader:$READER_SECRET" "https://$API/v1/exchange/${ind2#indicator--}/revoke")
check "admin API: a TAXII user cannot revoke ($(code "$r"))" test "$(code "$r")" = 401
# an operator lifts a block the scanner rule set: our indicator on it is withdrawn
blk=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl blocks | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("blocks", [])
src = [b for b in rows if b.get("kind") == "source" and str(b.get("key", "")).startswith("127.232.1.")]
print(src[-1]["key"] if src else "")' 2>/dev/null)
if [ -n "$blk" ]; then
    out=$(timeout 10 "$SIPWALLD" -c "$CONF" ctl unblock source "$blk")
    r=$(tx "${R[@]}" "$OBJS?match%5Btype%5D=indicator&limit=100")
    body "$r" > "$WORK/after_unblock.json"
    check "unblock $blk ($out): its indicator is revoked" python3 -c '
import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
hit = [o for o in objs if "\x27%s\x27" % sys.argv[2] in o["pattern"]]
assert hit and all(o.get("revoked") for o in hit), hit' "$WORK/after_unblock.json" "$blk"
else
    peers_log "no source block from the scanner rule: the unblock check is skipped (policy does not block)"
fi

# ---- the OASIS client and validators (shared corpus) ----------------------------------------------------
INTEROP=${SW_SHARED_CORPUS:-}/interop
if [ -n "${SW_SHARED_CORPUS:-}" ] && [ -f "$INTEROP/taxii/taxii_client_check.py" ]; then
    # the OASIS client has no client-certificate option: requests' sessions get ours
    cat > "$WORK/with_cert.py" <<'PY'
import os, runpy, sys, requests
pki = os.environ["TAXII_PKI"]
init = requests.Session.__init__
def with_cert(self, *a, **k):
    init(self, *a, **k)
    self.cert = (pki + "/client.pem", pki + "/client.key")
    self.verify = pki + "/ca.pem"
requests.Session.__init__ = with_cert
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
PY
    export TAXII_PKI=$P REQUESTS_CA_BUNDLE=$P/ca.pem
    out=$(timeout 120 /usr/bin/python3 "$WORK/with_cert.py" "$INTEROP/taxii/taxii_client_check.py" "$B/" partner \
        "$PARTNER_SECRET" "$INTEROP/taxii/medallion-safe-bundle.json" "$INBOX" 2>&1)
    rc=$?
    echo "$out" > "$WORK/taxii_client_check.out"
    check "OASIS taxii2-client against the inbox (rc $rc: $(tail -n1 <<<"$out"))" test "$rc" = 0
    cat > "$WORK/oasis_read.py" <<'PY'
import json, sys
from taxii2client.v21 import Server, as_pages
url, pw, coll_id, work = sys.argv[1:5]
server = Server(url, user="reader", password=pw)
root = server.api_roots[0]
coll = [c for c in root.collections if c.id == coll_id][0]
assert coll.can_read and not coll.can_write
objs, pages = [], 0
for env in as_pages(coll.get_objects, per_request=4):
    pages += 1
    objs += env.get("objects", [])
json.dump({"type": "bundle", "id": "bundle--0b0c3f3e-7a4a-4c57-9a7e-2f9d1c3b4a5e", "objects": objs},
          open(work + "/published.json", "w"))
open(work + "/patterns.txt", "w").write("".join(o["pattern"] + "\n" for o in objs if o["type"] == "indicator"))
print("pages", pages, "objects", len(objs))
PY
    timeout 120 env PYTHONPATH="$INTEROP/third_party/taxii2-client-2.3.0" /usr/bin/python3 "$WORK/with_cert.py" \
        "$WORK/oasis_read.py" "$B/" "$READER_SECRET" "$PUB" "$WORK" > "$WORK/oasis_read.out" 2>&1
    rc=$?
    check "OASIS taxii2-client pages through the publish collection (rc $rc: $(tail -n1 "$WORK/oasis_read.out"))" \
        test "$rc" = 0
    if [ -s "$WORK/published.json" ]; then
        out=$(/usr/bin/python3 "$INTEROP/stix/stix_validate.py" "$SW_SHARED_CORPUS/stix2-schemas" \
            "$WORK/published.json" 2>&1)
        rc=$?
        check "every published object valid against the OASIS STIX 2.1 schemas (rc $rc: $(tail -n1 <<<"$out"))" \
            test "$rc" = 0
        out=$(/usr/bin/python3 "$INTEROP/stix/check_patterns.py" "$WORK/patterns.txt" 2>&1)
        rc=$?
        check "every pattern passes the OASIS pattern validator (rc $rc: $(tail -n1 <<<"$out"))" test "$rc" = 0
        check "the patterns checked are the $TOTAL indicators" test "$(wc -l < "$WORK/patterns.txt")" -eq "$TOTAL"
    fi
else
    peers_log "no shared corpus: the OASIS client and validator checks are skipped"
fi

pub=$(peers_stats | python3 -c 'import json,sys; p=json.load(sys.stdin)["publish"]; print(p["published"], p["revoked"], p["taxii_auth_failures"], p["taxii_posted"])')
check "ctl stats counts the publisher and the TAXII server ($pub)" \
    python3 -c 'import sys; p, r, a, x = map(int, sys.argv[1:]); assert p >= 12 and r >= 1 and a >= 2 and x >= 1' $pub

# ---- a restart keeps the collection and adds no version -------------------------------------------------
before=$(tx "${R[@]}" "$OBJS?match%5Bversion%5D=all&limit=1000" | sed '$d' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["objects"]))')
peers_stop_sipwalld_checked
peers_start_sipwalld
sleep 1
after=$(tx "${R[@]}" "$OBJS?match%5Bversion%5D=all&limit=1000" | sed '$d' |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["objects"]))')
check "after a restart: the same objects ($before then $after)" test "$before" = "$after" -a "$before" -gt 0

peers_done
