// Push and notification handlers, imported by the service worker vite-plugin-pwa generates
// (vite.config.js: workbox.importScripts). The payload is the server's notice:
// {id, tag, kind, title, body, url} (backend/notify/sender.py).
self.addEventListener("push", (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch {
    notice = { title: event.data ? event.data.text() : "" };
  }
  const shown = self.registration.showNotification(notice.title || "网格", {
    body: notice.body || "",
    // The same notice sent twice (a retry) replaces itself instead of showing twice.
    tag: notice.tag,
    icon: "/app/icon-192.png",
    data: { url: notice.url || "/app/notices", id: notice.id },
  });
  const told = self.clients
    .matchAll({ type: "window", includeUncontrolled: true })
    .then((all) => all.forEach((c) => c.postMessage({ type: "notice", id: notice.id })));
  event.waitUntil(Promise.all([shown, told]));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/app/notices", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((all) => {
      const open = all.find((c) => new URL(c.url).pathname.startsWith("/app"));
      if (open) {
        // The open app routes there itself: no reload, its state kept.
        open.postMessage({ type: "open", url: url.pathname + url.search });
        return open.focus();
      }
      return self.clients.openWindow(url.href);
    }),
  );
});
