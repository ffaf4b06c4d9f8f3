// The table's column widths, measured in the font the page renders. Rows are grids of their own
// (see app.css), so the columns cannot size to their content; instead every value a short,
// fixed-vocabulary column can show (each status, direction, type, month, hour, the longest
// duration) is drawn once in a hidden probe built by the row code itself, and those columns get
// the widest width found. The free-text columns share the rest and ellipsize. A ResizeObserver
// on the probe measures again whenever the font changes (a web font, zoom, a user stylesheet).

import { el } from './dom.js';
import { formatDuration } from './format.js';
import { sampleCells } from './rows.js';

// Free text: [minimum px, share of the rest]. Copy and play are icon buttons.
const FREE = { agent: [80, 1.1], caller: [112, 1.2], name: [72, 1], summary: [120, 3] };
const ICONS = { copy: 40, play: 36 };
const SLACK = 2; // sub-pixel rounding between the probe and the rows

export function fitColumns(grid, ctx) {
  const header = grid.querySelector('thead tr');
  const probe = el('table', { class: 'grid grid-probe', 'aria-hidden': 'true' });
  document.body.append(probe);
  let longest = 0; // the longest duration seen in the rows, in seconds

  function build() {
    const samples = sampleCells(ctx, longest ? [longest] : []);
    const heads = el('tr', {});
    const cells = el('tr', {});
    [...header.children].forEach((th, index) => {
      const name = ctx.cells[index];
      if (!samples[name]) return;
      const head = th.cloneNode(true);
      head.dataset.column = name;
      heads.append(head);
      for (const cell of samples[name]) {
        cell.dataset.column = name;
        cells.append(cell);
      }
    });
    probe.replaceChildren(el('thead', {}, heads), el('tbody', {}, cells));
  }

  function measure() {
    const widths = {};
    for (const node of probe.querySelectorAll('[data-column]')) {
      const { column } = node.dataset;
      widths[column] = Math.max(widths[column] || 0, Math.ceil(node.getBoundingClientRect().width) + SLACK);
    }
    let fixed = 0;
    const tracks = ctx.cells.map((name) => {
      if (ICONS[name]) {
        fixed += ICONS[name];
        return `${ICONS[name]}px`;
      }
      if (FREE[name]) {
        const [least, share] = FREE[name];
        fixed += least;
        return `minmax(${least}px, ${share}fr)`;
      }
      fixed += widths[name];
      return `${widths[name]}px`;
    });
    grid.style.setProperty('--columns', tracks.join(' '));
    grid.style.setProperty('--table-min', `${fixed}px`);
  }

  build();
  measure();
  new ResizeObserver(measure).observe(probe);

  return {
    /** Rows about to be shown: a duration longer than any measured gets its width too. */
    consider(items) {
      let grew = false;
      for (const item of items) {
        const seconds = item.duration_seconds || 0;
        if (seconds > longest && formatDuration(seconds).length > formatDuration(Math.max(longest, 35999)).length) {
          longest = seconds;
          grew = true;
        }
      }
      if (grew) {
        build();
        measure();
      }
    },
  };
}
