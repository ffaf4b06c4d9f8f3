// <details> menus close on Escape and on a click elsewhere, like any dropdown.

function openMenus() {
  return document.querySelectorAll('details.menu[open], details.multi[open]');
}

document.addEventListener('click', (event) => {
  for (const menu of openMenus()) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  for (const menu of openMenus()) {
    menu.open = false;
    menu.querySelector('summary')?.focus();
  }
});
