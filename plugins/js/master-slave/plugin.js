// Helix's built-in MasterSlave state model, written in JavaScript.
//
// Built with componentize-js against Strand's WIT (`wit/`, world
// `strand:plugins/state-model`). It behaves like the Rust `master-slave`
// plugin (plugins/sdk): one MASTER, R SLAVEs, initial state OFFLINE; it
// refuses pairs the model does not allow (except the ERROR -> OFFLINE and
// ERROR -> DROPPED transitions Helix adds), logs every transition, records
// CURRENT_STATE and PLUGIN_VERSION in the participant's customized state when
// the resource config names a type under `strand.customized-state-type`, and
// returns "MasterSlave <version>: FROM->TO" as its note.

import { log } from 'strand:host/log@0.1.0';
import { update } from 'strand:statemodel/customized-state@0.1.0';

const NAME = 'MasterSlave';
// "+js" tells this component apart from the Rust one in logs and status
// notes; the definition itself is identical.
const VERSION = '0.1.0+js';
const INITIAL = 'OFFLINE';
const CUSTOMIZED_STATE_TYPE_KEY = 'strand.customized-state-type';

// Highest priority first, with Helix's count bounds.
const STATES = [
  ['MASTER', { tag: 'number', val: 1 }],
  ['SLAVE', { tag: 'replicas' }],
  ['OFFLINE', { tag: 'unbounded' }],
  ['DROPPED', { tag: 'unbounded' }],
  ['ERROR', { tag: 'unbounded' }],
];

// Most important first.
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

// The exported `strand:statemodel/model` interface. A thrown value is the
// `err` case of `transition`'s result (a `transition-error` variant).
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

  transition(ctx) {
    const { fromState: from, toState: to } = ctx;
    if (!isLegal(from, to)) {
      const msg = `${NAME} does not allow ${from}->${to} (${ctx.resource}/${ctx.partition})`;
      log('warn', msg);
      throw { tag: 'illegal-transition', val: msg };
    }
    log('info', `${ctx.resource}/${ctx.partition}: ${from}->${to} (message ${ctx.messageId})`);
    const entry = ctx.config.find(([k]) => k === CUSTOMIZED_STATE_TYPE_KEY);
    if (entry !== undefined) {
      const fields = [
        ['CURRENT_STATE', to],
        ['PLUGIN_VERSION', VERSION],
      ];
      try {
        update(entry[1], ctx.resource, ctx.partition, fields);
      } catch (e) {
        const reason = e && e.payload !== undefined ? JSON.stringify(e.payload) : String(e);
        throw { tag: 'retryable', val: `customized state: ${reason}` };
      }
    }
    return `${NAME} ${VERSION}: ${from}->${to}`;
  },
};
