#!/usr/bin/python3
"""Interop peer for the exchange tests: Debian python3-jwcrypto (and
python3-cryptography for deliberately malformed headers).

usage: jose_check.py keygen KID PRIV.jwk PUB.jwks
       jose_check.py sign PRIV.jwk PAYLOAD ALG B64(true|false)      -> 'HDR..SIG'
       jose_check.py verify JWKS PAYLOAD JWS                        -> exit 0 ok, 1 refused
       jose_check.py rawsign PRIV.jwk HEADER-JSON PAYLOAD B64       -> 'HDR..SIG' (any header)
       jose_check.py sign-objects PRIV.jwk IN.json OUT.json         -> signs an array of FSE
            objects: payload = their canonical form (json.dumps with sorted keys,
            which is RFC 8785 for FSE's ASCII names, integers and strings)
Run with /usr/bin/python3 (Debian's packages)."""
import base64, json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode, base64url_decode


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=').decode()


def load(path):
    with open(path, 'rb') as f:
        return f.read()


def sign(key, kid, payload, alg, b64):
    hdr = {"alg": alg, "kid": kid, "typ": "fse+jws"}
    if not b64:
        hdr = {"alg": alg, "kid": kid, "b64": False, "crit": ["b64"], "typ": "fse+jws"}
    s = jws.JWS(payload)
    s.allowed_algs = [alg]
    s.add_signature(key, alg=None, protected=json.dumps(hdr, separators=(',', ':')))
    s.detach_payload()
    return s.serialize(compact=True)


def verify(jwks_path, payload, compact):
    keys = jwk.JWKSet.from_json(load(jwks_path).decode())
    p, empty, sig = compact.strip().split('.')
    if empty != '':
        return False
    hdr = json.loads(base64url_decode(p))
    key = keys.get_key(hdr.get('kid'))
    if key is None:
        return False
    pl = base64url_encode(payload) if hdr.get('b64', True) else payload.decode()
    s = jws.JWS()
    s.allowed_algs = ['EdDSA']
    try:
        s.deserialize(json.dumps({"protected": p, "payload": pl, "signature": sig}), key)
        return True
    except Exception as e:  # noqa: BLE001 - any refusal is a refusal
        print('refused:', type(e).__name__, e, file=sys.stderr)
        return False


def main():
    op = sys.argv[1]
    if op == 'keygen':
        kid, priv, pub = sys.argv[2:5]
        k = jwk.JWK.generate(kty='OKP', crv='Ed25519', kid=kid)
        open(priv, 'w').write(k.export_private())
        open(pub, 'w').write(json.dumps({"keys": [json.loads(k.export_public())]}))
    elif op == 'sign':
        text = load(sys.argv[2]).decode()
        k = jwk.JWK.from_json(text)
        print(sign(k, json.loads(text)['kid'], load(sys.argv[3]), sys.argv[4], sys.argv[5] == 'true'))
    elif op == 'verify':
        sys.exit(0 if verify(sys.argv[2], load(sys.argv[3]), sys.argv[4]) else 1)
    elif op == 'rawsign':
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        k = json.loads(load(sys.argv[2]))
        sk = Ed25519PrivateKey.from_private_bytes(base64url_decode(k['d']))
        hdr = b64u(sys.argv[3].encode())
        payload = load(sys.argv[4])
        body = b64u(payload).encode() if sys.argv[5] == 'true' else payload
        print(hdr + '..' + b64u(sk.sign(hdr.encode() + b'.' + body)))
    elif op == 'sign-objects':
        text = load(sys.argv[2]).decode()
        k = jwk.JWK.from_json(text)
        kid = json.loads(text)['kid']
        objs = json.loads(load(sys.argv[3]))
        for o in objs:
            o.pop('sig', None)
            o['producer']['kid'] = kid
            canon = json.dumps(o, sort_keys=True, separators=(',', ':'), ensure_ascii=False)
            o['sig'] = sign(k, kid, canon.encode(), 'EdDSA', False)
        open(sys.argv[4], 'w').write(json.dumps(objs, indent=1))
    else:
        sys.exit(2)


main()
