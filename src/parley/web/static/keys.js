// The table's one tab stop (a roving tabindex): Tab enters the table on one control and leaves
// it on the next Tab, however many rows are loaded. Inside, ↑/↓ move between rows (to the same
// column where the other row has a control there, else to its link), ←/→ and Home/End between
// the controls of a row (a seek bar keeps its arrows). Enter and Space do what they do on a link
// or a button.

const CONTROLS = 'a.row-link, a[href], button, input';

/** The controls of a row the reader can see (the card layout hides some), in order. */
function controls(row) {
  return [...row.querySelectorAll(CONTROLS)].filter((node) => node.getClientRects().length);
}

function neighbour(row, forward) {
  const sibling = forward ? row.nextElementSibling : row.previousElementSibling;
  if (sibling) return sibling;
  let page = forward ? row.parentElement.nextElementSibling : row.parentElement.previousElementSibling;
  while (page && page.tagName === 'TBODY' && !page.firstElementChild) {
    page = forward ? page.nextElementSibling : page.previousElementSibling;
  }
  if (!page || page.tagName !== 'TBODY') return null;
  return forward ? page.firstElementChild : page.lastElementChild;
}

export function rovingRows(grid) {
  let stop = null; // the control holding tabindex 0

  function hold(control) {
    if (stop === control) return;
    if (stop) stop.tabIndex = -1;
    stop = control;
    stop.tabIndex = 0;
  }

  function move(control) {
    if (!control) return;
    hold(control);
    control.focus();
  }

  grid.addEventListener('focusin', (event) => {
    const row = event.target.closest('tbody tr');
    if (row && event.target.matches(CONTROLS)) hold(event.target);
  });

  grid.addEventListener('keydown', (event) => {
    const row = event.target.closest('tbody tr');
    if (!row || !event.target.matches(CONTROLS) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.matches('input')) return; // a seek bar needs its arrows; Tab leaves it
    const own = controls(row);
    const index = own.indexOf(event.target);
    let next = null;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const other = neighbour(row, event.key === 'ArrowDown');
      if (other) {
        const cell = event.target.closest('td');
        const column = [...row.children].indexOf(cell);
        const place = controls(cell).indexOf(event.target);
        const there = other.children[column] ? controls(other.children[column]) : [];
        next = there[place] || there[0] || other.querySelector('.row-link');
      }
    } else if (event.key === 'ArrowRight') next = own[index + 1];
    else if (event.key === 'ArrowLeft') next = own[index - 1];
    else if (event.key === 'Home') next = own[0];
    else if (event.key === 'End') next = own[own.length - 1];
    else return;
    event.preventDefault(); // the scroller would scroll too
    move(next);
  });

  return {
    /** After rows came or went: keep one tab stop, on the first row if the old one left. */
    settle() {
      if (stop && stop.isConnected) return;
      stop = null;
      const first = grid.querySelector('tbody tr .row-link');
      if (first) hold(first);
    },
    /** Put the focus on a row's link, as if the reader had moved there. */
    focusRow(row) {
      const link = row.querySelector('.row-link');
      if (!link) return;
      hold(link);
      link.focus({ preventScroll: true });
    },
  };
}
