// One <audio> element for the whole table, so only one recording plays at a time.

import { setIcon } from './dom.js';

export function createPlayer(audio, announce) {
  let current = null; // the play button of the recording loaded in the audio element

  function show(button, playing) {
    button.classList.toggle('playing', playing);
    button.setAttribute('aria-pressed', String(playing));
    button.setAttribute('aria-label', playing ? 'Pause recording' : 'Play recording');
    button.title = playing ? 'Pause' : 'Play recording';
    setIcon(button.querySelector('svg'), playing ? 'pause' : 'play');
  }

  function failed() {
    if (!current) return;
    show(current, false);
    current.classList.add('failed');
    current.title = 'The recording could not be played';
    announce('The recording could not be played.');
  }

  audio.addEventListener('play', () => current && show(current, true));
  audio.addEventListener('pause', () => current && show(current, false));
  audio.addEventListener('ended', () => current && show(current, false));
  audio.addEventListener('error', () => { if (audio.getAttribute('src')) failed(); });

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
      audio.play().catch((error) => { if (error.name !== 'AbortError') failed(); });
    },
    /** Stop and forget: the rows are about to be replaced. */
    reset() {
      current = null;
      audio.pause();
      audio.removeAttribute('src');
      audio.load();
    },
  };
}
