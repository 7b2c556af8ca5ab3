#!/usr/bin/python3
"""A partner's signer for tests (an independent FSE v1 producer, not our C code).

fse_sign.py keygen ORG KID DIR      writes DIR/ORG.key (raw seed, hex) and DIR/ORG.jwks (public)
fse_sign.py batch KEYFILE KID SPEC...  prints a JSON array of signed FSE objects
  SPEC = ORG,EVENT_TYPE,KIND,VALUE,CONFIDENCE,ACTION,MODIFIED_MS,VALID_UNTIL_MS[,revoked][,tamper]
  'tamper' changes the value's last character after signing.

JCS: our objects hold only ASCII strings, integers and booleans, so sorted
keys with compact separators are their canonical form (RFC 8785).  Signature:
detached JWS, {"alg":"EdDSA","kid":KID,"b64":false,"crit":["b64"],"typ":"fse+jws"},
Ed25519 over BASE64URL(header) "." JCS (python3-cryptography).
"""
import base64, datetime, json, sys, uuid
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

NS = uuid.UUID("7c1f3a52-5d2e-4b8a-9f61-3e0d2c4b8a17")
NODE = "6f1c0c1e-8a8e-4d55-9c53-9d1c2c3b4a5f"


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ts(ms):
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)


def jcs(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def keygen(org, kid, d):
    k = Ed25519PrivateKey.generate()
    seed = k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())
    x = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    open(f"{d}/{org}.key", "w").write(seed.hex() + "\n")
    jwks = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64u(x), "kid": kid, "alg": "EdDSA", "use": "sig"}]}
    open(f"{d}/{org}.jwks", "w").write(json.dumps(jwks) + "\n")


def obj(spec, kid):
    f = spec.split(",")
    org, et, kind, value, conf, action, mod, vu = f[:8]
    flags = f[8:]
    pns = uuid.uuid5(NS, "fse/1|" + org)
    oid = str(uuid.uuid5(pns, f"{kind}|{value}|{et}"))
    mod, vu = int(mod), int(vu)
    o = {"spec": "fse/1", "id": oid, "modified": ts(mod),
         "producer": {"org": org, "node": NODE, "kid": kid},
         "event_type": et, "indicator": {"kind": kind, "value": value},
         "first_seen": ts(mod - 60000), "last_seen": ts(mod), "count": 12,
         "confidence": int(conf), "severity": "high", "action": action,
         "valid_until": ts(vu), "tlp": "GREEN"}
    if "revoked" in flags:
        o["revoked"] = True
    return o, "tamper" in flags


def batch(keyfile, kid, specs):
    k = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(open(keyfile).read().strip()))
    hdr = b64u(json.dumps({"alg": "EdDSA", "kid": kid, "b64": False, "crit": ["b64"], "typ": "fse+jws"},
                          separators=(",", ":")).encode())
    out = []
    for s in specs:
        o, tamper = obj(s, kid)
        sig = k.sign(hdr.encode() + b"." + jcs(o))
        o["sig"] = hdr + ".." + b64u(sig)
        if tamper:
            v = o["indicator"]["value"]
            o["indicator"]["value"] = v[:-1] + ("1" if v[-1] != "1" else "2")
        out.append(o)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "keygen":
        keygen(*sys.argv[2:5])
    elif sys.argv[1] == "id":
        print(obj(sys.argv[3], sys.argv[2])[0]["id"])
    else:
        batch(sys.argv[2], sys.argv[3], sys.argv[4:])
