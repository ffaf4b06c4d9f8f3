// A page's live stream (Server-Sent Events from /core/conversations/live or /{id}/live).
//
// One stream per page, never more: the Live page follows its selected conversation's turns on
// the same org stream that feeds its list rather than opening /{id}/live beside it. Not one
// stream per browser (a SharedWorker fanning out a single connection) because each page's
// stream is filtered on the server by that page's filters, and the field policy and the filter
// rules would have to be re-implemented in the worker to share one. What keeps a browser within
// HTTP/1.1's 6 connections per origin instead is that only pages someone can see hold a
// stream: a page hidden for HIDDEN_GRACE_MS (another tab in front, a minimised window) closes
// its stream, and resumes it when shown again, from the last event it had, so nothing is
// missed. Behind HTTP/2 the limit does not apply at all.
//
// Reconnecting is done here rather than by EventSource itself: the stream's org comes from the
// parley_org cookie (EventSource cannot send headers), which another tab may have switched, so
// the cookie is pinned to this page's org before every connection, and the position is sent as
// ?last_event_id=. Events are also de-duplicated by id, so a replay never applies twice.

import { pinOrgCookie } from './dom.js';

export const HIDDEN_GRACE_MS = 10_000;
const RETRY_MS = [1000, 2000, 4000, 8000];
const RETRY_MAX_MS = 10_000;
const KINDS = ['created', 'status_changed', 'updated', 'turns', 'recording_ready', 'deleted', 'left'];

/**
 * options:
 *   path, params   the stream's address and query (URLSearchParams)
 *   org            the page's org
 *   on.snapshot(data)         the state to start from (also after a reset)
 *   on.event(kind, data, id)  each change, once, in order
 *   on.reset(reason)          the events since the last one seen are gone: a snapshot follows
 *   on.state(state, detail)   'connecting', 'live', 'reconnecting', 'paused', and the ends:
 *                             'closed' (access changed), 'signed-out', 'gone' (404)
 */
export function liveStream(options) {
  const { path, org, on } = options;
  let params = options.params || new URLSearchParams();
  let source = null;
  let lastId = null;
  let attempt = 0;
  let retryTimer = null;
  let hiddenTimer = null;
  let paused = false;
  let ended = false;

  function address() {
    const query = new URLSearchParams(params);
    if (lastId !== null) query.set('last_event_id', String(lastId));
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  }

  function setState(state, detail = '') {
    on.state?.(state, detail);
  }

  function drop() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) {
      source.close();
      source = null;
    }
  }

  function finish(state, detail = '') {
    drop();
    ended = true;
    setState(state, detail);
  }

  function connect() {
    drop();
    if (ended || paused) return;
    pinOrgCookie(org);
    const es = new EventSource(address());
    source = es;
    const mine = (handler) => (message) => {
      if (source === es) handler(message);
    };
    es.addEventListener('open', mine(() => {
      attempt = 0;
      setState('live');
    }));
    es.addEventListener('snapshot', mine((message) => {
      lastId = Number(message.lastEventId);
      on.snapshot(JSON.parse(message.data));
    }));
    for (const kind of KINDS) {
      es.addEventListener(kind, mine((message) => {
        const id = Number(message.lastEventId);
        if (lastId !== null && id <= lastId) return; // seen already
        lastId = id;
        on.event(kind, JSON.parse(message.data), id);
      }));
    }
    es.addEventListener('reset', mine((message) => {
      lastId = null;
      on.reset?.(JSON.parse(message.data).reason);
      connect(); // a fresh snapshot
    }));
    es.addEventListener('closed', mine((message) => finish('closed', JSON.parse(message.data).reason)));
    es.addEventListener('error', mine(() => {
      // CLOSED: the server answered with an error (EventSource gives up on those); otherwise the
      // connection dropped. Either way this page reconnects, on its own terms.
      const refused = es.readyState === EventSource.CLOSED;
      drop();
      setState('reconnecting');
      if (refused) diagnose();
      else scheduleRetry();
    }));
  }

  function scheduleRetry() {
    const base = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)];
    const delay = Math.min(RETRY_MAX_MS, base * (0.8 + Math.random() * 0.4)); // spread a restart's reconnects
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  }

  /** The stream was refused: ask once more, by fetch, to learn why. */
  async function diagnose() {
    const controller = new AbortController();
    let status = 0;
    let detail = '';
    try {
      pinOrgCookie(org);
      const response = await fetch(address(), { credentials: 'same-origin', signal: controller.signal });
      status = response.status;
      if (!response.ok) detail = (await response.json().catch(() => ({}))).detail || '';
    } catch {
      status = 0; // the server is away
    } finally {
      controller.abort();
    }
    if (ended || paused || source) return;
    if (status === 401) finish('signed-out');
    else if (status === 403) finish('closed', detail);
    else if (status === 404) finish('gone', detail);
    else if (status === 400 && lastId !== null) {
      lastId = null; // a position this server does not know: start again from a snapshot
      on.reset?.(detail);
      connect();
    } else scheduleRetry();
  }

  function onVisibility() {
    if (document.visibilityState === 'hidden') {
      clearTimeout(hiddenTimer);
      hiddenTimer = setTimeout(() => {
        if (ended) return;
        paused = true;
        drop();
        setState('paused');
      }, HIDDEN_GRACE_MS);
    } else {
      clearTimeout(hiddenTimer);
      if (paused) {
        paused = false;
        attempt = 0;
        setState('reconnecting');
        connect();
      }
    }
  }
  document.addEventListener('visibilitychange', onVisibility);

  setState('connecting');
  connect();

  return {
    /** Start again with other parameters (new filters): a fresh snapshot. */
    restart(next) {
      params = next;
      lastId = null;
      attempt = 0;
      setState('connecting');
      connect();
    },
    /** Stop for good (e.g. a finished conversation's page has nothing more to hear). */
    close() {
      ended = true;
      drop();
      clearTimeout(hiddenTimer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}

const STATE_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  paused: 'Paused while hidden',
  closed: 'Stopped',
  'signed-out': 'Signed out',
  gone: 'Stopped',
};

/** Show a stream's state in a status element (role="status" in the templates). */
export function showState(element, state, detail = '') {
  element.hidden = false;
  element.dataset.state = state;
  element.textContent = STATE_TEXT[state] || state;
  element.title = detail || (state === 'reconnecting'
    ? 'The connection to the server dropped; trying again. Changes made meanwhile will arrive once it is back.'
    : '');
}
