/** jest's globalTeardown: fails the run when it left a 32-hex folder at the repository root (root-folders.js). */
module.exports = require('./root-folders').teardown;
