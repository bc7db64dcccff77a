"""Helix's built-in MasterSlave state model, written in Python.

Built with componentize-py against Strand's WIT (`wit/`, world
`strand:plugins/state-model`). It behaves like the Rust `master-slave`
plugin (plugins/sdk): one MASTER, R SLAVEs, initial state OFFLINE; it
refuses pairs the model does not allow (except the ERROR -> OFFLINE and
ERROR -> DROPPED transitions Helix adds), logs every transition, records
CURRENT_STATE and PLUGIN_VERSION in the participant's customized state when
the resource config names a type under `strand.customized-state-type`, and
returns "MasterSlave <version>: FROM->TO" as its note.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import customized_state, log, types

NAME = "MasterSlave"
# "+python" tells this component apart from the Rust one in logs and
# status notes; the definition itself is identical.
VERSION = "0.1.0+python"
INITIAL = "OFFLINE"
ERROR = "ERROR"
DROPPED = "DROPPED"
CUSTOMIZED_STATE_TYPE_KEY = "strand.customized-state-type"

# Highest priority first, with Helix's count bounds.
STATES = [
    ("MASTER", types.CountBound_Number(1)),
    ("SLAVE", types.CountBound_Replicas()),
    ("OFFLINE", types.CountBound_Unbounded()),
    ("DROPPED", types.CountBound_Unbounded()),
    ("ERROR", types.CountBound_Unbounded()),
]

# Most important first.
TRANSITIONS = [
    ("MASTER", "SLAVE"),
    ("SLAVE", "MASTER"),
    ("OFFLINE", "SLAVE"),
    ("SLAVE", "OFFLINE"),
    ("OFFLINE", "DROPPED"),
]


def is_legal(from_state: str, to_state: str) -> bool:
    """A listed transition, or one Helix adds implicitly out of ERROR."""
    if (from_state, to_state) in TRANSITIONS:
        return True
    return from_state == ERROR and to_state in (INITIAL, DROPPED)


class Model(exports.Model):
    """The exported `strand:statemodel/model` interface."""

    def definition(self) -> types.ModelDefinition:
        return types.ModelDefinition(
            name=NAME,
            version=VERSION,
            states=[types.StateDef(name=n, count=c) for n, c in STATES],
            transitions=[types.TransitionDef(from_state=f, to_state=t) for f, t in TRANSITIONS],
            initial_state=INITIAL,
        )

    def transition(self, ctx: types.TransitionContext) -> str:
        frm, to = ctx.from_state, ctx.to_state
        if not is_legal(frm, to):
            msg = f"{NAME} does not allow {frm}->{to} ({ctx.resource}/{ctx.partition})"
            log.log(log.Level.WARN, msg)
            raise Err(types.TransitionError_IllegalTransition(msg))
        log.log(
            log.Level.INFO,
            f"{ctx.resource}/{ctx.partition}: {frm}->{to} (message {ctx.message_id})",
        )
        state_type = next((v for k, v in ctx.config if k == CUSTOMIZED_STATE_TYPE_KEY), None)
        if state_type is not None:
            fields = [("CURRENT_STATE", to), ("PLUGIN_VERSION", VERSION)]
            try:
                customized_state.update(state_type, ctx.resource, ctx.partition, fields)
            except Err as e:
                raise Err(types.TransitionError_Retryable(f"customized state: {e.value!r}"))
        return f"{NAME} {VERSION}: {frm}->{to}"
