// GraphiQL 4's markup fails a few accessibility checks that boletin's browser tests hold every page to (axe-core,
// serious and critical): CodeMirror's hidden text areas have no label, its scroll areas take no keyboard focus,
// and each tab is a `role="tab"` element holding two buttons. These patches fix the markup as React renders it
// (a MutationObserver re-applies them after every render) and touch nothing else.

const EDITOR_LABELS = [
  ['.graphiql-query-editor textarea', 'Query editor'],
  ['.graphiql-editor-tool .graphiql-editor:nth-of-type(1) textarea', 'Variables editor'],
  ['.graphiql-editor-tool .graphiql-editor:nth-of-type(2) textarea', 'Headers editor'],
  ['.result-window textarea', 'Response'],
];

function set(element, name, value) {
  if (value === null) {
    if (element.hasAttribute(name)) element.removeAttribute(name);
  } else if (element.getAttribute(name) !== value) {
    element.setAttribute(name, value);
  }
}

function patch(root) {
  for (const [selector, label] of EDITOR_LABELS) {
    for (const textarea of root.querySelectorAll(selector)) set(textarea, 'aria-label', label);
  }
  for (const scroll of root.querySelectorAll('.CodeMirror-scroll')) set(scroll, 'tabindex', '0');
  // A list of buttons, the open one marked current, instead of tabs that contain buttons.
  for (const list of root.querySelectorAll('.graphiql-tabs[role="tablist"]')) set(list, 'role', null);
  for (const tab of root.querySelectorAll('.graphiql-tab')) {
    const open = tab.classList.contains('graphiql-tab-active');
    set(tab, 'role', null);
    set(tab, 'aria-selected', null);
    const button = tab.querySelector('.graphiql-tab-button');
    if (button) set(button, 'aria-current', open ? 'true' : null);
  }
}

/** Keeps `root`'s GraphiQL markup patched from now on. */
export function keepAccessible(root) {
  patch(root);
  new MutationObserver(() => patch(root)).observe(root, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ['role', 'aria-selected', 'class'],
  });
}
