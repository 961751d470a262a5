// Bootstrap 5.3.8's scripts that the pages use, built by `make assets` into
// static/vendor/bootstrap.min.js: collapse (the phone menu, accordions) and dismissible alerts.
// Each component wires its data-bs-* attributes when the file loads, as the full bundle does.
// Dropdowns are left out because they need Popper (another 20 KB): to use one, export
// "bootstrap/js/src/dropdown.js" here and run `make assets` (esbuild bundles Popper with it);
// tests/core/test_static_assets.py fails while a template names a component this file lacks.
export { default as Alert } from "bootstrap/js/src/alert.js";
export { default as Collapse } from "bootstrap/js/src/collapse.js";
