// One table row per conversation, built from an item of GET /core/conversations.
// Every value is set with textContent or as an attribute: nothing from the API is parsed as HTML.
//
// A row is a real link: its first cell holds an <a> whose ::after covers the whole row, so a
// click, a ctrl- or middle-click and the context menu do what they do on any link. The controls
// in the row sit above that cover. Every focusable thing in a row starts out of the tab order
// (tabindex -1): keys.js moves the one tab stop of the table around (a roving tabindex).

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

/** The cells of a row, in order: each td carries ``c-<name>``, which the card layout places. */
export const CELLS = [
  'copy', 'play', 'agent', 'caller', 'name', 'number', 'dir', 'status', 'summary', 'duration', 'date', 'time', 'type',
];
const at = (name) => CELLS.indexOf(name);

const present = (value) => value !== null && value !== undefined && value !== '';
const nil = () => el('span', { class: 'nil' }, DASH);
const td = (name, ...children) => el('td', { class: `c-${name}`, role: 'gridcell' }, ...children);
const OUT = { tabindex: '-1' }; // out of the tab order until the roving tab stop comes by

/** A button that shows ``text`` in the table's popover (inbox.js) on focus and on a tap. */
function peekButton(attrs, text, ...children) {
  return el('button', { type: 'button', ...OUT, 'aria-expanded': 'false', ...attrs, 'data-peek': text }, ...children);
}

function textCell(name, value) {
  return td(name, present(value) ? el('span', { class: 'text', title: value }, value) : nil());
}

function linkText(item, ctx, date, time) {
  const channel = ctx.channelLabels[item.channel] || item.channel;
  const who = present(item.caller_name) ? item.caller_name : (present(item.user_id) && !isGuest(item.user_id) ? item.user_id : '');
  return `${channel}${who ? ` with ${who}` : ''}, ${statusLabel(item.status)}, ${date} ${time}`;
}

function copyCell(item, ctx, date, time) {
  // The row's link comes first, so it is where the keyboard lands in a row.
  const link = el('a', { class: 'row-link', href: item.url, target: '_blank', rel: 'noopener', ...OUT },
    el('span', { class: 'visually-hidden' }, `Open ${linkText(item, ctx, date, time)}`));
  const copy = el('button',
    { type: 'button', class: 'icon-btn', 'data-action': 'copy', title: 'Copy link', 'aria-label': 'Copy link to this conversation', ...OUT },
    icon('link'));
  return td('copy', link, copy);
}

function playCell(item, ctx) {
  if (!(ctx.playable.has(item.status) && item.has_recording && item.recording_url)) return td('play', nil());
  return td('play', el(
    'button',
    {
      type: 'button',
      class: 'icon-btn play-btn',
      'data-action': 'play',
      'data-src': item.recording_url,
      'aria-pressed': 'false',
      'aria-label': 'Play recording',
      title: 'Play recording',
      ...OUT,
    },
    icon('play'),
  ));
}

function agentCell(item) {
  const agent = item.agent;
  if (!agent) return td('agent', nil());
  const version = agent.version === null || agent.version === undefined ? '' : ` (version ${agent.version})`;
  return td('agent', el(
    'a',
    {
      class: 'agent-link',
      href: agent.url,
      target: '_blank',
      rel: 'noopener',
      title: `Open ${agent.name}${version} in the agent builder`,
      'aria-label': `${agent.name}${version}, opens in a new tab`,
      ...OUT,
    },
    el('span', {}, agent.name),
    icon('external', 'icon-xs'),
  ));
}

function callerCell(item) {
  const id = item.user_id;
  const others = Array.isArray(item.participants) ? item.participants : [];
  let shown;
  if (!present(id)) shown = nil();
  else if (isGuest(id)) shown = peekButton({ class: 'peek guest', title: id, 'aria-label': `Guest, id ${id}` }, id, 'Guest');
  else shown = el('span', { class: 'text', title: id }, id);
  const caller = el('span', { class: 'caller' }, shown);
  if (others.length) {
    caller.append(peekButton(
      {
        class: 'peek bubble',
        title: others.join('\n'),
        'aria-label': `${others.length} more on the thread: ${others.join(', ')}`,
      },
      others.join('\n'),
      `+${others.length}`,
    ));
  }
  return td('caller', caller);
}

function directionCell(item, ctx) {
  const label = ctx.directionLabels[item.direction] || item.direction;
  return td('dir', el('span', { class: `dir dir-${item.direction}` }, icon(item.direction), label));
}

function statusCell(item) {
  return td('status', el('span', { class: `pill s-${item.status}` }, statusLabel(item.status)));
}

/** Why the row matched. The text before the first hit, the first hit and the rest are items of
 * their own (app.css): the text before gives up its width first, cut at its start, then the
 * rest, then the field's name, so the first hit shows at any width. */
function snippet(match) {
  const field = MATCH_FIELDS[match.field] || match.field;
  const line = el('span', { class: 'snippet' }, el('span', { class: 'snippet-field' }, field));
  const first = match.parts.findIndex((part) => part.hit);
  // Spaces at the end of the cut-at-start box would collapse: keep them as no-break spaces.
  const lead = match.parts.slice(0, Math.max(first, 0)).map((part) => part.text).join('').replace(/\s+$/, (gap) => '\u00a0'.repeat(gap.length));
  if (lead) line.append(el('span', { class: 'snippet-lead-box' }, el('span', { class: 'snippet-lead' }, lead)));
  if (first >= 0) line.append(el('mark', { class: 'snippet-hit' }, match.parts[first].text));
  const rest = el('span', { class: 'snippet-rest' });
  for (const part of match.parts.slice(first < 0 ? 0 : first + 1)) {
    // Likewise the spaces at the start of the rest, after the hit.
    const text = rest.firstChild ? part.text : part.text.replace(/^\s+/, (gap) => '\u00a0'.repeat(gap.length));
    rest.append(part.hit ? el('mark', {}, text) : document.createTextNode(text));
  }
  if (rest.firstChild) line.append(rest);
  const plain = match.parts.map((part) => part.text).join('');
  line.title = plain;
  return { line, text: `Matched in ${field.toLowerCase()}: ${plain}` };
}

function summaryCell(item) {
  const body = el('span', { class: 'summary-body' });
  const about = [];
  if (present(item.summary)) {
    body.append(el('span', { class: 'summary-line', title: item.summary }, item.summary));
    about.push(item.summary);
  } else body.append(nil());
  if (item.match) {
    const { line, text } = snippet(item.match);
    body.append(line);
    about.push(text);
  }
  const cell = td('summary', body);
  if (about.length) {
    cell.append(peekButton(
      { class: 'icon-btn peek peek-more', 'aria-label': item.match ? 'Full summary and why it matched' : 'Full summary' },
      about.join('\n\n'),
      icon('more'),
    ));
  }
  return cell;
}

function timeCell(name, iso, text) {
  return td(name, el('time', { datetime: iso, title: localFull(iso) }, text));
}

function typeCell(item, ctx) {
  return td('type', el('span', { class: 'type' }, icon(item.channel), el('span', { class: 'type-label' }, ctx.channelLabels[item.channel] || item.channel)));
}

export function buildRow(item, ctx) {
  const date = localDate(item.created_at);
  const time = localTime(item.created_at);
  const row = el('tr', { role: 'row', 'data-id': item.id, 'data-url': item.url });
  if (item.match) {
    row.classList.add('has-match');
    row.dataset.match = JSON.stringify(item.match);
  }
  row.append(
    copyCell(item, ctx, date, time),
    playCell(item, ctx),
    agentCell(item),
    callerCell(item),
    textCell('name', item.caller_name),
    textCell('number', item.agent_number),
    directionCell(item, ctx),
    statusCell(item),
    summaryCell(item),
    textCell('duration', formatDuration(item.duration_seconds)),
    timeCell('date', item.created_at, date),
    timeCell('time', item.created_at, time),
    typeCell(item, ctx),
  );
  return row;
}

/** Cells holding every value a fixed-vocabulary column can show, built as the rows build them,
 * for columns.js to measure in the font the page renders. ``durations`` are extra seconds to
 * hold (the longest seen so far). */
export function sampleCells(ctx, durations = []) {
  const year = new Date().getFullYear();
  const dates = [];
  for (let month = 0; month < 12; month += 1) dates.push(new Date(year, month, 28, 12, 58).toISOString());
  for (let hour = 0; hour < 24; hour += 1) dates.push(new Date(year, 0, 28, hour, 58).toISOString());
  const item = { created_at: dates[0], has_recording: false };
  return {
    number: [textCell('number', '+000000000000000')], // E.164: 15 digits at most; email addresses ellipsize
    dir: Object.keys(ctx.directionLabels).map((direction) => directionCell({ ...item, direction }, ctx)),
    status: [...ctx.statuses, 'deleted'].map((status) => statusCell({ ...item, status })),
    duration: [35999, ...durations].map((s) => textCell('duration', formatDuration(s))),
    date: dates.map((iso) => timeCell('date', iso, localDate(iso))),
    time: dates.map((iso) => timeCell('time', iso, localTime(iso))),
    type: Object.keys(ctx.channelLabels).map((channel) => typeCell({ ...item, channel }, ctx)),
  };
}

/** Whether ``a`` comes before ``b`` in the list: newest first by created_at, then by id (ids
 * are decimal strings too long for a Number). */
export function newerThan(a, b) {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return ta > tb;
  return a.id.length !== b.id.length ? a.id.length > b.id.length : a.id > b.id;
}

/** Bring a row shown to ``item`` as it is now, cell by cell, leaving alone the cells that did not
 * change, the copy button (it may be showing its tooltip), a play button in use and a cell
 * holding the focus. Returns whether anything changed. */
export function updateRow(row, item, ctx) {
  // The stream cannot search: keep the line saying why the row matched.
  const match = row.dataset.match ? JSON.parse(row.dataset.match) : undefined;
  const fresh = buildRow({ ...item, match }, ctx);
  let changed = false;
  [...fresh.children].forEach((cell, index) => {
    const current = row.children[index];
    if (index === at('copy')) {
      const [was, now] = [current, cell].map((c) => c.querySelector('.row-link'));
      if (was.textContent !== now.textContent) was.replaceChildren(...now.childNodes);
      return;
    }
    if (current.contains(document.activeElement)) return;
    if (index === at('play') && current.querySelector('[aria-pressed="true"]')) return;
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
  const link = row.querySelector('.row-link');
  link?.removeAttribute('href');
  link?.setAttribute('aria-disabled', 'true');
  row.children[at('status')].replaceChildren(el('span', { class: 'pill s-deleted' }, 'Deleted'));
}
