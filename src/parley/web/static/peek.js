// What the table used to show only on hover (a full summary and why it matched, the addresses
// behind "+N", a guest's id) in one popover, opened by a button with aria-expanded: on a tap or
// click, and on keyboard focus. The button's own name already says it all to a screen reader;
// the popover is also its description while open.

export function peekPopover(grid, popover, scroller) {
  let owner = null;

  function close() {
    if (!owner) return;
    owner.setAttribute('aria-expanded', 'false');
    owner.removeAttribute('aria-describedby');
    owner = null;
    popover.hidden = true;
  }

  function open(button) {
    if (owner && owner !== button) close();
    owner = button;
    popover.textContent = button.dataset.peek;
    popover.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-describedby', popover.id);
    const box = button.getBoundingClientRect();
    const width = popover.offsetWidth;
    const left = Math.max(8, Math.min(box.left, window.innerWidth - width - 8));
    const below = box.bottom + 6 + popover.offsetHeight <= window.innerHeight;
    popover.style.left = `${left}px`;
    popover.style.top = below ? `${box.bottom + 6}px` : `${Math.max(8, box.top - 6 - popover.offsetHeight)}px`;
  }

  grid.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-peek]');
    if (!button) return;
    if (owner === button) close();
    else open(button);
  });
  grid.addEventListener('focusin', (event) => {
    const button = event.target.closest('button[data-peek]');
    if (button && button.matches(':focus-visible')) open(button);
    else if (owner && event.target !== owner) close();
  });
  grid.addEventListener('focusout', (event) => {
    if (owner && event.target === owner && !grid.contains(event.relatedTarget)) close();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && owner) close();
  });
  document.addEventListener('click', (event) => {
    if (owner && !owner.contains(event.target) && !popover.contains(event.target)) close();
  });
  scroller.addEventListener('scroll', close, { passive: true });
  window.addEventListener('resize', close);
  return { close };
}
