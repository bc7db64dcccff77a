"""A state model that prints and raises, for the host's tests.

An OnlineOffline-shaped model ("Noisy", version "0.1.0+python") built with
componentize-py against Strand's WIT (world `strand:plugins/state-model`).
It writes to stdout and stderr the way careless plugin code does (`print`,
`sys.stderr.write`) in `definition` and in every transition, and its
ONLINE -> OFFLINE transition raises an uncaught `ValueError`, not the WIT
`Err` result: the host must log the output, tag it with the plugin, and put
the exception's message and traceback where operators look (`INFO`, the
log, `strand plugin check`).
"""

import sys

from wit_world import exports
from wit_world.imports import types

NAME = "Noisy"
VERSION = "0.1.0+python"

STATES = [
    ("ONLINE", types.CountBound_Replicas()),
    ("OFFLINE", types.CountBound_Unbounded()),
    ("DROPPED", types.CountBound_Unbounded()),
]

TRANSITIONS = [
    ("OFFLINE", "ONLINE"),
    ("ONLINE", "OFFLINE"),
    ("OFFLINE", "DROPPED"),
]


def leave_online(partition: str) -> str:
    """The broken shutdown path: raises instead of returning."""
    raise ValueError(f"noisy cannot leave ONLINE for {partition}")


class Model(exports.Model):
    """The exported `strand:statemodel/model` interface."""

    def definition(self) -> types.ModelDefinition:
        print(f"{NAME} {VERSION}: describing myself")
        return types.ModelDefinition(
            name=NAME,
            version=VERSION,
            states=[types.StateDef(name=n, count=c) for n, c in STATES],
            transitions=[types.TransitionDef(from_state=f, to_state=t) for f, t in TRANSITIONS],
            initial_state="OFFLINE",
        )

    def transition(self, ctx: types.TransitionContext) -> str:
        frm, to = ctx.from_state, ctx.to_state
        print(f"noisy stdout: {ctx.resource}/{ctx.partition} {frm}->{to}")
        sys.stderr.write(f"noisy stderr: {ctx.partition} {frm}->{to}\n")
        if frm == "ONLINE" and to == "OFFLINE":
            return leave_online(ctx.partition)
        return f"{NAME} {VERSION}: {frm}->{to}"
