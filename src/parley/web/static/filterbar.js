// The filter form of the inbox and the Live page: it shows the filters of the page URL, keeps
// the URL in step as they change (a view can be bookmarked; Back goes to the previous one), and
// tells the page when they did.

import { el } from './dom.js';
import { countActive, emptyFilters, fromForm, fromUrl, sameFilters, toForm, toUrl } from './filters.js';

/**
 * options:
 *   org, multiOrg   the page's org (named in the URL when the user has several)
 *   headers()       the headers of an API request
 *   normalise(f)    what this page makes of filters read from a URL (e.g. drops a search)
 *   pageParams()    more [name, value] pairs for the page URL (e.g. a selected conversation)
 *   onChange(f)     the filters changed (by the form, Clear, or Back/Forward)
 *   onReflect(f)    after the form shows new filters (e.g. to update an export link)
 */
export function filterBar(form, options) {
  const clearButton = document.getElementById('clear-filters');
  const toggle = document.getElementById('filters-toggle');
  const fields = document.getElementById('filter-fields');
  const badge = document.getElementById('filter-count');
  const agentSelect = document.getElementById('f-agent');
  const search = form.elements.q || null;
  const normalise = options.normalise || ((f) => f);
  const pageParams = options.pageParams || (() => []);

  let filters = readUrl();

  function readUrl() {
    return normalise(fromUrl(new URLSearchParams(location.search)));
  }

  function describeMulti(details) {
    const checked = [...details.querySelectorAll('input:checked')];
    const value = details.querySelector('.multi-value');
    if (checked.length === 0) value.textContent = 'Any';
    else if (checked.length === 1) value.textContent = checked[0].parentElement.textContent.trim();
    else value.textContent = `${checked.length} selected`;
    details.classList.toggle('is-set', checked.length > 0);
  }

  function reflect() {
    for (const details of form.querySelectorAll('details.multi')) describeMulti(details);
    agentSelect.closest('.field').classList.toggle('is-set', Boolean(filters.agent_id));
    form.elements.direction.closest('.field').classList.toggle('is-set', Boolean(filters.direction));
    form.elements.from.closest('.field').classList.toggle('is-set', Boolean(filters.from || filters.to));
    form.elements.min_minutes.closest('.field').classList.toggle(
      'is-set', filters.min_duration !== null || filters.max_duration !== null);
    form.elements.to.min = filters.from;
    form.elements.from.max = filters.to;
    const active = countActive(filters);
    clearButton.hidden = active === 0 && !filters.q;
    badge.hidden = active === 0;
    badge.textContent = String(active);
    options.onReflect?.(filters);
  }

  function pageUrl() {
    const query = toUrl(filters, options.multiOrg ? options.org : '');
    for (const [name, value] of pageParams()) query.set(name, value);
    const text = query.toString();
    return `${location.pathname}${text ? `?${text}` : ''}`;
  }

  /** The agent filter keeps an id from the URL even before (or without) the agent list. */
  function ensureAgentOption(id) {
    if (id && ![...agentSelect.options].some((option) => option.value === id)) {
      agentSelect.append(el('option', { value: id }, `Agent ${id}`));
    }
  }

  function show() {
    ensureAgentOption(filters.agent_id);
    toForm(form, filters);
    reflect();
  }

  function apply(next) {
    if (sameFilters(next, filters)) return;
    filters = next;
    history.pushState(null, '', pageUrl());
    show();
    options.onChange(filters);
  }

  async function loadAgents() {
    try {
      const response = await fetch('/web/agents', { headers: options.headers(), credentials: 'same-origin' });
      if (!response.ok) return;
      const body = await response.json();
      for (const agent of body.data) {
        const known = [...agentSelect.options].find((option) => option.value === agent.id);
        if (known) known.textContent = agent.name;
        else agentSelect.append(el('option', { value: agent.id }, agent.name));
      }
    } catch {
      // The filter keeps "All agents" (and any agent from the URL); the page itself still works.
    }
  }

  let typing = null;
  form.addEventListener('input', (event) => {
    if (event.target.name !== 'q') return;
    clearTimeout(typing);
    typing = setTimeout(() => apply(fromForm(form)), 350);
  });
  form.addEventListener('change', (event) => {
    if (event.target.name === 'q') return; // handled while typing
    apply(fromForm(form));
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(typing);
    apply(fromForm(form));
  });
  clearButton.addEventListener('click', () => apply(emptyFilters()));
  toggle.addEventListener('click', () => {
    const open = fields.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  window.addEventListener('popstate', () => {
    filters = readUrl();
    show();
    options.onChange(filters);
  });
  document.addEventListener('keydown', (event) => {
    // "/" jumps to the search box, as in most inboxes.
    const typingInField = event.target instanceof HTMLElement && event.target.closest('input, select, textarea');
    if (event.key === '/' && !typingInField && search && !search.disabled) {
      event.preventDefault();
      search.focus();
    }
  });

  // The page's own URL is normalised (e.g. an ignored q for a viewer) without adding a history entry.
  history.replaceState(null, '', pageUrl());
  show();
  loadAgents();

  return {
    get current() {
      return filters;
    },
    apply,
    /** Rewrite the page URL in place, e.g. after pageParams() changed. */
    replaceUrl() {
      history.replaceState(null, '', pageUrl());
    },
  };
}
