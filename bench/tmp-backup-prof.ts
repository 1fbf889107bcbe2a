import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as backup from '../src/modules/backups/service.ts';

const session = new Session();
session.connect();
await session.post('Profiler.enable');
const original = backup.runBackup;
void original;
await session.post('Profiler.start');
const { backupFigures } = await import('./backup.ts');
for (const f of await backupFigures(() => {})) console.log(f.line);
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/prof/backup.cpuprofile', JSON.stringify(profile));
