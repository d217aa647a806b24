// Yardstick: N {PKCS5S2} hashes on all cores (libuv's pool), nothing else.
import { hashPassword } from '../src/core/pkcs5s2.js';
import { Secret } from '../src/core/secret.js';

const n = Number(process.argv[2] ?? 2000);
await Promise.all(Array.from({ length: n }, (_, i) => hashPassword(new Secret(`Pw-user-${i}-secret`))));
process.stdout.write(`${n}\n`);
