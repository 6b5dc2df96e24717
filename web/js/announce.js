// Announcements: read out through the ARIA live region, and optionally shown on screen for
// a while (for errors a sighted person must also see).

const KEEP = 10;
const VISIBLE_MS = 8000;
let hideTimer = 0;

export function announce(text, { visible = false } = {}) {
  const region = document.getElementById('announcer');
  if (region) {
    const line = document.createElement('p');
    line.textContent = text;
    region.append(line);
    while (region.childElementCount > KEEP) region.firstElementChild.remove();
  }
  if (visible) {
    const notice = document.getElementById('notice');
    if (!notice) return;
    notice.textContent = text;
    notice.hidden = false;
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => {
      notice.hidden = true;
    }, VISIBLE_MS);
  }
}
