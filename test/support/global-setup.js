/** jest's globalSetup: see root-folders.js. */
module.exports = require('./root-folders').setup;
