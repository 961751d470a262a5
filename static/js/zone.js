// A worker started by app.js: the first use of Intl costs a phone tens of milliseconds, spent
// here rather than on the page's own thread.
postMessage(Intl.DateTimeFormat().resolvedOptions().timeZone);
