// The Live page: the org's conversations in progress, newest first, kept up to date by one
// stream (GET /core/conversations/live with the page's filters). Each shows its time so far,
// ticking; a status change shows in place; a finished one stays FINISHED_VISIBLE_MS with its
// final status, then fades out. Selecting one follows its transcript in the pane beside the
// list, from the same stream's turns events (see stream.js for why there is only one stream).

import { announcer, el, icon } from './dom.js';
import { filterBar } from './filterbar.js';
import { countActive, emptyFilters, matchesChanging, toStream } from './filters.js';
import { formatElapsed, isGuest, statusLabel } from './format.js';
import { newerThan } from './rows.js';
import { liveStream, showState } from './stream.js';
import { speakerNames, transcriptView } from './transcript.js';

// Long enough to notice how a conversation ended, short enough that the page stays about
// what is going on now.
export const FINISHED_VISIBLE_MS = 30_000;
const FADE_MS = 1_200;

const root = document.getElementById('live');
const config = JSON.parse(root.dataset.config);
const finished = new Set(config.finished);
const form = document.getElementById('filters');
const listNode = document.getElementById('live-list');
const emptyNode = document.getElementById('live-empty');
const countNode = document.getElementById('live-count');
const stateNode = document.getElementById('stream-state');
const banner = document.getElementById('stream-banner');
const bannerText = document.getElementById('stream-banner-text');
const announce = announcer(document.getElementById('announcer'));

const pane = {
  empty: document.getElementById('pane-empty'),
  box: document.getElementById('pane'),
  badge: document.getElementById('pane-badge'),
  title: document.getElementById('pane-title'),
  subtitle: document.getElementById('pane-subtitle'),
  status: document.getElementById('pane-status'),
  elapsed: document.getElementById('pane-elapsed'),
  open: document.getElementById('pane-open'),
  notice: document.getElementById('pane-notice'),
  waiting: document.getElementById('pane-waiting'),
  scroller: document.getElementById('pane-scroller'),
};
const transcript = transcriptView(document.getElementById('pane-transcript'), pane.scroller);

/** id -> { item, node, parts, endedAt, leaveTimer, leaving, deleted } */
const entries = new Map();
/** The selected conversation: { id, item, endedAt, loading, buffer, readable } or null. */
let selected = null;
let selectedId = new URLSearchParams(location.search).get('conversation');
let loaded = false; // the first snapshot is in
let partial = false; // the snapshot held the newest 1,000 of more: the count is a lower bound

function apiHeaders() {
  return { Accept: 'application/json', 'X-Anyreach-Org': config.org };
}

// --- how a conversation reads ------------------------------------------------------------------

function title(item) {
  if (item.caller_name) return item.caller_name;
  if (isGuest(item.user_id)) return 'Guest';
  return item.user_id || config.channelLabels[item.channel] || item.channel;
}

function subtitle(item) {
  const parts = [item.agent ? item.agent.name : 'No agent', config.directionLabels[item.direction] || item.direction];
  const channel = config.channelLabels[item.channel] || item.channel;
  if (title(item) !== channel) parts.push(channel);
  return parts.join(' · ');
}

/** Seconds since it began, or its final length once it ended. */
function seconds(item, endedAt) {
  if (endedAt !== null && endedAt !== undefined) {
    if (item.duration_seconds !== null && item.duration_seconds !== undefined) return item.duration_seconds;
    return (endedAt - Date.parse(item.created_at)) / 1000;
  }
  return (Date.now() - Date.parse(item.created_at)) / 1000;
}

function setPill(node, status, deleted = false) {
  node.className = `pill s-${deleted ? 'deleted' : status}`;
  node.textContent = deleted ? 'Deleted' : statusLabel(status);
}

// --- the list ----------------------------------------------------------------------------------

function buildEntry(item) {
  const parts = {
    badge: el('span', { class: `channel-badge badge-sm ch-${item.channel}`, 'aria-hidden': 'true' }, icon(item.channel)),
    title: el('span', { class: 'live-title' }),
    sub: el('span', { class: 'live-sub' }),
    pill: el('span', { class: 'pill' }),
    elapsed: el('time', { class: 'elapsed', title: 'Time since it started' }),
  };
  const button = el(
    'button',
    { type: 'button', class: 'live-select', 'aria-pressed': 'false', 'aria-controls': 'live-pane' },
    parts.badge,
    el('span', { class: 'live-main' }, parts.title, parts.sub),
    el('span', { class: 'live-end' }, parts.pill, parts.elapsed),
  );
  const node = el('li', { class: 'live-item', 'data-id': item.id }, button);
  return { item, node, parts, endedAt: null, leaveTimer: null, leaving: false, deleted: false };
}

function draw(entry) {
  const { item, parts } = entry;
  parts.title.textContent = title(item);
  parts.title.title = title(item);
  parts.sub.textContent = subtitle(item);
  setPill(parts.pill, item.status, entry.deleted);
  parts.elapsed.textContent = formatElapsed(seconds(item, entry.endedAt));
  entry.node.dataset.status = entry.deleted ? 'deleted' : item.status;
  entry.node.querySelector('.live-select').setAttribute('aria-pressed', String(item.id === selectedId));
}

function place(entry) {
  for (const node of listNode.children) {
    const other = entries.get(node.dataset.id);
    if (other && other !== entry && newerThan(entry.item, other.item)) {
      listNode.insertBefore(entry.node, node);
      return;
    }
  }
  listNode.append(entry.node);
}

/** Finished conversations stay a while with their final status, then fade out. */
function ended(entry) {
  if (entry.endedAt !== null) return;
  entry.endedAt = Date.now();
  entry.node.classList.add('is-finished');
  entry.leaveTimer = setTimeout(() => leave(entry), FINISHED_VISIBLE_MS);
}

function leave(entry) {
  if (entry.item.id === selectedId) return; // stays while its transcript is open; leaves once deselected
  entry.leaving = true;
  entry.node.classList.add('is-leaving');
  setTimeout(() => {
    entry.node.remove();
    if (entries.get(entry.item.id) === entry) entries.delete(entry.item.id);
    refresh();
  }, FADE_MS);
}

/** Show the entries the page's own filters (status, duration) admit, and count them. */
function refresh() {
  const filters = bar.current;
  let count = 0;
  for (const entry of entries.values()) {
    const open = entry.endedAt === null;
    // A conversation that was shown stays shown as it ends, whatever the status filter says.
    const shown = !open || matchesChanging(filters, entry.item, seconds(entry.item, null));
    entry.node.hidden = !shown;
    if (shown && open) count += 1;
  }
  countNode.textContent = partial ? `${count}+` : String(count);
  countNode.setAttribute('aria-label',
    `${partial ? 'at least ' : ''}${count} conversation${count === 1 ? '' : 's'} in progress`);
  const anyShown = [...entries.values()].some((entry) => !entry.node.hidden);
  emptyNode.hidden = anyShown;
  if (!loaded) {
    emptyNode.replaceChildren(el('span', { class: 'loading' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      'Loading conversations in progress…'));
  } else if (!anyShown) {
    const filtered = countActive(filters) > 0;
    const clear = el('button', { type: 'button', class: 'btn' }, 'Clear filters');
    clear.addEventListener('click', () => bar.apply(emptyFilters()));
    emptyNode.replaceChildren(
      el('strong', {}, filtered ? 'No conversations in progress match these filters.' : 'No conversations in progress.'),
      filtered ? clear : el('span', {}, 'Calls, chats, emails and texts show up here the moment they start.'),
    );
  }
}

function upsert(item, { deleted = false } = {}) {
  let entry = entries.get(item.id);
  const isFinished = deleted || finished.has(item.status);
  if (!entry) {
    if (isFinished) return null; // never seen in progress: nothing to show here
    entry = buildEntry(item);
    entries.set(item.id, entry);
    draw(entry);
    place(entry);
  } else {
    entry.item = item;
  }
  entry.deleted = deleted;
  if (isFinished) ended(entry);
  draw(entry);
  return entry;
}

function reset(items) {
  for (const entry of entries.values()) {
    clearTimeout(entry.leaveTimer);
    entry.node.remove();
  }
  entries.clear();
  for (const item of items) upsert(item);
  refresh();
}

listNode.addEventListener('click', (event) => {
  const node = event.target.closest('.live-item');
  if (node) select(node.dataset.id);
});

listNode.addEventListener('keydown', (event) => {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const items = [...listNode.querySelectorAll('.live-item:not([hidden]) .live-select')];
  const at = items.indexOf(document.activeElement);
  if (at < 0) return;
  event.preventDefault();
  items[Math.max(0, Math.min(items.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))].focus();
});

// --- the transcript pane -----------------------------------------------------------------------

function drawPane() {
  if (!selected) {
    pane.box.hidden = true;
    pane.empty.hidden = false;
    return;
  }
  const { item } = selected;
  pane.empty.hidden = true;
  pane.box.hidden = false;
  pane.badge.className = `channel-badge ch-${item.channel}`;
  pane.badge.firstElementChild.firstElementChild.setAttribute('href', `#i-${item.channel}`);
  pane.title.textContent = title(item);
  pane.subtitle.textContent = subtitle(item);
  setPill(pane.status, item.status, selected.deleted);
  pane.elapsed.textContent = formatElapsed(seconds(item, selected.endedAt));
  pane.open.href = `/conversations/${item.id}`;
  pane.open.hidden = selected.deleted;
  let notice = '';
  if (selected.deleted) notice = 'This conversation was deleted.';
  else if (!selected.readable && !selected.loading) {
    notice = 'Transcripts need access to sensitive fields, which your role does not include.';
  }
  pane.notice.textContent = notice;
  pane.notice.hidden = !notice;
  let waiting = '';
  if (selected.loading) waiting = 'Loading the transcript…';
  else if (selected.readable && !transcript.size) waiting = selected.endedAt === null ? 'No turns yet: they appear here as they are spoken.' : 'No transcript.';
  pane.waiting.textContent = waiting;
  pane.waiting.hidden = !waiting;
}

function markSelected() {
  for (const entry of entries.values()) {
    entry.node.querySelector('.live-select').setAttribute('aria-pressed', String(entry.item.id === selectedId));
  }
}

async function select(id, { force = false } = {}) {
  if (id === selectedId && selected && !force) return;
  const previous = entries.get(selectedId);
  selectedId = id;
  bar.replaceUrl();
  markSelected();
  if (previous && previous.endedAt !== null && previous.item.id !== id) {
    clearTimeout(previous.leaveTimer);
    previous.leaveTimer = setTimeout(() => leave(previous), FADE_MS);
  }
  const known = entries.get(id);
  selected = {
    id,
    item: known ? known.item : null,
    endedAt: known ? known.endedAt : null,
    deleted: false,
    loading: true,
    readable: config.sensitive,
    buffer: [], // turns that arrive while the transcript loads, applied after it
  };
  transcript.clear();
  if (selected.item) drawPane();
  let detail = null;
  try {
    const response = await fetch(`/core/conversations/${encodeURIComponent(id)}`, {
      headers: apiHeaders(),
      credentials: 'same-origin',
    });
    if (response.ok) detail = await response.json();
  } catch {
    detail = null;
  }
  if (selectedId !== id) return; // another was chosen meanwhile
  if (!detail) {
    if (!selected.item) {
      deselect();
      return;
    }
    selected.loading = false;
    pane.notice.textContent = "Couldn't load the transcript. Select the conversation again to retry.";
    drawPane();
    pane.notice.hidden = false;
    return;
  }
  selected.item = { ...(selected.item || {}), ...detail };
  if (finished.has(detail.status) && selected.endedAt === null) selected.endedAt = Date.now();
  selected.readable = Array.isArray(detail.transcript);
  selected.loading = false;
  transcript.setNames(speakerNames(detail));
  if (selected.readable) {
    transcript.upsert(detail.transcript);
    transcript.upsert(selected.buffer);
  }
  selected.buffer = [];
  drawPane();
  transcript.scrollToEnd();
}

function deselect() {
  selectedId = null;
  selected = null;
  transcript.clear();
  bar.replaceUrl();
  markSelected();
  drawPane();
}

// --- the stream ----------------------------------------------------------------------------------

function onEvent(kind, data) {
  const id = data.conversation_id;
  if (kind === 'left') { // no longer matches this page's filters (the server's side of them)
    const entry = entries.get(id);
    if (entry && !entry.leaving) leave(entry);
    refresh();
    return;
  }
  const deleted = kind === 'deleted' || data.conversation === null;
  const entry = entries.get(id);
  if (deleted) {
    if (entry) upsert(entry.item, { deleted: true });
  } else {
    upsert(data.conversation);
  }
  if (selected && selected.id === id) {
    if (deleted) selected.deleted = true;
    else selected.item = { ...selected.item, ...data.conversation };
    if ((deleted || finished.has(selected.item.status)) && selected.endedAt === null) selected.endedAt = Date.now();
    const turns = data.changes && data.changes.transcript;
    if (Array.isArray(turns)) {
      if (selected.loading) selected.buffer.push(...turns);
      else transcript.upsert(turns);
    }
    if (!selected.loading) drawPane();
  }
  refresh();
}

function onSnapshot(data) {
  loaded = true;
  partial = data.complete === false;
  reset(data.conversations);
  if (selectedId) select(selectedId, { force: true }); // catch the transcript up too
}

function onState(state, detail) {
  showState(stateNode, state, detail);
  root.dataset.stream = state;
  let text = '';
  if (state === 'reconnecting') text = 'Reconnecting… What happens meanwhile will show once the connection is back.';
  else if (state === 'closed' || state === 'gone') text = detail || 'Live updates stopped.';
  else if (state === 'signed-out') text = 'You were signed out. Log in again to follow conversations.';
  else if (state === 'paused') text = 'Paused while the page is hidden.';
  bannerText.textContent = text;
  banner.hidden = !text;
  banner.dataset.state = state;
  if (state === 'reconnecting') announce('Connection lost. Reconnecting.');
  if (state === 'live' && wasDown) announce('Reconnected.');
  wasDown = state !== 'live' && state !== 'connecting';
  if (state === 'signed-out' || state === 'closed' || state === 'gone') {
    const action = state === 'signed-out'
      ? el('a', { class: 'btn', href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, 'Log in')
      : el('button', { type: 'button', class: 'btn' }, 'Reload');
    if (action.tagName === 'BUTTON') action.addEventListener('click', () => location.reload());
    banner.append(action);
  } else {
    banner.querySelector('.btn')?.remove();
  }
}
let wasDown = false;

const bar = filterBar(form, {
  org: config.org,
  multiOrg: config.multiOrg,
  headers: apiHeaders,
  normalise(parsed) {
    // Streams cannot search, and nothing on this page has ended yet: no filters by how it ended
    // (the form has none to show them).
    Object.assign(parsed, { q: '', tag: [], has_recording: '', sentiment: [], successful: '', ended_reason: '' });
    if (!config.sensitive) parsed.user_id = '';
    return parsed;
  },
  pageParams: () => (selectedId ? [['conversation', selectedId]] : []),
  onChange(filters) {
    stream.restart(toStream(filters)); // a fresh snapshot under the new filters
  },
});

const stream = liveStream({
  path: '/core/conversations/live',
  params: toStream(bar.current),
  org: config.org,
  on: { snapshot: onSnapshot, event: onEvent, state: onState },
});

// One clock for every elapsed time on the page (and the duration filters, which it moves).
setInterval(() => {
  for (const entry of entries.values()) {
    if (entry.endedAt === null) entry.parts.elapsed.textContent = formatElapsed(seconds(entry.item, null));
  }
  if (selected && selected.item && selected.endedAt === null) {
    pane.elapsed.textContent = formatElapsed(seconds(selected.item, null));
  }
  if (bar.current.min_duration !== null || bar.current.max_duration !== null) refresh();
}, 1000);

refresh();
drawPane();
