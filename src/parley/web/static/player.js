// One <audio> element for the whole table, so only one recording plays at a time. The row whose
// recording is loaded shows a strip under its cells: elapsed / total and a seek bar.

import { el, setIcon } from './dom.js';
import { formatOffset } from './format.js';

const clock = (seconds) => formatOffset(Number.isFinite(seconds) ? seconds * 1000 : 0);

export function createPlayer(audio, announce) {
  let current = null; // the play button of the recording loaded in the audio element

  const seek = el('input', {
    type: 'range', class: 'seek', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Seek', tabindex: '-1',
  });
  const time = el('span', { class: 'player-time', 'aria-hidden': 'true' }, '00:00 / 00:00');
  const strip = el('td', { class: 'c-player', role: 'gridcell' }, el('span', { class: 'player-strip' }, time, seek));
  let dragging = false;

  function show(button, playing) {
    button.classList.toggle('playing', playing);
    button.setAttribute('aria-pressed', String(playing));
    button.setAttribute('aria-label', playing ? 'Pause recording' : 'Play recording');
    button.title = playing ? 'Pause' : 'Play recording';
    setIcon(button.querySelector('svg'), playing ? 'pause' : 'play');
  }

  function progress() {
    const total = Number.isFinite(audio.duration) ? audio.duration : 0;
    seek.max = String(Math.max(total, 0));
    if (!dragging) seek.value = String(audio.currentTime);
    time.textContent = `${clock(audio.currentTime)} / ${clock(total)}`;
    seek.setAttribute('aria-valuetext', `${clock(audio.currentTime)} of ${clock(total)}`);
  }

  function failed() {
    if (!current) return;
    show(current, false);
    current.classList.add('failed');
    current.title = 'The recording could not be played';
    strip.remove();
    announce('The recording could not be played.');
  }

  audio.addEventListener('play', () => current && show(current, true));
  audio.addEventListener('pause', () => current && show(current, false));
  audio.addEventListener('ended', () => current && show(current, false));
  audio.addEventListener('error', () => { if (audio.getAttribute('src')) failed(); });
  for (const name of ['timeupdate', 'durationchange', 'loadedmetadata', 'seeked']) audio.addEventListener(name, progress);

  seek.addEventListener('input', () => {
    audio.currentTime = Number(seek.value);
    progress();
  });
  seek.addEventListener('pointerdown', () => { dragging = true; });
  seek.addEventListener('pointerup', () => { dragging = false; });

  return {
    toggle(button, url, beforeLoad) {
      if (current === button) {
        if (audio.paused) audio.play().catch(failed);
        else audio.pause();
        return;
      }
      if (current) {
        audio.pause();
        show(current, false);
      }
      current = button;
      current.classList.remove('failed');
      beforeLoad();
      audio.src = url;
      seek.value = '0';
      seek.max = '0';
      progress();
      const row = button.closest('tr');
      row.append(strip);
      row.classList.add('has-player');
      for (const other of document.querySelectorAll('tr.has-player')) if (other !== row) other.classList.remove('has-player');
      audio.play().catch((error) => { if (error.name !== 'AbortError') failed(); });
    },
    /** Stop and forget: the rows are about to be replaced. */
    reset() {
      current = null;
      strip.remove();
      audio.pause();
      audio.removeAttribute('src');
      audio.load();
    },
  };
}
