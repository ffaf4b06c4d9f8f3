// The inbox table: one infinitely scrolling list read page by page from GET /core/conversations.
// Rows are appended as the reader scrolls; a change of filters empties the table and starts again
// at the top. A live stream keeps the rows shown up to date in place, and holds new conversations
// behind an "N new" pill until the reader asks for them, so the list never moves on its own.

import { copyText } from './clipboard.js';
import { announcer, el, icon, pinOrgCookie, setIcon } from './dom.js';
import { matchCounter } from './count.js';
import { filterBar } from './filterbar.js';
import { countActive, emptyFilters, followable, matchesChanging, toApi, toStream, toUrl } from './filters.js';
import { viewerTimeZone } from './format.js';
import { fitColumns } from './columns.js';
import { rovingRows } from './keys.js';
import { peekPopover } from './peek.js';
import { createPlayer } from './player.js';
import { buildRow, CELLS, markDeleted, newerThan, updateRow } from './rows.js';
import { liveStream, showState } from './stream.js';
import { savedViews } from './views.js';

const root = document.getElementById('inbox');
const config = JSON.parse(root.dataset.config);
const form = document.getElementById('filters');
const grid = document.getElementById('grid');
const statusArea = document.getElementById('list-status');
const sentinel = document.getElementById('sentinel');
const scroller = document.getElementById('scroller');
const exportLink = document.getElementById('export');

const announce = announcer(document.getElementById('announcer'));
const player = createPlayer(document.getElementById('player'), announce);
const rowContext = {
  channelLabels: config.channelLabels,
  directionLabels: config.directionLabels,
  playable: new Set(config.playable),
  statuses: config.statuses,
  cells: CELLS,
};
const columns = fitColumns(grid, rowContext);
const keys = rovingRows(grid);
const peek = peekPopover(grid, document.getElementById('peek'), scroller);

const list = {
  generation: 0,
  cursor: null,
  done: false,
  loading: false,
  failed: false,
  seen: new Set(),
  rows: new Map(), // id -> <tr>
  first: null, // the first and last items loaded, to place what the stream tells of
  last: null,
  controller: null,
};

function apiHeaders() {
  return { Accept: 'application/json', 'X-Anyreach-Org': config.org };
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') return body.detail;
  } catch {
    // not problem+json
  }
  return `The server answered ${response.status}.`;
}

// --- list status: loading, end, empty, error ---------------------------------------------------

function showStatus(kind, message = '') {
  grid.setAttribute('aria-busy', String(kind === 'loading'));
  const count = list.seen.size;
  let content = null;
  if (kind === 'loading') {
    content = el('span', { class: 'loading' }, el('span', { class: 'spinner', 'aria-hidden': 'true' }),
      count ? 'Loading more…' : 'Loading conversations…');
  } else if (kind === 'end') {
    content = el('div', { class: 'end-marker', 'data-state': 'end' },
      `End of list · ${count.toLocaleString()} conversation${count === 1 ? '' : 's'}`);
  } else if (kind === 'empty') {
    const filtered = countActive(bar.current) > 0 || Boolean(bar.current.q);
    content = el('div', { class: 'empty-state', 'data-state': 'empty' },
      el('strong', {}, filtered ? 'No conversations match these filters.' : 'No conversations yet.'),
      filtered ? clearFiltersButton() : 'Conversations your agents handle will show up here.');
  } else if (kind === 'error') {
    const retry = el('button', { type: 'button', class: 'btn', 'data-action': 'retry' }, icon('retry', 'icon'), 'Retry');
    retry.addEventListener('click', () => {
      list.failed = false;
      loadNext();
    });
    content = el('div', { class: 'error-row', role: 'alert', 'data-state': 'error' },
      el('span', {}, `Couldn't load conversations. ${message}`), retry);
  }
  statusArea.replaceChildren(...(content ? [content] : []));
}

function clearFiltersButton() {
  const button = el('button', { type: 'button', class: 'btn' }, 'Clear filters');
  button.addEventListener('click', () => bar.apply(emptyFilters()));
  return button;
}

// --- paging ----------------------------------------------------------------------------------

async function loadNext() {
  if (list.loading || list.done || list.failed) return;
  list.loading = true;
  showStatus('loading');
  const generation = list.generation;
  const params = toApi(bar.current, config.sensitive);
  params.set('limit', String(config.pageSize));
  if (list.cursor) params.set('cursor', list.cursor);
  try {
    const response = await fetch(`/core/conversations?${params}`, {
      headers: apiHeaders(),
      credentials: 'same-origin',
      signal: list.controller.signal,
    });
    if (generation !== list.generation) return;
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
      return;
    }
    if (!response.ok) throw new Error(await problemDetail(response));
    const page = await response.json();
    if (generation !== list.generation) return;
    append(page.data);
    list.cursor = page.next_cursor;
    list.done = !page.next_cursor;
    list.loading = false;
    live.startAfterFirstPage();
    if (list.done) showStatus(list.seen.size ? 'end' : 'empty');
    else {
      showStatus('idle');
      watchSentinel(); // the sentinel may still be in view after a short page
    }
  } catch (error) {
    if (generation !== list.generation || error.name === 'AbortError') return;
    list.loading = false;
    list.failed = true;
    const message = error instanceof TypeError ? 'Check your connection and try again.' : error.message;
    showStatus('error', message);
  }
}

/** Each page of rows goes in its own <tbody>: appended once, never touched again. */
function append(items) {
  columns.consider(items);
  const page = el('tbody', { role: 'rowgroup' });
  for (const item of items) {
    // A row must never come twice across a page boundary; if the server ever repeats one, skip it.
    if (list.seen.has(item.id)) continue;
    list.seen.add(item.id);
    const row = buildRow(item, rowContext);
    list.rows.set(item.id, row);
    page.append(row);
    list.first = list.first || item;
    list.last = item;
  }
  if (page.firstChild) grid.append(page);
  keys.settle();
}

const observer = new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadNext();
  },
  { root: scroller, rootMargin: '0px 0px 800px 0px' },
);

function watchSentinel() {
  // Observing again reports the current intersection at once, even if it has not changed.
  observer.unobserve(sentinel);
  observer.observe(sentinel);
}

function restart() {
  list.generation += 1;
  list.controller?.abort();
  list.controller = new AbortController();
  Object.assign(list, {
    cursor: null, done: false, loading: false, failed: false, seen: new Set(), rows: new Map(), first: null, last: null,
  });
  live.restart();
  player.reset();
  peek.close();
  for (const page of grid.querySelectorAll('tbody')) page.remove();
  scroller.scrollTop = 0;
  loadNext();
  counter.refresh(toApi(bar.current, config.sensitive)); // after the page's request: it never waits
}

// --- row interactions ------------------------------------------------------------------------

const copyTimers = new WeakMap();

async function copyLink(button, row) {
  const url = new URL(row.dataset.url, location.href).href;
  const copied = await copyText(url);
  const svg = button.querySelector('svg');
  clearTimeout(copyTimers.get(button));
  let tip = button.querySelector('.copy-tip');
  if (!tip) {
    tip = el('span', { class: 'copy-tip', 'aria-hidden': 'true' });
    button.append(tip);
  }
  tip.textContent = copied ? 'Copied' : 'Copy failed';
  button.classList.toggle('copied', copied);
  setIcon(svg, copied ? 'check' : 'link');
  announce(copied ? 'Link copied to the clipboard.' : 'The link could not be copied.');
  copyTimers.set(
    button,
    setTimeout(() => {
      tip.remove();
      button.classList.remove('copied');
      setIcon(svg, 'link');
    }, 1600),
  );
}

// A row is a link (rows.js): clicks, middle-clicks and Enter open it as links do. The buttons in
// it act in place.
grid.addEventListener('click', (event) => {
  const row = event.target.closest('tbody tr');
  const control = event.target.closest('button[data-action]');
  if (!row || !control) return;
  if (control.dataset.action === 'copy') copyLink(control, row);
  else if (control.dataset.action === 'play') player.toggle(control, control.dataset.src, () => pinOrgCookie(config.org));
});

// --- filters ---------------------------------------------------------------------------------

// Before the filter bar, which marks the current view as it starts (the list is drawn once it
// has loaded, when the bar is there to ask).
const views = savedViews(document.getElementById('views'), {
  org: config.org,
  multiOrg: config.multiOrg,
  currentQuery: () => toUrl(bar.current, '').toString(),
  announce,
});

const bar = filterBar(form, {
  org: config.org,
  multiOrg: config.multiOrg,
  headers: apiHeaders,
  normalise(parsed) {
    if (!config.sensitive) {
      // The API would refuse both (403); the search box says why.
      parsed.q = '';
      parsed.user_id = '';
    }
    return parsed;
  },
  onChange: restart,
  onReflect(filters) {
    const params = toApi(filters, config.sensitive);
    params.set('tz', viewerTimeZone);
    exportLink.href = `/core/conversations/export.csv?${params}`;
    views.refresh();
  },
});
exportLink.addEventListener('click', () => pinOrgCookie(config.org));

// --- live updates ----------------------------------------------------------------------------

const pill = document.getElementById('new-pill');
const pillCount = document.getElementById('new-count');
const streamState = document.getElementById('stream-state');

/** The page's stream (one, see stream.js). It starts with the list: what it says before the
 * first page is in is kept until then, so nothing falls between the page and the stream. */
const live = {
  stream: null,
  ready: false,
  held: [],
  pending: new Map(), // new conversations behind the pill: id -> item
  stale: false, // events were missed: the list may be out of date
  flashTimers: new WeakMap(),

  restart() {
    this.ready = false;
    this.held = [];
    this.pending.clear();
    this.stale = false;
    this.showPill();
    const params = toStream(bar.current);
    if (this.stream) this.stream.restart(params);
    else {
      this.stream = liveStream({
        path: '/core/conversations/live',
        params,
        org: config.org,
        on: {
          snapshot: (data) => this.receive(() => data.conversations.forEach((item) => this.seen(item))),
          event: (kind, data) => this.receive(() => this.onEvent(kind, data)),
          reset: () => this.receive(() => this.lost()),
          state: (state, detail) => {
            showState(streamState, state, detail);
            if (state === 'live' && bar.current.q) {
              streamState.title = 'Rows shown update as they change. New conversations are not counted while searching.';
            }
          },
        },
      });
    }
  },

  receive(apply) {
    if (this.ready) apply();
    else this.held.push(apply);
  },

  startAfterFirstPage() {
    if (this.ready) return;
    this.ready = true;
    for (const apply of this.held.splice(0)) apply();
  },

  onEvent(kind, data) {
    if (kind === 'left') return; // a row already shown stays where it is: the list never jumps
    if (kind === 'deleted' || data.conversation === null) {
      this.pending.delete(data.conversation_id);
      const row = list.rows.get(data.conversation_id);
      if (row) markDeleted(row);
      this.showPill();
      return;
    }
    this.seen(data.conversation);
  },

  /** The stream told of this conversation as it is now. */
  seen(item) {
    const row = list.rows.get(item.id);
    if (row) {
      if (updateRow(row, item, rowContext)) this.flash(row);
      return;
    }
    const filters = bar.current;
    // A search (or tags) cannot be followed live (list items carry neither): rows update, none are added.
    if (!followable(filters)) return;
    // Only what this view would list, and only among the rows loaded so far: a conversation
    // further down is listed when the reader scrolls to it.
    const belongs = list.done || (list.last !== null && newerThan(item, list.last));
    if (matchesChanging(filters, item) && belongs) this.pending.set(item.id, item);
    else this.pending.delete(item.id);
    this.showPill();
  },

  /** Events were missed (the server no longer has them): the list may be out of date. */
  lost() {
    this.stale = true;
    this.showPill();
  },

  showPill() {
    const count = this.pending.size;
    const wasHidden = pill.hidden;
    pill.hidden = count === 0 && !this.stale;
    if (this.stale && !count) pillCount.textContent = 'Reload the list';
    else pillCount.textContent = `${count.toLocaleString()} new conversation${count === 1 ? '' : 's'}`;
    if (wasHidden && !pill.hidden) announce(`${pillCount.textContent}. Activate the button at the top of the list to show.`);
  },

  flash(row) {
    row.classList.remove('row-updated');
    void row.offsetWidth; // restart the animation
    row.classList.add('row-updated');
    clearTimeout(this.flashTimers.get(row));
    this.flashTimers.set(row, setTimeout(() => row.classList.remove('row-updated'), 2000));
  },

  /** The pill was clicked: new conversations go on top, or the list starts again if one of
   * them belongs further down (created with an earlier time) or events were missed. */
  showNew() {
    const items = [...this.pending.values()].sort((a, b) => (newerThan(a, b) ? -1 : 1));
    const { stale } = this;
    this.pending.clear();
    this.stale = false;
    this.showPill();
    const top = grid.querySelector('tbody');
    if (stale || !top || !list.first || !items.every((item) => newerThan(item, list.first))) {
      restart();
      return;
    }
    const page = el('tbody', { role: 'rowgroup' });
    for (const item of items) {
      if (list.seen.has(item.id)) continue;
      list.seen.add(item.id);
      const row = buildRow(item, rowContext);
      row.classList.add('row-new');
      list.rows.set(item.id, row);
      page.append(row);
    }
    if (!page.firstChild) return;
    grid.insertBefore(page, top);
    list.first = items[0];
    scroller.scrollTop = 0;
    keys.focusRow(page.firstElementChild);
    if (list.done) showStatus('end');
  },
};

pill.addEventListener('click', () => live.showNew());

const counter = matchCounter(document.getElementById('match-count'), apiHeaders);

list.controller = new AbortController();
live.restart();
watchSentinel();
counter.refresh(toApi(bar.current, config.sensitive));
