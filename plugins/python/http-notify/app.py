"""HttpNotify, written in Python: Helix's MasterSlave state model that tells
its application about every transition.

It behaves like the Rust `http-notify` plugin for `NOTIFY_URL`: on each
legal transition it POSTs `{"partition":…,"from":…,"to":…}` (JSON) to the
resource config's `NOTIFY_URL` (an `http://` URL; `{host}` and `{port}` are
the calling instance's, from its name `host_port`), and a status other than
2xx — or the host denying the address (`HttpRequestDenied`: no grant of the
participant covers it), or a refused connection — fails the transition
(`fatal`: the partition goes to ERROR, with the reason). Without
`NOTIFY_URL` the transition just succeeds.

`strand-plugin.toml` here says `imports = ["wasi:http"]`, so the build adds
`wasi:http/outgoing-handler` to the world; its types are
`wit_world.imports.http_types` (Strand's own stay `types`).
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import customized_state, http_types, log, outgoing_handler, types

NAME = "HttpNotify"
VERSION = "0.1.0+python"
INITIAL = "OFFLINE"
CUSTOMIZED_STATE_TYPE_KEY = "strand.customized-state-type"

STATES = [
    ("MASTER", types.CountBound_Number(1)),
    ("SLAVE", types.CountBound_Replicas()),
    ("OFFLINE", types.CountBound_Unbounded()),
    ("DROPPED", types.CountBound_Unbounded()),
    ("ERROR", types.CountBound_Unbounded()),
]

TRANSITIONS = [
    ("MASTER", "SLAVE"),
    ("SLAVE", "MASTER"),
    ("OFFLINE", "SLAVE"),
    ("SLAVE", "OFFLINE"),
    ("OFFLINE", "DROPPED"),
]


class HttpError(Exception):
    """A request that failed: denied, not sent, or answered with non-2xx."""


def post_json(url: str, body: bytes) -> int:
    """POSTs `body` as JSON to an `http://host[:port]/path` URL and blocks
    until the answer; its status (2xx), or HttpError."""
    if not url.startswith("http://"):
        raise HttpError("only http:// URLs are supported")
    rest = url[len("http://"):]
    slash = rest.find("/")
    authority, path = (rest, "/") if slash < 0 else (rest[:slash], rest[slash:])
    headers = http_types.Fields.from_list(
        [("content-type", b"application/json"), ("content-length", str(len(body)).encode())]
    )
    request = http_types.OutgoingRequest(headers)
    request.set_method(http_types.Method_Post())
    request.set_scheme(http_types.Scheme_Http())
    request.set_authority(authority)
    request.set_path_with_query(path)
    outgoing = request.body()
    try:
        future = outgoing_handler.handle(request, None)
    except Err as e:
        raise HttpError(error_name(e.value))
    # A request the host refuses closes the body: the response says why, so
    # it is read before a failed write counts.
    write_error = None
    try:
        with outgoing.write() as stream:
            for i in range(0, len(body), 4096):
                stream.blocking_write_and_flush(body[i:i + 4096])
        http_types.OutgoingBody.finish(outgoing, None)
    except Err as e:
        write_error = HttpError(f"writing the body: {e.value!r}")
    with future:
        with future.subscribe() as pollable:
            pollable.block()
        answer = future.get()
    if answer is None:
        raise HttpError("no response")
    if isinstance(answer, Err):
        raise HttpError("the response was taken twice")
    if isinstance(answer.value, Err):
        raise HttpError(error_name(answer.value.value))
    if write_error is not None:
        raise write_error
    with answer.value.value as response:
        status = response.status()
    if not 200 <= status < 300:
        raise HttpError(f"status {status}")
    return status


def error_name(code) -> str:
    """`ErrorCode_HttpRequestDenied()` -> `HttpRequestDenied`, with its data."""
    name = type(code).__name__.removeprefix("ErrorCode_")
    value = getattr(code, "value", None)
    return name if value is None else f"{name}({value!r})"


def fill_in(template: str, instance: str) -> str:
    """`{host}` and `{port}` replaced by the instance's (`host_port`)."""
    host, _, port = instance.rpartition("_")
    if not host:
        host, port = instance, ""
    return template.replace("{host}", host).replace("{port}", port)


def is_legal(from_state: str, to_state: str) -> bool:
    """A listed transition, or one Helix adds implicitly out of ERROR."""
    if (from_state, to_state) in TRANSITIONS:
        return True
    return from_state == "ERROR" and to_state in (INITIAL, "DROPPED")


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
        config = dict(ctx.config)
        note = ""
        url = config.get("NOTIFY_URL")
        if url is not None:
            url = fill_in(url, ctx.instance)
            body = json.dumps(
                {"partition": ctx.partition, "from": frm, "to": to}, separators=(",", ":")
            ).encode()
            try:
                status = post_json(url, body)
            except HttpError as e:
                raise Err(types.TransitionError_Fatal(f"POST {url}: {e}"))
            note = f"POST {url}: {status}"
            log.log(log.Level.INFO, f"{ctx.partition}: {note}")
        state_type = config.get(CUSTOMIZED_STATE_TYPE_KEY)
        if state_type is not None:
            fields = [("CURRENT_STATE", to), ("PLUGIN_VERSION", VERSION)]
            try:
                customized_state.update(state_type, ctx.resource, ctx.partition, fields)
            except Err as e:
                raise Err(types.TransitionError_Retryable(f"customized state: {e.value!r}"))
        return note
