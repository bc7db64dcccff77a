// A state model that prints and throws, for the host's tests.
//
// An OnlineOffline-shaped model ("Noisy", version "0.1.0+js") built with
// componentize-js against Strand's WIT (world `strand:plugins/state-model`).
// It writes with console.log and console.error in `definition` and in every
// transition, and its ONLINE -> OFFLINE transition throws an `Error` (not a
// `transition-error` variant): the host must log the output, tag it with the
// plugin, and put the exception's message where operators look (`INFO`, the
// log, `strand plugin check`).

const NAME = 'Noisy';
const VERSION = '0.1.0+js';

const STATES = [
  ['ONLINE', { tag: 'replicas' }],
  ['OFFLINE', { tag: 'unbounded' }],
  ['DROPPED', { tag: 'unbounded' }],
];

const TRANSITIONS = [
  ['OFFLINE', 'ONLINE'],
  ['ONLINE', 'OFFLINE'],
  ['OFFLINE', 'DROPPED'],
];

// The broken shutdown path: throws instead of returning.
function leaveOnline(partition) {
  throw new Error(`noisy cannot leave ONLINE for ${partition}`);
}

export const model = {
  definition() {
    console.log(`${NAME} ${VERSION}: describing myself`);
    return {
      name: NAME,
      version: VERSION,
      states: STATES.map(([name, count]) => ({ name, count })),
      transitions: TRANSITIONS.map(([fromState, toState]) => ({ fromState, toState })),
      initialState: 'OFFLINE',
    };
  },

  transition(ctx) {
    const { fromState: from, toState: to } = ctx;
    console.log(`noisy stdout: ${ctx.resource}/${ctx.partition} ${from}->${to}`);
    console.error(`noisy stderr: ${ctx.partition} ${from}->${to}`);
    if (from === 'ONLINE' && to === 'OFFLINE') {
      return leaveOnline(ctx.partition);
    }
    return `${NAME} ${VERSION}: ${from}->${to}`;
  },
};
