// The detail page is drawn on the server; this shows its times in the viewer's time zone and
// makes the copy-link button work. While the conversation is still going on (data-live), it
// follows it through /core/conversations/{id}/live: status, duration, summary, times, the
// recording, and the transcript turn by turn.

import { copyText } from './clipboard.js';
import { announcer, el, pinOrgCookie } from './dom.js';
import { DASH, formatBytes, formatDuration, localDateTime, localFull, statusLabel } from './format.js';
import { liveStream, showState } from './stream.js';
import { speakerNames, transcriptView } from './transcript.js';

// After it ends, a conversation usually still gets its summary, analysis and recording; the
// page keeps listening this long for them, then lets its connection go.
const LINGER_MS = 120_000;

function showLocal(time) {
  const iso = time.getAttribute('datetime');
  time.textContent = localDateTime(iso);
  time.title = localFull(iso);
}

for (const time of document.querySelectorAll('time[data-local]')) showLocal(time);

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
document.addEventListener('play', (event) => {
  if (event.target instanceof HTMLAudioElement) pinOrgCookie(detail.dataset.org);
}, true);

// --- live ------------------------------------------------------------------------------------

const nil = () => el('span', { class: 'nil' }, DASH);

function setValue(node, value) {
  if (!node) return;
  node.replaceChildren(value === null || value === undefined || value === '' ? nil() : value);
}

function setMoment(node, iso) {
  if (!node) return;
  if (!iso) {
    setValue(node, null);
    return;
  }
  const time = el('time', { datetime: iso, 'data-local': 'datetime' });
  showLocal(time);
  node.replaceChildren(time);
}

function showRecordings(recordings) {
  const section = document.getElementById('recordings');
  const playing = [...section.querySelectorAll('audio')].some((audio) => !audio.paused);
  const shown = [...section.querySelectorAll('audio')].map((audio) => audio.getAttribute('src'));
  const wanted = recordings.map((r) => r.url);
  if (playing || JSON.stringify(shown) === JSON.stringify(wanted)) return;
  const heading = section.querySelector('h2');
  heading.textContent = recordings.length > 1 ? 'Recordings' : 'Recording';
  const figures = recordings.map((r, n) => el(
    'figure',
    { class: 'recording' },
    el('audio', { controls: true, preload: 'metadata', src: r.url }),
    el('figcaption', {}, [
      recordings.length > 1 ? `Part ${n + 1}` : null,
      formatDuration(r.duration_seconds) || DASH,
      formatBytes(r.bytes),
      r.content_type,
    ].filter(Boolean).join(' · ')),
  ));
  section.replaceChildren(heading, ...figures);
}

function followLive() {
  const id = detail.dataset.id;
  const stateNode = document.getElementById('stream-state');
  const list = document.getElementById('transcript');
  const empty = document.getElementById('transcript-empty');
  const view = list ? transcriptView(list, document.scrollingElement) : null;
  const finished = new Set(detail.dataset.finished.split(' '));
  let { status } = detail.dataset;
  let lingering = null;
  let deleted = false;

  function showTurns(turns) {
    if (!view || !Array.isArray(turns)) return;
    view.upsert(turns);
    list.hidden = view.size === 0;
    empty.hidden = view.size > 0;
  }

  function showStatus(next) {
    if (next === status) return;
    status = next;
    const pill = document.getElementById('head-status');
    pill.className = `pill s-${next}`;
    pill.textContent = statusLabel(next);
    document.getElementById('meta-status').textContent = statusLabel(next);
    announce(`Status: ${statusLabel(next)}.`);
  }

  /** The conversation as it is now (the snapshot's detail, or an event's list item). */
  function show(conversation, changes = {}) {
    showStatus(conversation.status);
    const duration = formatDuration(conversation.duration_seconds);
    setValue(document.getElementById('head-duration'), duration);
    setValue(document.getElementById('meta-duration'), duration);
    if ('summary' in conversation) setValue(document.getElementById('summary-text'), conversation.summary);
    for (const [field, node] of [['started_at', 'meta-started'], ['ended_at', 'meta-ended']]) {
      if (field in conversation) setMoment(document.getElementById(node), conversation[field]);
      else if (field in changes) setMoment(document.getElementById(node), changes[field]);
    }
    if (Array.isArray(conversation.recordings) && conversation.recordings.length) showRecordings(conversation.recordings);
    else if (conversation.recording_url && Array.isArray(changes.recordings)) {
      showRecordings([{ ...changes.recordings[0], url: conversation.recording_url }]);
    }
    if (view && conversation.agent !== undefined) view.setNames(speakerNames(conversation));
    showTurns(conversation.transcript);
    showTurns(changes.transcript);
    if (finished.has(status) && lingering === null) {
      lingering = setTimeout(() => {
        stream.close();
        stateNode.hidden = true;
      }, LINGER_MS);
    }
  }

  function gone() {
    if (deleted) return;
    deleted = true;
    stream.close();
    showState(stateNode, 'gone');
    stateNode.textContent = 'Deleted';
    const notice = el('p', { class: 'notice', role: 'alert' }, 'This conversation was deleted. What the page shows is all there was.');
    document.querySelector('.detail-main').prepend(notice);
  }

  const stream = liveStream({
    path: `/core/conversations/${encodeURIComponent(id)}/live`,
    org: detail.dataset.org,
    on: {
      snapshot(data) {
        if (data.conversation) show(data.conversation);
        else gone();
      },
      event(kind, data) {
        if (kind === 'deleted' || data.conversation === null) gone();
        else show(data.conversation, data.changes);
      },
      state(state, reason) {
        showState(stateNode, state, reason);
        if (state === 'gone') gone();
      },
    },
  });
}

if (detail.dataset.live !== undefined) followLive();
