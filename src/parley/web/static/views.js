// Saved views: named filter sets above the table, each a link to the inbox under its filters.
// Listed from GET /web/views; saving and deleting are POSTs with the login session, carrying the
// page's form token in X-CSRF-Token (the server refuses a write without it).

import { el } from './dom.js';

/**
 * options:
 *   org, multiOrg   the page's org (named in a view's link when the user has several)
 *   currentQuery()  the page's filters as a view stores them (filters.toUrl without the org)
 *   announce(text)  tell screen readers
 */
export function savedViews(root, options) {
  const tabs = root.querySelector('#view-tabs');
  const openButton = root.querySelector('#save-view');
  const form = root.querySelector('#save-view-form');
  const error = root.querySelector('#save-view-error');
  const csrf = root.dataset.csrf;
  let views = [];

  function headers(json = false) {
    const base = { Accept: 'application/json', 'X-Anyreach-Org': options.org, 'X-CSRF-Token': csrf };
    return json ? { ...base, 'Content-Type': 'application/json' } : base;
  }

  function href(view) {
    const params = new URLSearchParams(view.query);
    if (options.multiOrg) params.set('org', options.org);
    const text = params.toString();
    return `/${text ? `?${text}` : ''}`;
  }

  async function problem(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === 'string') return body.detail;
    } catch {
      // not problem+json
    }
    return `The server answered ${response.status}.`;
  }

  function draw() {
    if (!views.length) {
      tabs.replaceChildren();
      return;
    }
    const current = options.currentQuery();
    tabs.replaceChildren(
      ...views.map((view) => {
        const link = el('a', {
          class: 'view-tab', href: href(view), 'data-view': view.id,
          'aria-current': view.query === current ? 'page' : null,
          title: view.mine ? null : `Shared by ${view.owner}`,
        }, view.name);
        if (view.shared) link.append(el('span', { class: 'view-shared' }, view.mine ? ' · shared' : ` · ${view.owner}`));
        const item = el('li', { class: 'view-item' }, link);
        if (view.mine) {
          const remove = el('button', {
            type: 'button', class: 'view-delete', 'data-action': 'delete-view',
            'aria-label': `Delete view ${view.name}`, title: 'Delete this view',
          }, '×');
          remove.addEventListener('click', () => removeView(view));
          item.append(remove);
        }
        return item;
      }),
    );
  }

  async function load() {
    try {
      const response = await fetch('/web/views', { headers: headers(), credentials: 'same-origin' });
      if (!response.ok) return;
      views = (await response.json()).data;
      draw();
    } catch {
      // Saved views are a convenience: the inbox works without them.
    }
  }

  async function removeView(view) {
    const response = await fetch(`/web/views/${encodeURIComponent(view.id)}/delete`, {
      method: 'POST', headers: headers(), credentials: 'same-origin',
    });
    if (response.ok) {
      options.announce(`View ${view.name} deleted.`);
      await load();
    } else {
      options.announce(await problem(response));
    }
  }

  openButton.addEventListener('click', () => {
    form.hidden = !form.hidden;
    openButton.setAttribute('aria-expanded', String(!form.hidden));
    error.textContent = '';
    if (!form.hidden) form.elements.view_name.focus();
  });
  form.querySelector('[data-action="cancel"]').addEventListener('click', () => {
    form.hidden = true;
    openButton.setAttribute('aria-expanded', 'false');
    openButton.focus();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const name = form.elements.view_name.value;
    const body = { name, query: options.currentQuery(), shared: form.elements.view_shared.checked };
    try {
      const response = await fetch('/web/views', {
        method: 'POST', headers: headers(true), credentials: 'same-origin', body: JSON.stringify(body),
      });
      if (!response.ok) {
        error.textContent = await problem(response);
        return;
      }
      form.reset();
      form.hidden = true;
      openButton.setAttribute('aria-expanded', 'false');
      options.announce(`View ${name.trim()} saved.`);
      await load();
    } catch {
      error.textContent = 'The view could not be saved. Check your connection and try again.';
    }
  });

  load();
  return { refresh: draw };
}
