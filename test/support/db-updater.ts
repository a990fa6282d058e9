/**
 * Child process for the kill -9 test of updates: compare-and-set increments of one document as fast as it can, each
 * also pushing to an array and stamping a date, printing each acknowledged value.
 */
import { LocalDatabaseEngine } from '../../localcloud/db/database';

async function main() {
  const dir = process.argv[2]!;
  const db = new LocalDatabaseEngine(dir).database();
  const _ = db.command;
  await db.collection('counters').add({ data: { _id: 'c', n: 0, seen: [], payload: 'x'.repeat(2000) } });
  for (let i = 0; i < 100_000; i++) {
    const { stats } = await db
      .collection('counters')
      .where({ _id: 'c', n: i })
      .update({ data: { n: _.inc(1), seen: _.push({ each: [i], slice: -5 }), at: new Date(1_700_000_000_000 + i) } });
    if (stats.updated !== 1) throw new Error(`compare-and-set ${i} lost`);
    process.stdout.write(`${i + 1}\n`);
  }
}
void main();
