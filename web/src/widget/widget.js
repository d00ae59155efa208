// SPDX-License-Identifier: MIT
// widget.js - the website chat widget (loader).
(() => {})();
