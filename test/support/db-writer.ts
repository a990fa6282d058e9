/** Child process for the kill -9 test: writes documents as fast as it can and prints each acknowledged _id. */
import { LocalDatabaseEngine } from '../../localcloud/db/database';

async function main() {
  const dir = process.argv[2]!;
  const db = new LocalDatabaseEngine(dir).database();
  const payload = 'x'.repeat(2000);
  for (let i = 0; i < 100_000; i++) {
    const _id = `doc-${process.pid}-${i}`;
    await db.collection('journal').add({ data: { _id, i, payload } });
    await db
      .collection('counters')
      .doc('c')
      .set({ data: { last: i, payload } });
    process.stdout.write(`${_id}\n`);
  }
}
void main();
