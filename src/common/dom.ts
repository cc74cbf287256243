/**
 * DOM helpers for the views.
 */

/**
 * Attributes that make an element a polite live region: screen readers announce its
 * changes when the user is idle.
 */
export const LIVE_STATUS: Readonly<Record<string, string>> = {
  role: 'status',
  'aria-live': 'polite'
};

/**
 * A new element with a class and attributes.
 */
export function createElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  attributes: Readonly<Record<string, string>> = {}
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  setAttributes(element, attributes);
  return element;
}

export function setAttributes(
  element: Element,
  attributes: Readonly<Record<string, string>>
): void {
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, value);
  }
}
