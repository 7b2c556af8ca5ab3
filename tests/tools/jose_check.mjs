// Interop peer for the exchange tests: panva "jose" — Debian's node-jose 4.x
// (NODE_PATH=/usr/share/nodejs, require) by default, or the module named by
// JOSE_MODULE (e.g. an npm-installed jose 6, imported).
// usage: node jose_check.mjs keygen KID PRIV.jwk PUB.jwks
//        node jose_check.mjs sign PRIV.jwk PAYLOAD ALG B64       -> 'HDR..SIG'
//        node jose_check.mjs verify JWKS PAYLOAD JWS ALGS        -> exit 0 ok, 1 refused
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const jose = process.env.JOSE_MODULE ? await import(process.env.JOSE_MODULE) : require('jose');
const { importJWK, exportJWK, generateKeyPair, FlattenedSign, flattenedVerify } = jose;
const [op, a1, a2, a3, a4] = process.argv.slice(2);

if (op === 'keygen') {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const priv = await exportJWK(privateKey), pub = await exportJWK(publicKey);
  priv.kid = pub.kid = a1;
  writeFileSync(a2, JSON.stringify(priv));
  writeFileSync(a3, JSON.stringify({ keys: [pub] }));
} else if (op === 'sign') {
  const jwk = JSON.parse(readFileSync(a1, 'utf8'));
  const payload = readFileSync(a2);
  const alg = a3, b64 = a4 === 'true';
  const hdr = b64 ? { alg, kid: jwk.kid, typ: 'fse+jws' }
                  : { alg, kid: jwk.kid, b64: false, crit: ['b64'], typ: 'fse+jws' };
  const key = await importJWK(jwk, alg);
  const f = await new FlattenedSign(payload).setProtectedHeader(hdr).sign(key);
  process.stdout.write(`${f.protected}..${f.signature}\n`);
} else if (op === 'verify') {
  const jwks = JSON.parse(readFileSync(a1, 'utf8'));
  const payload = readFileSync(a2);
  const [p, empty, signature] = a3.trim().split('.');
  if (empty !== '') { console.error('not detached'); process.exit(1); }
  const hdr = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const jwk = jwks.keys.find((k) => k.kid === hdr.kid);
  if (!jwk) { console.error('no key', hdr.kid); process.exit(1); }
  try {
    const key = await importJWK({ ...jwk, alg: undefined }, hdr.alg === 'Ed25519' ? 'EdDSA' : hdr.alg);
    await flattenedVerify({ protected: p, signature,
                            payload: hdr.b64 === false ? payload : payload.toString('base64url') },
                          key, { algorithms: (a4 || 'EdDSA').split(',') });
    console.log('OK', hdr.alg);
  } catch (e) { console.error('refused', e.code || e.name, e.message); process.exit(1); }
} else {
  process.exit(2);
}
