/**
 * A jest reporter: when a run had failures, it names the seed the local database ordered ties with
 * (localcloud/db/collection.ts), so the same order can be replayed: LOCALDB_TIE_SEED=<seed> npx jest <file>.
 */
class TieSeedReporter {
  onRunComplete(_contexts, results) {
    if (results.numFailedTests > 0 || results.numFailedTestSuites > 0)
      process.stderr.write(
        `\nlocal database tie order seed: ${process.env.LOCALDB_TIE_SEED} (replay: LOCALDB_TIE_SEED=${process.env.LOCALDB_TIE_SEED} npx jest …)\n`,
      );
  }
}
module.exports = TieSeedReporter;
