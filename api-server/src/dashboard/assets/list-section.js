// A card that lists a project's (or the account's) things, adds one with a form and removes
// one with a button: env vars, deploy hooks and outgoing webhooks on the project page, API
// tokens on the account page. Each says what differs (texts, columns, the requests); the
// loading, the empty state, the confirm, the busy buttons and the messages are the same.

import { h, replace } from './dom.js';
import { busy, messageSlot, notice } from './layout.js';

/**
 * @template T
 * @typedef {object} ListSection
 * @property {string} titleId the heading's id (the section is labelled by it)
 * @property {string} title
 * @property {import('./dom.js').Child[]} [intro] between the heading and the list
 * @property {string} empty what the list says when there is nothing
 * @property {() => Promise<T[]>} load
 * @property {(rows: HTMLElement[]) => HTMLElement} list the table or list the rows go in
 * @property {(item: T, remove: HTMLButtonElement) => HTMLElement} row places `remove` (or leaves it out)
 * @property {{ text: string, label: (item: T) => string, confirm: (item: T) => string, run: (item: T) => Promise<unknown> }} remove
 *   `label` names the item for screen readers (and the tests); `confirm` says what removing it does
 * @property {{ label: string, fields: import('./dom.js').Child[], submit: string, create: () => Promise<string | void> }} form
 *   `create` sends the form; what it returns is shown as a success (a secret shown once, say)
 * @property {ReturnType<typeof messageSlot>} [message] shared with the rest of the card
 */

/**
 * @template T
 * @param {ListSection<T>} spec
 * @returns {{ element: HTMLElement, loaded: Promise<void>, reload: () => Promise<void> }} `loaded`: the first load, started at once
 */
export function listSection(spec) {
  const list = h('div', {});
  const message = spec.message ?? messageSlot();

  async function load() {
    try {
      const items = await spec.load();
      replace(list, items.length === 0 ? h('p', { class: 'muted', text: spec.empty }) : spec.list(items.map((item) => spec.row(item, removeButton(item)))));
    } catch (err) {
      replace(list, notice('error', /** @type {Error} */ (err).message));
    }
  }

  /** @param {T} item */
  function removeButton(item) {
    const button = h('button', { type: 'button', text: spec.remove.text, attrs: { 'aria-label': spec.remove.label(item) } });
    button.addEventListener('click', () => {
      if (!confirm(spec.remove.confirm(item))) return;
      void busy(button, message, async () => {
        await spec.remove.run(item);
        await load();
      });
    });
    return button;
  }

  const submit = h('button', { type: 'submit', text: spec.form.submit });
  const form = h(
    'form',
    {
      class: 'inline-form',
      attrs: { 'aria-label': spec.form.label },
      onSubmit: (e) => {
        e.preventDefault();
        void busy(submit, message, async () => {
          const note = await spec.form.create();
          await load();
          if (note) message.show('success', note);
        });
      },
    },
    ...spec.form.fields,
    submit,
  );

  const element = h(
    'section',
    { class: 'card', attrs: { 'aria-labelledby': spec.titleId } },
    h('h2', { id: spec.titleId, text: spec.title }),
    ...(spec.intro ?? []),
    list,
    form,
    message.element,
  );
  return { element, loaded: load(), reload: load };
}
