// Live refresh of the overview and of a queue's page (their #live block): every few seconds while the tab is visible, at once when it
// becomes visible again, never while hidden. htmx does the request and the swap; this file
// only decides when (htmx's own trigger filters would need eval, which the CSP forbids).
(() => {
  const EVERY_MS = 2000;
  function refresh() {
    const live = document.getElementById('live');
    if (live && document.visibilityState === 'visible' && window.htmx) window.htmx.trigger(live, 'jr-refresh');
  }
  setInterval(refresh, EVERY_MS);
  document.addEventListener('visibilitychange', refresh);
})();
