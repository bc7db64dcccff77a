// HttpNotify, written in JavaScript: Helix's MasterSlave state model that
// tells its application about every transition.
//
// It behaves like the Rust `http-notify` plugin for `NOTIFY_URL`: on each
// legal transition it POSTs `{"partition":…,"from":…,"to":…}` (JSON) to the
// resource config's `NOTIFY_URL` (an `http://` URL; `{host}` and `{port}`
// are the calling instance's, from its name `host_port`), and a status other
// than 2xx — or the host denying the address (no grant of the participant
// covers it), or a refused connection — fails the transition (`fatal`: the
// partition goes to ERROR, with the reason). Without `NOTIFY_URL` the
// transition just succeeds.
//
// `strand-plugin.toml` here says `imports = ["wasi:http"]`, so the build
// keeps componentize-js's `fetch`, which goes through
// `wasi:http/outgoing-handler`. `transition` is async: componentize-js runs
// the event loop until its promise settles and returns the value (a
// rejection is the `err` case).

import { log } from 'strand:host/log@0.1.0';
import { update } from 'strand:statemodel/customized-state@0.1.0';

const NAME = 'HttpNotify';
const VERSION = '0.1.0+js';
const INITIAL = 'OFFLINE';
const CUSTOMIZED_STATE_TYPE_KEY = 'strand.customized-state-type';

const STATES = [
  ['MASTER', { tag: 'number', val: 1 }],
  ['SLAVE', { tag: 'replicas' }],
  ['OFFLINE', { tag: 'unbounded' }],
  ['DROPPED', { tag: 'unbounded' }],
  ['ERROR', { tag: 'unbounded' }],
];

const TRANSITIONS = [
  ['MASTER', 'SLAVE'],
  ['SLAVE', 'MASTER'],
  ['OFFLINE', 'SLAVE'],
  ['SLAVE', 'OFFLINE'],
  ['OFFLINE', 'DROPPED'],
];

// A listed transition, or one Helix adds implicitly out of ERROR.
function isLegal(from, to) {
  return (
    TRANSITIONS.some(([f, t]) => f === from && t === to) ||
    (from === 'ERROR' && (to === INITIAL || to === 'DROPPED'))
  );
}

// `{host}` and `{port}` replaced by the instance's (`host_port`).
function fillIn(template, instance) {
  const i = instance.lastIndexOf('_');
  const [host, port] = i < 0 ? [instance, ''] : [instance.slice(0, i), instance.slice(i + 1)];
  return template.replaceAll('{host}', host).replaceAll('{port}', port);
}

// POSTs `body` as JSON; the status (2xx), or throws why not.
async function postJson(url, body) {
  if (!url.startsWith('http://')) {
    throw new Error('only http:// URLs are supported');
  }
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
  } catch (e) {
    // A denied request (HttpRequestDenied) or a refused connection.
    throw new Error(`request failed: ${e && e.message ? e.message : String(e)}`);
  }
  if (!response.ok) {
    throw new Error(`status ${response.status}`);
  }
  return response.status;
}

export const model = {
  definition() {
    return {
      name: NAME,
      version: VERSION,
      states: STATES.map(([name, count]) => ({ name, count })),
      transitions: TRANSITIONS.map(([fromState, toState]) => ({ fromState, toState })),
      initialState: INITIAL,
    };
  },

  async transition(ctx) {
    const { fromState: from, toState: to } = ctx;
    if (!isLegal(from, to)) {
      const msg = `${NAME} does not allow ${from}->${to} (${ctx.resource}/${ctx.partition})`;
      log('warn', msg);
      throw { tag: 'illegal-transition', val: msg };
    }
    const config = new Map(ctx.config);
    let note = '';
    if (config.has('NOTIFY_URL')) {
      const url = fillIn(config.get('NOTIFY_URL'), ctx.instance);
      const body = JSON.stringify({ partition: ctx.partition, from, to });
      let status;
      try {
        status = await postJson(url, body);
      } catch (e) {
        throw { tag: 'fatal', val: `POST ${url}: ${e.message}` };
      }
      note = `POST ${url}: ${status}`;
      log('info', `${ctx.partition}: ${note}`);
    }
    const stateType = config.get(CUSTOMIZED_STATE_TYPE_KEY);
    if (stateType !== undefined) {
      const fields = [
        ['CURRENT_STATE', to],
        ['PLUGIN_VERSION', VERSION],
      ];
      try {
        update(stateType, ctx.resource, ctx.partition, fields);
      } catch (e) {
        const reason = e && e.payload !== undefined ? JSON.stringify(e.payload) : String(e);
        throw { tag: 'retryable', val: `customized state: ${reason}` };
      }
    }
    return note;
  },
};
