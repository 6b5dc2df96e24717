// A small accessible menu button (WAI-ARIA menu button pattern): a button with
// aria-haspopup / aria-expanded opens a list of actions; arrow keys, Home and End move
// between them, Escape closes and gives focus back to the button, Tab closes. The list
// opens in the flow of the page (not floating), so on a phone it is never clipped by the
// panel and every item is where a tap lands.

let menuCount = 0;
const closers = new WeakMap();

// A tap or click anywhere else closes an open menu, as menus do (one listener for all).
document.addEventListener('pointerdown', (event) => {
  for (const button of document.querySelectorAll('[aria-haspopup="menu"][aria-expanded="true"]')) {
    const entry = closers.get(button);
    if (entry && !entry.menu.contains(event.target) && !button.contains(event.target)) entry.close();
  }
});

/**
 * @param {string} label the button's accessible name ("Actions for Sam")
 * @param {{verb: string, onClick: () => void, danger?: boolean, disabled?: boolean}[]} items
 * @param {{open?: boolean, onToggle?: (open: boolean) => void}} options
 * @returns {{button: HTMLButtonElement, menu: HTMLElement}}
 */
export function menuButton(label, items, { open = false, onToggle = () => {} } = {}) {
  const id = `person-menu-${++menuCount}`;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button small menu-button';
  button.setAttribute('aria-haspopup', 'menu');
  button.setAttribute('aria-controls', id);
  button.setAttribute('aria-label', label);
  button.dataset.action = 'menu';
  button.textContent = '…';

  const menu = document.createElement('div');
  menu.id = id;
  menu.className = 'person-menu';
  menu.setAttribute('role', 'menu');
  menu.setAttribute('aria-label', label);
  for (const item of items) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = item.danger ? 'menu-item danger' : 'menu-item';
    b.setAttribute('role', 'menuitem');
    b.tabIndex = -1;
    b.textContent = item.verb;
    b.dataset.action = item.verb;
    b.disabled = !!item.disabled;
    if (item.disabled) b.setAttribute('aria-disabled', 'true');
    b.addEventListener('click', () => {
      setOpen(false);
      button.focus();
      item.onClick();
    });
    menu.append(b);
  }

  const enabled = () => [...menu.querySelectorAll('[role="menuitem"]:not(:disabled)')];
  function setOpen(on) {
    button.setAttribute('aria-expanded', String(on));
    menu.hidden = !on;
    onToggle(on);
  }
  button.setAttribute('aria-expanded', String(open));
  menu.hidden = !open;

  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-expanded') !== 'true';
    setOpen(on);
    if (on) enabled()[0]?.focus();
  });
  button.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    event.preventDefault();
    setOpen(true);
    const list = enabled();
    (event.key === 'ArrowDown' ? list[0] : list[list.length - 1])?.focus();
  });
  menu.addEventListener('keydown', (event) => {
    const list = enabled();
    const at = list.indexOf(document.activeElement);
    const move = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: list.length - 1 }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      list[(move + list.length) % list.length]?.focus();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      button.focus();
    } else if (event.key === 'Tab') {
      setOpen(false);
      button.focus();
    }
  });
  closers.set(button, { menu, close: () => setOpen(false) });
  return { button, menu };
}
