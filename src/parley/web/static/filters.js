// The filters: read from and written to the page URL (so a view can be bookmarked and shared),
// read from and written to the filter form, and turned into the API's query parameters.

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function wholeNumber(value) {
  return value !== null && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

export function emptyFilters() {
  return { agent_id: '', direction: '', status: [], channel: [], from: '', to: '', min_duration: null, max_duration: null, q: '' };
}

export function fromUrl(params) {
  const date = (name) => (DATE.test(params.get(name) || '') ? params.get(name) : '');
  return {
    agent_id: /^\d+$/.test(params.get('agent_id') || '') ? params.get('agent_id') : '',
    direction: params.get('direction') || '',
    status: params.getAll('status').sort(),
    channel: params.getAll('channel').sort(),
    from: date('from'),
    to: date('to'),
    min_duration: wholeNumber(params.get('min_duration')),
    max_duration: wholeNumber(params.get('max_duration')),
    q: (params.get('q') || '').trim(),
  };
}

/** The page's query string: the API's own names, dates as plain days. */
export function toUrl(filters, org) {
  const params = new URLSearchParams();
  if (org) params.set('org', org);
  if (filters.q) params.set('q', filters.q);
  if (filters.agent_id) params.set('agent_id', filters.agent_id);
  if (filters.direction) params.set('direction', filters.direction);
  for (const s of filters.status) params.append('status', s);
  for (const c of filters.channel) params.append('channel', c);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (filters.min_duration !== null) params.set('min_duration', String(filters.min_duration));
  if (filters.max_duration !== null) params.set('max_duration', String(filters.max_duration));
  return params;
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** RFC 3339 with the viewer's own UTC offset at that instant, e.g. 2026-11-01T00:00:00-04:00. */
export function rfc3339Local(moment) {
  const offset = -moment.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${pad(moment.getFullYear(), 4)}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
    `T${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** The start of a day in the viewer's time zone (the Date constructor skips a midnight DST omits). */
function startOfDay(day, addDays = 0) {
  const [y, m, d] = day.split('-').map(Number);
  return rfc3339Local(new Date(y, m - 1, d + addDays));
}

/** The API's query: "to" is inclusive for people, so it becomes the start of the next day. */
export function toApi(filters, sensitive) {
  const params = new URLSearchParams();
  if (filters.agent_id) params.append('agent_id', filters.agent_id);
  if (filters.direction) params.set('direction', filters.direction);
  for (const s of filters.status) params.append('status', s);
  for (const c of filters.channel) params.append('channel', c);
  if (filters.from) params.set('created_after', startOfDay(filters.from));
  if (filters.to) params.set('created_before', startOfDay(filters.to, 1));
  if (filters.min_duration !== null) params.set('min_duration', String(filters.min_duration));
  if (filters.max_duration !== null) params.set('max_duration', String(filters.max_duration));
  if (filters.q && sensitive) params.set('q', filters.q);
  return params;
}

/** How many filters other than the search are set (the badge on the narrow-screen toggle). */
export function countActive(filters) {
  return [
    filters.agent_id,
    filters.direction,
    filters.status.length,
    filters.channel.length,
    filters.from || filters.to,
    filters.min_duration !== null || filters.max_duration !== null,
  ].filter(Boolean).length;
}

export function sameFilters(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function minutesToSeconds(value) {
  if (value.trim() === '') return null;
  const minutes = Number(value);
  return Number.isFinite(minutes) && minutes >= 0 ? Math.round(minutes * 60) : null;
}

function secondsToMinutes(seconds) {
  return seconds === null ? '' : String(Math.round((seconds / 60) * 100) / 100);
}

export function fromForm(form) {
  const data = new FormData(form);
  return {
    agent_id: data.get('agent_id') || '',
    direction: data.get('direction') || '',
    status: data.getAll('status').sort(),
    channel: data.getAll('channel').sort(),
    from: data.get('from') || '',
    to: data.get('to') || '',
    min_duration: minutesToSeconds(String(data.get('min_minutes') || '')),
    max_duration: minutesToSeconds(String(data.get('max_minutes') || '')),
    q: !form.elements.q || form.elements.q.disabled ? '' : String(data.get('q') || '').trim(),
  };
}

export function toForm(form, filters) {
  const fields = form.elements;
  if (fields.q && !fields.q.disabled) fields.q.value = filters.q;
  fields.agent_id.value = filters.agent_id;
  fields.direction.value = filters.direction;
  for (const box of form.querySelectorAll('input[type="checkbox"]')) {
    box.checked = filters[box.name].includes(box.value);
  }
  fields.from.value = filters.from;
  fields.to.value = filters.to;
  fields.min_minutes.value = secondsToMinutes(filters.min_duration);
  fields.max_minutes.value = secondsToMinutes(filters.max_duration);
}

// --- live streams ------------------------------------------------------------------------------
// A stream is filtered on the server by what never changes about a conversation (agent,
// direction, channel, creation time). Status and duration do change, and a filtered stream says
// nothing about a conversation that stops matching (it just goes quiet), so those two are
// matched here instead, on every event: a row can then be seen leaving the view.

/** The stream's query: the list's filters without the search (streams cannot search) and
 * without the status and duration, which matchesChanging() checks in the page. */
export function toStream(filters) {
  const params = toApi({ ...filters, status: [], min_duration: null, max_duration: null, q: '' }, false);
  return params;
}

/** Whether an item passes the filters that toStream() leaves to the page. ``seconds`` is its
 * duration: the API's, or on the Live page the time elapsed so far while it is in progress. */
export function matchesChanging(filters, item, seconds = item.duration_seconds) {
  if (filters.status.length && !filters.status.includes(item.status)) return false;
  if (filters.min_duration === null && filters.max_duration === null) return true;
  if (seconds === null || seconds === undefined) return false; // as the API: unknown drops out
  if (filters.min_duration !== null && seconds < filters.min_duration) return false;
  return filters.max_duration === null || seconds <= filters.max_duration;
}
