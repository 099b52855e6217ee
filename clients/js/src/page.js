/* Where the page is, and when it changes: the context of each event, history navigation, document readiness. */

/* Run `fn` once the document is parsed (the body exists): at once if it is. */
export function ready(fn) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => fn(), {once: true});
  else fn();
}

/* The page's context, read when an event is queued, once the document is parsed (its title known).
 * `referrer`: after a history navigation, the previous view (document.referrer stays the first one's). */
export function pageContext(referrer, library) {
  const here = window.location;
  const context = {
    page: {url: here.href, path: here.pathname, search: here.search, referrer: referrer || "", title: document.title},
    screen: {width: window.screen.width, height: window.screen.height, density: window.devicePixelRatio},
    locale: navigator.language,
    timezone: timeZone(),
    library
  };
  // Automation (selenium, puppeteer) says so: the collector can flag bots by it.
  if (navigator.webdriver) context.webdriver = true;
  return context;
}

/* Calls onNavigate(previousUrl) on each pushState, replaceState and popstate that changes the URL (single-page apps). */
export function watchHistory(onNavigate) {
  let current = window.location.href;
  const changed = () => {
    if (window.location.href === current) return;
    const previous = current;
    current = window.location.href;
    onNavigate(previous);
  };
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function () {
      const result = original.apply(this, arguments);
      changed();
      return result;
    };
  }
  window.addEventListener("popstate", changed);
}

function timeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch (error) {
    return null;
  }
}
