// Renews the part of an inbox page marked data-live when a text comes or goes: asks
// /ui/inbox/latest every few seconds for the newest message id, and when it has
// moved, fetches this page again and swaps that part in. Forms outside it are kept.
(() => {
  const every = 2000;
  let live = document.querySelector("[data-live]");
  if (!live) return;
  const poll = async () => {
    try {
      const answer = await fetch("/ui/inbox/latest", { headers: { Accept: "application/json" } });
      if (answer.ok && String((await answer.json()).latest) !== live.dataset.latest) {
        const page = await fetch(location.href);
        const fresh = new DOMParser()
          .parseFromString(await page.text(), "text/html")
          .querySelector("[data-live]");
        if (page.ok && fresh) {
          live.replaceWith(fresh);
          live = fresh;
        }
      }
    } catch {
      // The service is away for a moment (a restart): ask again at the next turn.
    }
    setTimeout(poll, every);
  };
  setTimeout(poll, every);
})();
