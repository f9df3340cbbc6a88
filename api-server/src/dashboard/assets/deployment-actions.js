// A deployment's actions, for its page and for its row in the project's list: cancel while it
// runs, promote (or roll back to) a ready one, redeploy once it ended. An action that made a
// new deployment opens it; any other reports and refreshes where it was clicked.

import { post } from './api.js';
import { h } from './dom.js';
import { paths } from './endpoints.js';
import { busy } from './layout.js';
import { navigate } from './router.js';
import { isRunning } from './statuses.js';

/**
 * @typedef {import('./server-types').Deployment} Deployment
 * @typedef {object} ActionsOptions
 * @property {ReturnType<typeof import('./layout.js').messageSlot>} message where success and errors are reported
 * @property {() => Promise<void>} refresh after an action that stayed on this deployment
 * @property {string | null} promote the promote button's label, null for none (production serves it already)
 * @property {boolean} inRow in a list of deployments: each button's name carries the id (and
 *   a key that keeps keyboard focus on it across the list's refresh)
 */

/** @param {Deployment} d @param {ActionsOptions} options @returns {HTMLButtonElement[]} */
export function deploymentActions(d, options) {
  const list = [];
  if (isRunning(d.status)) list.push(actionButton(d, options, 'Cancel', 'cancel', () => post(paths.cancel(d.id))));
  if (d.status === 'READY' && options.promote) list.push(actionButton(d, options, options.promote, 'promote', () => post(paths.promote(d.id))));
  if (!isRunning(d.status)) list.push(actionButton(d, options, 'Redeploy', 'redeploy', () => post(paths.redeploy(d.id), { useBuildCache: true })));
  return list;
}

/**
 * @param {Deployment} d @param {ActionsOptions} options @param {string} label @param {string} key
 * @param {() => Promise<{ deployment: Deployment }>} run
 */
function actionButton(d, { message, refresh, inRow }, label, key, run) {
  const button = h('button', {
    type: 'button',
    text: label,
    dataset: inRow ? { focusKey: `${key}:${d.id}`, action: key } : { action: key },
    attrs: inRow ? { 'aria-label': `${label} ${d.id}` } : {},
  });
  button.addEventListener('click', () => {
    void busy(button, message, async () => {
      const reply = await run();
      if (reply.deployment.id !== d.id) {
        navigate(`/deployments/${encodeURIComponent(reply.deployment.id)}`);
        return;
      }
      message.show('success', `${label}: done.`);
      await refresh();
    });
  });
  return button;
}
