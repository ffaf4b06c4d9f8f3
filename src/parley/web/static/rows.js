// One table row per conversation, built from an item of GET /core/conversations.
// Every value is set with textContent or as an attribute: nothing from the API is parsed as HTML.

import { el, icon } from './dom.js';
import { DASH, formatDuration, isGuest, localDate, localFull, localTime, statusLabel } from './format.js';

const MATCH_FIELDS = {
  summary: 'Summary',
  caller_name: 'Caller name',
  transcript: 'Transcript',
  user_id: 'Caller ID',
  agent_number: 'Agent number',
  participants: 'Participant',
  id: 'ID',
};

const present = (value) => value !== null && value !== undefined && value !== '';
const nil = () => el('span', { class: 'nil' }, DASH);

function textCell(value, className = '') {
  return present(value) ? el('td', { class: className, title: value }, value) : el('td', {}, nil());
}

function copyCell() {
  return el(
    'td',
    { class: 'copy-cell' },
    el(
      'button',
      { type: 'button', class: 'icon-btn', 'data-action': 'copy', title: 'Copy link', 'aria-label': 'Copy link to this conversation' },
      icon('link'),
    ),
  );
}

function playCell(item, ctx) {
  if (!(ctx.playable.has(item.status) && item.has_recording && item.recording_url)) return el('td', {}, nil());
  return el(
    'td',
    {},
    el(
      'button',
      {
        type: 'button',
        class: 'icon-btn play-btn',
        'data-action': 'play',
        'data-src': item.recording_url,
        'aria-pressed': 'false',
        'aria-label': 'Play recording',
        title: 'Play recording',
      },
      icon('play'),
    ),
  );
}

function agentCell(item) {
  const agent = item.agent;
  if (!agent) return el('td', {}, nil());
  const version = agent.version === null || agent.version === undefined ? '' : ` (version ${agent.version})`;
  return el(
    'td',
    {},
    el(
      'a',
      {
        class: 'agent-link',
        href: agent.url,
        target: '_blank',
        rel: 'noopener',
        title: `Open ${agent.name}${version} in the agent builder`,
        'aria-label': `${agent.name}${version}, opens in a new tab`,
      },
      el('span', {}, agent.name),
      icon('external', 'icon-xs'),
    ),
  );
}

function callerCell(item) {
  const id = item.user_id;
  const others = Array.isArray(item.participants) ? item.participants : [];
  let shown;
  if (!present(id)) shown = nil();
  else if (isGuest(id)) shown = el('span', { class: 'guest', title: id }, 'Guest');
  else shown = el('span', { title: id }, id);
  const caller = el('span', { class: 'caller' }, shown);
  if (others.length) {
    caller.append(
      el(
        'span',
        {
          class: 'bubble',
          title: others.join('\n'),
          'aria-label': `${others.length} more on the thread: ${others.join(', ')}`,
        },
        `+${others.length}`,
      ),
    );
  }
  return el('td', {}, caller);
}

function directionCell(item, ctx) {
  const label = ctx.directionLabels[item.direction] || item.direction;
  return el('td', {}, el('span', { class: `dir dir-${item.direction}` }, icon(item.direction), label));
}

function statusCell(item) {
  return el('td', {}, el('span', { class: `pill s-${item.status}` }, statusLabel(item.status)));
}

function snippet(match) {
  const line = el('div', { class: 'snippet' }, el('span', { class: 'snippet-field' }, MATCH_FIELDS[match.field] || match.field));
  let plain = '';
  for (const part of match.parts) {
    line.append(part.hit ? el('mark', {}, part.text) : document.createTextNode(part.text));
    plain += part.text;
  }
  line.title = plain;
  return line;
}

function summaryCell(item) {
  const cell = el('td', { class: 'summary-cell' });
  cell.append(present(item.summary) ? el('div', { class: 'summary-line', title: item.summary }, item.summary) : nil());
  if (item.match) cell.append(snippet(item.match));
  return cell;
}

function timeCell(iso, format) {
  return el('td', { class: 'num' }, el('time', { datetime: iso, title: localFull(iso) }, format(iso)));
}

function typeCell(item, ctx) {
  return el('td', {}, el('span', { class: 'type' }, icon(item.channel), ctx.channelLabels[item.channel] || item.channel));
}

export function buildRow(item, ctx) {
  const row = el('tr', { role: 'row', tabindex: '0', 'data-id': item.id, 'data-url': item.url });
  if (item.match) row.classList.add('has-match');
  row.append(
    copyCell(),
    playCell(item, ctx),
    agentCell(item),
    callerCell(item),
    textCell(item.caller_name),
    textCell(item.agent_number, 'num'),
    directionCell(item, ctx),
    statusCell(item),
    summaryCell(item),
    textCell(formatDuration(item.duration_seconds), 'num'),
    timeCell(item.created_at, localDate),
    timeCell(item.created_at, localTime),
    typeCell(item, ctx),
  );
  for (const cell of row.children) cell.setAttribute('role', 'cell');
  return row;
}

const COPY = 0;
const PLAY = 1;
const STATUS = 7;
const SUMMARY = 8;

/** Whether ``a`` comes before ``b`` in the list: newest first by created_at, then by id (ids
 * are decimal strings too long for a Number). */
export function newerThan(a, b) {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return ta > tb;
  return a.id.length !== b.id.length ? a.id.length > b.id.length : a.id > b.id;
}

/** Bring a row shown to ``item`` as it is now, cell by cell, leaving alone the cells that did not
 * change, the copy button (it may be showing its tooltip) and a play button in use. Returns
 * whether anything changed. */
export function updateRow(row, item, ctx) {
  const fresh = buildRow({ ...item, match: undefined }, ctx);
  let changed = false;
  [...fresh.children].forEach((cell, index) => {
    const current = row.children[index];
    if (index === COPY) return;
    if (index === PLAY && (current.querySelector('[aria-pressed="true"]') || current.contains(document.activeElement))) return;
    if (index === SUMMARY) {
      // The stream cannot search: keep the line saying why the row matched.
      const snippet = current.querySelector('.snippet');
      if (snippet) cell.append(snippet.cloneNode(true));
    }
    if (current.isEqualNode(cell)) return;
    current.replaceWith(cell);
    changed = true;
  });
  return changed;
}

/** A row whose conversation was deleted stays where it is (the list does not move), marked. */
export function markDeleted(row) {
  row.classList.add('is-deleted');
  row.setAttribute('aria-disabled', 'true');
  row.title = 'This conversation was deleted';
  const status = row.children[STATUS];
  status.replaceChildren(el('span', { class: 'pill s-deleted' }, 'Deleted'));
}
