// How many conversations match the inbox's filters, from GET /core/conversations/count: a request
// of its own, so the first page of rows never waits for it, and aborted when the filters change
// before it answers, so an old count never lands under new filters.

export function matchCounter(node, headers) {
  let controller = null;

  function show(state, text, title = '') {
    node.dataset.state = state;
    node.textContent = text;
    node.title = title;
  }

  return {
    async refresh(params) {
      controller?.abort();
      controller = new AbortController();
      const { signal } = controller;
      show('counting', 'Counting…');
      try {
        const response = await fetch(`/core/conversations/count?${params}`, {
          headers: headers(),
          credentials: 'same-origin',
          signal,
        });
        if (!response.ok) throw new Error(`The server answered ${response.status}.`);
        const body = await response.json();
        if (signal.aborted) return;
        const number = body.count.toLocaleString();
        if (body.exact) show('exact', `${number} conversation${body.count === 1 ? '' : 's'}`);
        else show('capped', `${number}+ conversations`, `More than ${number} match; counting stops there.`);
      } catch (error) {
        if (signal.aborted || error.name === 'AbortError') return;
        show('failed', 'Count unavailable', error.message);
      }
    },
  };
}
