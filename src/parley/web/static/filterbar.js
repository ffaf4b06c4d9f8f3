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
  const agentMenu = document.getElementById('f-agent-options');
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
    form.elements.direction.closest('.field').classList.toggle('is-set', Boolean(filters.direction));
    for (const [name, on] of [
      ['agent_version', filters.agent_version], ['user_id', filters.user_id],
      ['has_recording', filters.has_recording], ['successful', filters.successful],
      ['tags', filters.tag.length], ['ended_reason', filters.ended_reason],
    ]) {
      form.elements[name]?.closest('.field').classList.toggle('is-set', Boolean(on));
    }
    // A version belongs to an agent: the field waits for one to be chosen.
    form.elements.agent_version.disabled = filters.agent_id.length === 0;
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

  function agentBox(id) {
    return agentMenu.querySelector(`input[value="${CSS.escape(id)}"]`);
  }

  /** One box in the agent menu; its label is the agent's name once the list is in. */
  function ensureAgentOption(id, name = `Agent ${id}`) {
    const known = agentBox(id);
    if (known) {
      known.nextElementSibling.textContent = name;
      return;
    }
    agentMenu.append(el('label', {}, el('input', { type: 'checkbox', name: 'agent_id', value: id }), el('span', {}, name)));
  }

  function show() {
    // The agent filter keeps the ids of the URL even before (or without) the agent list.
    for (const id of filters.agent_id) if (!agentBox(id)) ensureAgentOption(id);
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
      for (const agent of body.data) ensureAgentOption(agent.id, agent.name);
      for (const details of form.querySelectorAll('details.multi')) describeMulti(details);
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
