//! Running guest code where wasmtime-wasi's synchronous bindings can work.
//!
//! The sync WASI bindings (stdout flushes, polls, stream drops) drive async
//! code with `Handle::block_on` whenever a tokio runtime is current, and
//! tokio panics ("Cannot start a runtime from within a runtime") when that
//! happens on a thread that is already running the runtime: an async task,
//! or `Runtime::block_on`'s thread. A participant loading a plugin from its
//! async `main` hit exactly that the first time a Python plugin printed.
//!
//! [`off_async_runtime`] runs a closure so that cannot happen: directly
//! when no runtime is current (or on a `spawn_blocking` thread, where
//! blocking is allowed), inside `block_in_place` on a multi-threaded
//! runtime (the runtime moves its other work to another thread), and on a
//! scoped thread of its own on a current-thread runtime, where nothing may
//! block.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `f` where it may block and where WASI's sync bindings may drive
/// their own futures (see the module docs). A panic in `f` propagates.
pub(crate) fn off_async_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => f(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|scope| match scope.spawn(f).join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn can_block_on_a_handle() -> bool {
        // What wasmtime-wasi's `in_tokio` does with a current runtime.
        match Handle::try_current() {
            Ok(h) => h.block_on(async { true }),
            Err(_) => true,
        }
    }

    #[test]
    fn works_without_a_runtime() {
        assert!(off_async_runtime(can_block_on_a_handle));
    }

    #[test]
    fn works_on_a_multi_threaded_runtime_thread() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .expect("runtime");
        assert!(rt.block_on(async { off_async_runtime(can_block_on_a_handle) }));
        let spawned = rt.block_on(async {
            tokio::spawn(async { off_async_runtime(can_block_on_a_handle) }).await
        });
        assert!(matches!(spawned, Ok(true)));
    }

    #[test]
    fn works_on_a_current_thread_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        assert!(rt.block_on(async { off_async_runtime(can_block_on_a_handle) }));
    }
}
