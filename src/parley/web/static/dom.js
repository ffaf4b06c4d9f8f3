// Tiny DOM helpers. Data only ever reaches the page through textContent and attributes.

const SVG = 'http://www.w3.org/2000/svg';

/** el('span', {class: 'x', title: 't'}, 'text', childNode, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

/** An icon from the sprite in _icons.html. */
export function icon(name, className = '') {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  if (className) svg.setAttribute('class', className);
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `#i-${name}`);
  svg.append(use);
  return svg;
}

export function setIcon(svg, name) {
  svg.firstElementChild.setAttribute('href', `#i-${name}`);
}

/** Say something to screen readers through a polite live region. */
export function announcer(region) {
  return (message) => {
    region.textContent = '';
    // A fresh text node after a tick, so repeating the same message is announced again.
    setTimeout(() => { region.textContent = message; }, 30);
  };
}

/** The page's org, written back to its cookie before a navigation that relies on it (export,
 * audio): another tab may have switched orgs since this page loaded. */
export function pinOrgCookie(org) {
  const secure = location.protocol === 'https:' ? '; secure' : '';
  document.cookie = `parley_org=${encodeURIComponent(org)}; path=/; max-age=31536000; samesite=lax${secure}`;
}
