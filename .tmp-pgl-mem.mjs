import { PGlite } from '@electric-sql/pglite';
import fs from 'node:fs';
const st = () => { const s = fs.readFileSync('/proc/self/status','utf8'); return s.match(/VmRSS:\s+\d+ kB|VmHWM:\s+\d+ kB/g).join(' '); };
console.log('before', st());
const db = await PGlite.create(process.argv[2]);
console.log('after create', st());
await db.query('create table t(x int)'); console.log('after query', st());
await db.close(); console.log('closed', st());
