//! `wasi:io` waits bounded by the call's deadline.
//!
//! Epoch interruption stops guest code, not a host function the guest is
//! blocked in: with wasmtime-wasi's synchronous bindings, `poll`,
//! `pollable.block` and the `blocking-*` stream methods wait inside the host
//! for as long as the thing waited on takes — a socket whose peer never
//! answers, an HTTP response that never comes, a long sleep. This module
//! replaces exactly those functions in the linker with versions that wait at
//! most until [`HostState::deadline_at`]; a wait that reaches the deadline
//! traps with [`wasmtime::Trap::Interrupt`], which the host reports as the
//! call's timeout (and drops the store, closing its sockets). Everything
//! else delegates to wasmtime-wasi's own implementation on the store's
//! resource table.
//!
//! [`HostState::deadline_at`]: crate::HostState

use std::future::Future;
use std::time::Instant;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::io::{poll as apoll, streams as astreams};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, StreamError, StreamResult};
use wasmtime_wasi::runtime::in_tokio;

use crate::state::HostState;

/// The resource table of a store with its running call's deadline.
pub(crate) struct BoundedIo<'a> {
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) deadline: Option<Instant>,
}

struct Bounded;

impl HasData for Bounded {
    type Data<'a> = BoundedIo<'a>;
}

/// Replaces wasmtime-wasi's blocking `wasi:io` functions in `linker` (which
/// must already hold them) with the deadline-bounded ones.
pub(crate) fn shadow_blocking_io(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    poll::add_to_linker::<HostState, Bounded>(linker, HostState::bounded_io)?;
    streams::add_to_linker::<HostState, Bounded>(linker, HostState::bounded_io)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl BoundedIo<'_> {
    /// Runs `f` to completion or until the deadline, whichever is first.
    fn wait<T>(deadline: Option<Instant>, f: impl Future<Output = T>) -> Option<T> {
        in_tokio(async move {
            match deadline {
                Some(at) => tokio::time::timeout_at(at.into(), f).await.ok(),
                None => Some(f.await),
            }
        })
    }
}

fn interrupted() -> wasmtime::Error {
    wasmtime::Trap::Interrupt.into()
}

fn stream_interrupted() -> StreamError {
    StreamError::Trap(interrupted())
}

impl poll::Host for BoundedIo<'_> {
    fn poll(&mut self, list: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        let table = &mut *self.table;
        Self::wait(self.deadline, apoll::Host::poll(table, list))
            .unwrap_or_else(|| Err(interrupted()))
    }
}

impl poll::HostPollable for BoundedIo<'_> {
    fn ready(&mut self, p: Resource<DynPollable>) -> wasmtime::Result<bool> {
        poll::HostPollable::ready(self.table, p)
    }

    fn block(&mut self, p: Resource<DynPollable>) -> wasmtime::Result<()> {
        let table = &mut *self.table;
        Self::wait(self.deadline, apoll::HostPollable::block(table, p))
            .unwrap_or_else(|| Err(interrupted()))
    }

    fn drop(&mut self, p: Resource<DynPollable>) -> wasmtime::Result<()> {
        poll::HostPollable::drop(self.table, p)
    }
}

impl streams::Host for BoundedIo<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.table, err)
    }
}

impl streams::HostInputStream for BoundedIo<'_> {
    fn drop(&mut self, s: Resource<DynInputStream>) -> wasmtime::Result<()> {
        streams::HostInputStream::drop(self.table, s)
    }

    fn read(&mut self, s: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        streams::HostInputStream::read(self.table, s, len)
    }

    fn blocking_read(&mut self, s: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostInputStream::blocking_read(table, s, len),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }

    fn skip(&mut self, s: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        streams::HostInputStream::skip(self.table, s, len)
    }

    fn blocking_skip(&mut self, s: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostInputStream::blocking_skip(table, s, len),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }

    fn subscribe(
        &mut self,
        s: Resource<DynInputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostInputStream::subscribe(self.table, s)
    }
}

impl streams::HostOutputStream for BoundedIo<'_> {
    fn drop(&mut self, s: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        streams::HostOutputStream::drop(self.table, s)
    }

    fn check_write(&mut self, s: Resource<DynOutputStream>) -> StreamResult<u64> {
        streams::HostOutputStream::check_write(self.table, s)
    }

    fn write(&mut self, s: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        streams::HostOutputStream::write(self.table, s, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        s: Resource<DynOutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostOutputStream::blocking_write_and_flush(table, s, bytes),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }

    fn flush(&mut self, s: Resource<DynOutputStream>) -> StreamResult<()> {
        streams::HostOutputStream::flush(self.table, s)
    }

    fn blocking_flush(&mut self, s: Resource<DynOutputStream>) -> StreamResult<()> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostOutputStream::blocking_flush(table, s),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }

    fn subscribe(
        &mut self,
        s: Resource<DynOutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        streams::HostOutputStream::subscribe(self.table, s)
    }

    fn write_zeroes(&mut self, s: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        streams::HostOutputStream::write_zeroes(self.table, s, len)
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        s: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostOutputStream::blocking_write_zeroes_and_flush(table, s, len),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }

    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        streams::HostOutputStream::splice(self.table, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        let table = &mut *self.table;
        Self::wait(
            self.deadline,
            astreams::HostOutputStream::blocking_splice(table, dst, src, len),
        )
        .unwrap_or_else(|| Err(stream_interrupted()))
    }
}
