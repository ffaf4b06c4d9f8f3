// The filters: read from and written to the page URL (so a view can be bookmarked and shared),
// read from and written to the filter form, and turned into the API's query parameters.

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FLAG = /^(true|false)$/;
export const SENTIMENTS = ['positive', 'neutral', 'negative'];

function wholeNumber(value) {
  return value !== null && /^\d{1,9}$/.test(value) ? Number(value) : null;
}

function distinct(values) {
  return [...new Set(values)].sort();
}

export function emptyFilters() {
  return {
    agent_id: [], agent_version: '', direction: '', status: [], channel: [], from: '', to: '',
    min_duration: null, max_duration: null, user_id: '', has_recording: '', sentiment: [],
    successful: '', tag: [], ended_reason: '', q: '',
  };
}

export function fromUrl(params) {
  const date = (name) => (DATE.test(params.get(name) || '') ? params.get(name) : '');
  const flag = (name) => (FLAG.test(params.get(name) || '') ? params.get(name) : '');
  const agents = distinct(params.getAll('agent_id').filter((id) => /^\d+$/.test(id)));
  const version = /^\d{1,9}$/.test(params.get('agent_version') || '') ? params.get('agent_version') : '';
  return {
    agent_id: agents,
    agent_version: agents.length ? version : '', // a version belongs to an agent
    direction: params.get('direction') || '',
    status: distinct(params.getAll('status')),
    channel: distinct(params.getAll('channel')),
    from: date('from'),
    to: date('to'),
    min_duration: wholeNumber(params.get('min_duration')),
    max_duration: wholeNumber(params.get('max_duration')),
    user_id: (params.get('user_id') || '').trim(),
    has_recording: flag('has_recording'),
    sentiment: distinct(params.getAll('sentiment').filter((s) => SENTIMENTS.includes(s))),
    successful: flag('successful'),
    tag: distinct(params.getAll('tag').map((t) => t.trim()).filter(Boolean)),
    ended_reason: (params.get('ended_reason') || '').trim(),
    q: (params.get('q') || '').trim(),
  };
}

/** The filters other than the dates and the search, as the API names them (shared by the
 * page URL and the API query). */
function appendCommon(params, filters) {
  for (const id of filters.agent_id) params.append('agent_id', id);
  if (filters.agent_version && filters.agent_id.length) params.set('agent_version', filters.agent_version);
  if (filters.direction) params.set('direction', filters.direction);
  for (const s of filters.status) params.append('status', s);
  for (const c of filters.channel) params.append('channel', c);
}

function appendRest(params, filters, sensitive) {
  if (filters.min_duration !== null) params.set('min_duration', String(filters.min_duration));
  if (filters.max_duration !== null) params.set('max_duration', String(filters.max_duration));
  if (filters.user_id && sensitive) params.set('user_id', filters.user_id);
  if (filters.has_recording) params.set('has_recording', filters.has_recording);
  for (const s of filters.sentiment) params.append('sentiment', s);
  if (filters.successful) params.set('successful', filters.successful);
  for (const t of filters.tag) params.append('tag', t);
  if (filters.ended_reason) params.set('ended_reason', filters.ended_reason);
}

/** The page's query string: the API's own names, dates as plain days, in the order a saved
 * view stores them (web/view_query.py), so a view's URL and the page's are the same string. */
export function toUrl(filters, org) {
  const params = new URLSearchParams();
  if (org) params.set('org', org);
  if (filters.q) params.set('q', filters.q);
  appendCommon(params, filters);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  appendRest(params, filters, true);
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
  appendCommon(params, filters);
  if (filters.from) params.set('created_after', startOfDay(filters.from));
  if (filters.to) params.set('created_before', startOfDay(filters.to, 1));
  appendRest(params, filters, sensitive);
  if (filters.q && sensitive) params.set('q', filters.q);
  return params;
}

/** How many filters other than the search are set (the badge on the narrow-screen toggle). */
export function countActive(filters) {
  return [
    filters.agent_id.length,
    filters.direction,
    filters.status.length,
    filters.channel.length,
    filters.from || filters.to,
    filters.min_duration !== null || filters.max_duration !== null,
    filters.user_id,
    filters.has_recording,
    filters.sentiment.length,
    filters.successful,
    filters.tag.length,
    filters.ended_reason,
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

/** A form field's trimmed text, or '' when this page's form does not have the field. */
function text(data, name) {
  return String(data.get(name) || '').trim();
}

export function fromForm(form) {
  const data = new FormData(form);
  const agents = distinct(data.getAll('agent_id').map(String).filter(Boolean));
  return {
    agent_id: agents,
    agent_version: agents.length && /^\d{1,9}$/.test(text(data, 'agent_version')) ? text(data, 'agent_version') : '',
    direction: data.get('direction') || '',
    status: distinct(data.getAll('status')),
    channel: distinct(data.getAll('channel')),
    from: data.get('from') || '',
    to: data.get('to') || '',
    min_duration: minutesToSeconds(String(data.get('min_minutes') || '')),
    max_duration: minutesToSeconds(String(data.get('max_minutes') || '')),
    user_id: form.elements.user_id && !form.elements.user_id.disabled ? text(data, 'user_id') : '',
    has_recording: text(data, 'has_recording'),
    sentiment: distinct(data.getAll('sentiment')),
    successful: text(data, 'successful'),
    // Tags are typed as a list: "vip, billing".
    tag: distinct(text(data, 'tags').split(',').map((t) => t.trim()).filter(Boolean)),
    ended_reason: text(data, 'ended_reason'),
    q: !form.elements.q || form.elements.q.disabled ? '' : String(data.get('q') || '').trim(),
  };
}

/** Set a field the page's form may not have (the Live page leaves the analysis fields out). */
function setField(fields, name, value) {
  if (fields[name]) fields[name].value = value;
}

export function toForm(form, filters) {
  const fields = form.elements;
  if (fields.q && !fields.q.disabled) fields.q.value = filters.q;
  fields.direction.value = filters.direction;
  for (const box of form.querySelectorAll('input[type="checkbox"][name]')) {
    if (Array.isArray(filters[box.name])) box.checked = filters[box.name].includes(box.value);
  }
  fields.from.value = filters.from;
  fields.to.value = filters.to;
  fields.min_minutes.value = secondsToMinutes(filters.min_duration);
  fields.max_minutes.value = secondsToMinutes(filters.max_duration);
  setField(fields, 'agent_version', filters.agent_version);
  if (fields.user_id && !fields.user_id.disabled) fields.user_id.value = filters.user_id;
  setField(fields, 'has_recording', filters.has_recording);
  setField(fields, 'successful', filters.successful);
  setField(fields, 'tags', filters.tag.join(', '));
  setField(fields, 'ended_reason', filters.ended_reason);
}

// --- live streams ------------------------------------------------------------------------------
// A stream is filtered on the server by what never changes about a conversation (agent,
// direction, channel, creation time). Status and duration do change, and a filtered stream says
// nothing about a conversation that stops matching (it just goes quiet), so those two are
// matched here instead, on every event: a row can then be seen leaving the view.

/** What changes about a conversation as it goes on, and so is matched in the page. */
const CHANGING = {
  status: [], min_duration: null, max_duration: null, has_recording: '', sentiment: [], successful: '',
  tag: [], ended_reason: '', q: '',
};

/** The stream's query: the list's filters without the search (streams cannot search) and
 * without what matchesChanging() checks in the page. */
export function toStream(filters) {
  return toApi({ ...filters, ...CHANGING }, true);
}

/** Whether the page can tell, from a list item alone, if it passes the filters: not for a
 * search or tags (list items carry neither), so a stream adds no new rows under those. */
export function followable(filters) {
  return !filters.q && filters.tag.length === 0;
}

/** Whether an item passes the filters that toStream() leaves to the page. ``seconds`` is its
 * duration: the API's, or on the Live page the time elapsed so far while it is in progress. */
export function matchesChanging(filters, item, seconds = item.duration_seconds) {
  if (filters.status.length && !filters.status.includes(item.status)) return false;
  if (filters.has_recording && String(Boolean(item.has_recording)) !== filters.has_recording) return false;
  if (filters.sentiment.length && !filters.sentiment.includes(item.sentiment)) return false;
  if (filters.successful && String(item.successful) !== filters.successful) return false;
  if (filters.ended_reason && item.ended_reason !== filters.ended_reason) return false;
  if (filters.min_duration === null && filters.max_duration === null) return true;
  if (seconds === null || seconds === undefined) return false; // as the API: unknown drops out
  if (filters.min_duration !== null && seconds < filters.min_duration) return false;
  return filters.max_duration === null || seconds <= filters.max_duration;
}
