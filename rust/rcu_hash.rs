// SPDX-License-Identifier: GPL-2.0

//! A fixed-size hash table read under RCU and changed under its own lock
//! (the pattern of the kernel's `hlist_*_rcu` tables, e.g. the xfrm state
//! hash): lookups from any context without taking a lock, inserts and
//! removals from process or softirq context, removed entries freed after a
//! grace period with `call_rcu`, so that removal never sleeps.
//!
//! The caller chooses the bucket of a key (typically a seeded hash masked
//! to [`RcuHash::bits`]); the table only walks that one bucket. Using a
//! bucket that does not follow from the key cannot break memory safety,
//! only make lookups miss.
//!
//! # RCU callbacks and module unload
//!
//! Removed entries (and all entries of a dropped table) are freed by RCU
//! callbacks, i.e. by code of the module that uses the table. A module
//! using [`RcuHash`] must therefore wait for its callbacks before its code
//! goes away: keep an [`RcuBarrier`] as the last field of the module's
//! type, so that `rcu_barrier()` runs after everything else the module
//! owns has been dropped.

use crate::kernel_ext::sync_ext::SpinLockBh;
use core::marker::PhantomData;
use core::pin::Pin;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{Flags, KBox, KVVec};
use kernel::prelude::*;
use kernel::types::Opaque;

/// An entry of an [`RcuHash`].
///
/// An entry is only ever shared (`&T`, from several CPUs at once) and is
/// dropped by an RCU callback, in softirq context on any CPU: its `Drop`
/// must not sleep.
pub trait RcuHashEntry: Send + Sync {
    /// What identifies an entry; at most one entry per key is in a table.
    type Key: PartialEq;

    /// The entry's key. Must return the same key for the entry's whole life.
    fn key(&self) -> &Self::Key;
}

/// A table entry as allocated: the RCU head, the bucket's link and the
/// value.
///
/// `rcu` is the first field of a `repr(C)` struct, so that the RCU
/// callback gets the node's address back from the head's.
#[repr(C)]
struct Node<T> {
    rcu: Opaque<kernel::bindings::callback_head>,
    next: AtomicPtr<Node<T>>,
    value: T,
}

/// The most buckets a table may have (`bits` ≤ this).
pub const MAX_BITS: u32 = 20;

/// A hash table of `2^bits` buckets of singly linked lists of boxed `T`,
/// read under RCU, written under a `spin_lock_bh` lock.
///
/// The table is `Send` and `Sync` through its `PhantomData<KBox<T>>`
/// (entries are shared between CPUs and dropped on any CPU:
/// [`RcuHashEntry`] requires `T: Send + Sync`).
///
/// A module that uses it must hold an [`RcuBarrier`] (see the module
/// documentation): removed entries are freed by RCU callbacks.
///
/// # Invariants
///
/// - `buckets.len() == 1 << bits`.
/// - Every non-null pointer in a bucket head or in a node's `next` is a
///   node from `KBox::into_raw`, owned by the table, reachable from exactly
///   one place; every node reachable from a bucket is alive.
/// - Bucket heads and `next` links are only changed with `lock` held; a
///   node is published (made reachable) only after it is fully
///   initialised, with a release store, and readers load links with
///   acquire (`rcu_assign_pointer` / `rcu_dereference`).
/// - A node is freed only by [`free_node`], queued with `call_rcu` after
///   it was made unreachable (or when the table is dropped), so that a
///   reader inside an RCU read-side section never sees it freed; a node's
///   own `next` is never changed once it is unreachable.
/// - `*lock` is the number of reachable nodes.
#[pin_data(PinnedDrop)]
pub struct RcuHash<T: RcuHashEntry> {
    #[pin]
    lock: SpinLockBh<usize>,
    buckets: KVVec<AtomicPtr<Node<T>>>,
    bits: u32,
    _entries: PhantomData<KBox<T>>,
}

impl<T: RcuHashEntry> RcuHash<T> {
    /// A table of `2^bits` empty buckets (`bits` ≤ [`MAX_BITS`]; 12 gives
    /// 4096 buckets, 32 KiB), allocated with `flags`.
    pub fn new(bits: u32, flags: Flags) -> Result<impl PinInit<Self, Error>> {
        if bits > MAX_BITS {
            return Err(EINVAL);
        }
        let n = 1usize << bits;
        let mut buckets = KVVec::with_capacity(n, flags)?;
        for _ in 0..n {
            buckets.push(AtomicPtr::new(ptr::null_mut()), flags)?;
        }
        // INVARIANT: `n` empty buckets, no node, count 0.
        Ok(try_pin_init!(Self {
            lock <- crate::new_spinlock_bh!(0, "RcuHash::lock"),
            buckets,
            bits,
            _entries: PhantomData,
        }? Error))
    }

    /// The table has `2^bits` buckets.
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        *self.lock.lock()
    }

    /// Whether the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` with the entry of `key` in `bucket` (`None` if there is
    /// none, or `bucket` is out of range), inside an RCU read-side section:
    /// any context, no lock, no sleeping in `f`.
    pub fn read<R>(&self, bucket: usize, key: &T::Key, f: impl FnOnce(Option<&T>) -> R) -> R {
        // SAFETY: Nestable, callable from any context; paired below.
        unsafe { crate::kernel_ext::bindings::hbond_helper_rcu_read_lock() };
        let mut found = None;
        if let Some(head) = self.buckets.get(bucket) {
            let mut p = head.load(Ordering::Acquire);
            while !p.is_null() {
                // SAFETY: By the type invariants, a node reachable from a
                // bucket is alive and, once unlinked, is freed only after a
                // grace period; we are inside a read-side section that
                // began before we loaded `p`, and `f` is bounded by it.
                let node = unsafe { &*p };
                if node.value.key() == key {
                    found = Some(&node.value);
                    break;
                }
                p = node.next.load(Ordering::Acquire);
            }
        }
        let r = f(found);
        // SAFETY: Paired with the lock above; `found` is not used after.
        unsafe { crate::kernel_ext::bindings::hbond_helper_rcu_read_unlock() };
        r
    }

    /// Runs `f` on the entries of `bucket` in turn, inside an RCU
    /// read-side section, until it returns `Some`; returns that. Any
    /// context, no sleeping in `f`. Entries inserted or removed meanwhile
    /// may or may not be seen.
    pub fn find<R>(&self, bucket: usize, mut f: impl FnMut(&T) -> Option<R>) -> Option<R> {
        // SAFETY: Nestable, callable from any context; paired below.
        unsafe { crate::kernel_ext::bindings::hbond_helper_rcu_read_lock() };
        let mut found = None;
        if let Some(head) = self.buckets.get(bucket) {
            let mut p = head.load(Ordering::Acquire);
            while !p.is_null() {
                // SAFETY: As in `read`: a reachable node is alive until a
                // grace period after its removal, and we are in a
                // read-side section that began before we loaded `p`.
                let node = unsafe { &*p };
                found = f(&node.value);
                if found.is_some() {
                    break;
                }
                p = node.next.load(Ordering::Acquire);
            }
        }
        // SAFETY: Paired with the lock above; no entry reference outlives it.
        unsafe { crate::kernel_ext::bindings::hbond_helper_rcu_read_unlock() };
        found
    }

    /// Number of entries in `bucket` (0 if out of range): for tests and
    /// statistics.
    pub fn bucket_len(&self, bucket: usize) -> usize {
        let _guard = self.lock.lock();
        let Some(head) = self.buckets.get(bucket) else {
            return 0;
        };
        let mut n = 0;
        let mut p = head.load(Ordering::Relaxed);
        while !p.is_null() {
            n += 1;
            // SAFETY: With the lock held, every node reachable from a
            // bucket is alive and its `next` stays as it is.
            p = unsafe { &*p }.next.load(Ordering::Relaxed);
        }
        n
    }

    /// Inserts `value` in `bucket`, the node allocated with `flags`
    /// (`GFP_ATOMIC` from atomic context) before the lock is taken.
    /// Fails with `EEXIST` if `bucket` already has an entry with the same
    /// key, `EINVAL` if `bucket` is out of range, `ENOMEM`; `value` is then
    /// dropped, the table unchanged. Process or softirq context.
    pub fn insert(&self, bucket: usize, value: T, flags: Flags) -> Result {
        self.insert_or_return(bucket, value, flags)
            .map_err(|(e, _)| e)
    }

    /// [`RcuHash::insert`], giving `value` back with the error.
    pub fn insert_or_return(
        &self,
        bucket: usize,
        value: T,
        flags: Flags,
    ) -> core::result::Result<(), (Error, T)> {
        let Some(head) = self.buckets.get(bucket) else {
            return Err((EINVAL, value));
        };
        let node = match KBox::<Node<T>>::new_uninit(flags) {
            Ok(b) => b.write(Node {
                rcu: Opaque::uninit(),
                next: AtomicPtr::new(ptr::null_mut()),
                value,
            }),
            Err(_) => return Err((ENOMEM, value)),
        };
        let mut count = self.lock.lock();
        let first = head.load(Ordering::Relaxed);
        let mut p = first;
        while !p.is_null() {
            // SAFETY: With the lock held, every node reachable from a
            // bucket is alive and its `next` stays as it is.
            let n = unsafe { &*p };
            if n.value.key() == node.value.key() {
                drop(count);
                // Never published: freed right away, after the unlock.
                let node = KBox::into_inner(node);
                return Err((EEXIST, node.value));
            }
            p = n.next.load(Ordering::Relaxed);
        }
        node.next.store(first, Ordering::Relaxed);
        // INVARIANT: The node is complete before the release store makes
        // it reachable; the lock is held; the count follows.
        head.store(KBox::into_raw(node), Ordering::Release);
        *count += 1;
        Ok(())
    }

    /// Removes the entry of `key` from `bucket`, if there is one, and
    /// queues it to be dropped after a grace period (readers inside
    /// [`RcuHash::read`] may still use it until then). Returns whether
    /// there was one. Never sleeps: process or softirq context, also under
    /// other spinlocks.
    pub fn remove(&self, bucket: usize, key: &T::Key) -> bool {
        let Some(head) = self.buckets.get(bucket) else {
            return false;
        };
        let mut count = self.lock.lock();
        let mut link: &AtomicPtr<Node<T>> = head;
        loop {
            let p = link.load(Ordering::Relaxed);
            if p.is_null() {
                return false;
            }
            // SAFETY: With the lock held, every node reachable from a
            // bucket is alive; it stays alive until the callback queued
            // below runs, after a grace period that cannot end while we
            // hold a spinlock.
            let node = unsafe { &*p };
            if node.value.key() == key {
                // INVARIANT: Unlinked under the lock with a release store
                // (readers of the link see the successor's contents), the
                // node's own `next` left as it is for readers still on it,
                // freed after a grace period.
                link.store(node.next.load(Ordering::Relaxed), Ordering::Release);
                *count -= 1;
                // SAFETY: `p` is unreachable now and owned by nobody else;
                // see `free_node`.
                unsafe { queue_free(p) };
                return true;
            }
            link = &node.next;
        }
    }
}

/// Queues node `p` to be freed by [`free_node`] after a grace period.
///
/// # Safety
///
/// `p` comes from `KBox::into_raw`, is unreachable for new readers, and
/// nothing else frees it or queues it again.
unsafe fn queue_free<T>(p: *mut Node<T>) {
    // SAFETY: `p` is a live node (by the caller); its head is ours to use
    // until the callback runs, and the callback is `free_node` of the same
    // `T`, which frees `p` exactly once.
    unsafe { kernel::bindings::call_rcu((*p).rcu.get(), Some(free_node::<T>)) };
}

/// The RCU callback that frees a node.
///
/// # Safety
///
/// Only called by RCU, with the head of a node queued by [`queue_free`].
unsafe extern "C" fn free_node<T>(head: *mut kernel::bindings::callback_head) {
    // `rcu` is the first field of the `repr(C)` node, and `Opaque` is
    // `repr(transparent)`: the head's address is the node's.
    let p = head.cast::<Node<T>>();
    // SAFETY: `p` came from `KBox::into_raw` (by `queue_free`'s contract)
    // and a grace period has passed since it became unreachable: no reader
    // can hold it.
    drop(unsafe { KBox::from_raw(p) });
}

#[pinned_drop]
impl<T: RcuHashEntry> PinnedDrop for RcuHash<T> {
    fn drop(self: Pin<&mut Self>) {
        // The buckets are plain data: nothing of them is structurally
        // pinned but the lock.
        for head in self.buckets.iter() {
            let mut p = head.swap(ptr::null_mut(), Ordering::Relaxed);
            while !p.is_null() {
                // SAFETY: Being dropped, the table is not shared any more;
                // nodes reachable from it are alive and owned by it. Each
                // node is detached (its successor read first) and queued
                // once; readers that reached the table through another RCU
                // pointer are covered by the grace period.
                let next = unsafe { &*p }.next.load(Ordering::Relaxed);
                // SAFETY: `p` is owned by the table and no longer reachable
                // from it.
                unsafe { queue_free(p) };
                p = next;
            }
        }
    }
}

/// A random 32-bit number (`get_random_u32()`), e.g. a per-table hash
/// seed, so that keys chosen by a peer cannot aim at one bucket.
pub fn random_seed() -> u32 {
    // SAFETY: Callable from any context once the RNG is initialised, which
    // happens before modules load.
    unsafe { kernel::bindings::get_random_u32() }
}

/// Waits, when dropped, for every RCU callback queued so far
/// (`rcu_barrier()`): a module whose code RCU callbacks run ([`RcuHash`])
/// keeps one as the last field of its module type, so that the callbacks
/// have finished before its code is unloaded. Sleeps: process context.
pub struct RcuBarrier(());

impl RcuBarrier {
    /// The module's barrier.
    pub const fn new() -> Self {
        Self(())
    }
}

impl Default for RcuBarrier {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RcuBarrier {
    fn drop(&mut self) {
        // SAFETY: No memory-safety precondition: it waits for the RCU
        // callbacks queued so far (it sleeps: module exit is process
        // context).
        unsafe { kernel::bindings::rcu_barrier() };
    }
}
