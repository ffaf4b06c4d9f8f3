// A transcript kept up to date turn by turn, in the markup detail.html draws (<ol class="transcript">).
//
// Turns are keyed by seq, as the API keys them: a turn that comes again with the same seq
// replaces the one shown (a partial one is revised until it is final), so a replayed or
// reordered delivery never shows a turn twice. A final turn is never replaced, as on the
// server, so a late partial version cannot undo it. Partial turns are marked provisional.

import { el } from './dom.js';
import { formatOffset, isGuest } from './format.js';

/** Who said it, as detail.html names them. */
export function speakerNames(conversation) {
  const caller = conversation.caller_name;
  return {
    agent: conversation.agent ? conversation.agent.name : 'Agent',
    caller: caller || (isGuest(conversation.user_id) ? 'Guest' : 'Caller'),
    system: 'System',
  };
}

function sameTurn(a, b) {
  return a.speaker === b.speaker && a.text === b.text && a.offset_ms === b.offset_ms && a.final === b.final;
}

/**
 * list      the <ol class="transcript"> to fill
 * scroller  the element that scrolls it (the page's scrollingElement on the detail page)
 */
export function transcriptView(list, scroller) {
  const shown = new Map(); // seq -> { turn, node }
  let names = { agent: 'Agent', caller: 'Caller', system: 'System' };

  // Turns drawn by the server come with their seq; adopt them so updates replace, not repeat.
  for (const node of list.querySelectorAll('li[data-seq]')) {
    shown.set(Number(node.dataset.seq), {
      node,
      turn: {
        seq: Number(node.dataset.seq),
        speaker: node.dataset.speaker,
        text: node.querySelector('.turn-text').textContent,
        offset_ms: Number(node.dataset.offset),
        final: !node.classList.contains('turn-partial'),
      },
    });
  }

  function build(turn) {
    const partial = !turn.final;
    return el(
      'li',
      {
        class: `turn turn-${turn.speaker}${partial ? ' turn-partial' : ''}`,
        'data-seq': turn.seq,
        'data-speaker': turn.speaker,
        'data-offset': turn.offset_ms,
      },
      el(
        'div',
        { class: 'turn-meta' },
        el('span', { class: 'speaker' }, names[turn.speaker] || turn.speaker),
        el('span', { class: 'offset', title: 'Time since the conversation started' }, formatOffset(turn.offset_ms)),
        partial ? el('span', { class: 'partial-tag', title: 'Still being transcribed: the words may change' }, 'transcribing…') : null,
      ),
      el('p', { class: 'turn-text' }, turn.text),
    );
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 64;
  }

  /** Add or replace turns; returns how many changed. Follows the newest turn when the reader
   * was already at the end, and leaves them where they are when they scrolled up to read. */
  function upsert(turns) {
    const follow = nearBottom();
    let changed = 0;
    for (const turn of turns) {
      const current = shown.get(turn.seq);
      if (current && (current.turn.final || sameTurn(current.turn, turn))) continue;
      const node = build(turn);
      if (current) current.node.replaceWith(node);
      else {
        const after = [...shown.keys()].filter((seq) => seq > turn.seq).sort((a, b) => a - b)[0];
        if (after === undefined) list.append(node);
        else list.insertBefore(node, shown.get(after).node);
      }
      shown.set(turn.seq, { turn, node });
      changed += 1;
    }
    if (changed && follow) scroller.scrollTop = scroller.scrollHeight;
    return changed;
  }

  return {
    upsert,
    get size() {
      return shown.size;
    },
    /** Name the speakers (the caller's name may arrive after the first turns). */
    setNames(next) {
      names = next;
      for (const { node, turn } of shown.values()) {
        node.querySelector('.speaker').textContent = names[turn.speaker] || turn.speaker;
      }
    },
    clear() {
      shown.clear();
      list.replaceChildren();
    },
    scrollToEnd() {
      scroller.scrollTop = scroller.scrollHeight;
    },
  };
}
