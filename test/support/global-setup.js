/** jest's globalSetup: see root-folders.js; and one seed per run for the local database's order of ties. */
const { setup } = require('./root-folders');

module.exports = () => {
  setup();
  // workers inherit the environment: every test file of the run shuffles ties from this seed
  if (!process.env.LOCALDB_TIE_SEED) process.env.LOCALDB_TIE_SEED = String(Math.floor(Math.random() * 2 ** 32));
};
