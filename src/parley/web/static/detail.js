// The detail page is drawn on the server; this shows its times in the viewer's time zone and
// makes the copy-link button work.

import { copyText } from './clipboard.js';
import { announcer, pinOrgCookie } from './dom.js';
import { localDateTime, localFull } from './format.js';

for (const time of document.querySelectorAll('time[data-local]')) {
  const iso = time.getAttribute('datetime');
  time.textContent = localDateTime(iso);
  time.title = localFull(iso);
}

const announce = announcer(document.getElementById('announcer'));
const detail = document.getElementById('detail');

for (const button of document.querySelectorAll('[data-copy]')) {
  const label = button.querySelector('.copy-label');
  let timer = null;
  button.addEventListener('click', async () => {
    const copied = await copyText(new URL(button.dataset.copy, location.href).href);
    label.textContent = copied ? 'Copied' : 'Copy failed';
    announce(copied ? 'Link copied to the clipboard.' : 'The link could not be copied.');
    clearTimeout(timer);
    timer = setTimeout(() => { label.textContent = 'Copy link'; }, 1600);
  });
}

// The recordings are fetched with the org cookie; keep it on this page's org.
for (const audio of document.querySelectorAll('audio')) {
  audio.addEventListener('play', () => pinOrgCookie(detail.dataset.org));
}
