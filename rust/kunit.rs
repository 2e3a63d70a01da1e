// SPDX-License-Identifier: GPL-2.0

//! KUnit test suites declared from Rust.
//!
//! The 6.12 `kernel` crate has only `kunit_assert!` for doctests. This module
//! builds real `struct kunit_suite` tables that the KUnit core finds in the
//! module's `.kunit_test_suites` section and runs when the module is loaded,
//! reporting KTAP on the console and in debugfs like any C suite.
//!
//! ```ignore
//! fn adds(test: &Test) {
//!     kunit_expect_eq!(test, 1 + 1, 2);
//! }
//! kunit_suite!(my_suite, "my_suite", [("adds", adds)]);
//! ```

use crate::kernel_ext::bindings;
use kernel::str::CStr;

/// The KUnit test case that is running in the current task.
///
/// # Invariants
///
/// `ptr` points to the `struct kunit` of a test case that is running for at
/// least as long as this object exists.
pub struct Test {
    ptr: *mut bindings::kunit,
}

impl Test {
    /// Wraps the context KUnit passes to a test case.
    ///
    /// # Safety
    ///
    /// `ptr` must point to the `struct kunit` of the running test case and the
    /// returned object must not outlive it.
    #[doc(hidden)]
    pub unsafe fn from_raw(ptr: *mut bindings::kunit) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { ptr }
    }

    /// Marks the test case failed, with the location and the failed condition.
    ///
    /// Use the [`kunit_expect!`] family rather than calling this directly.
    #[doc(hidden)]
    pub fn fail(&self, file: &CStr, line: u32, condition: &CStr) {
        // SAFETY: `self.ptr` is the running test by the type invariant; the
        // strings are NUL-terminated and only read during the call.
        unsafe {
            bindings::hbond_helper_kunit_fail(
                self.ptr,
                file.as_char_ptr(),
                line as i32,
                condition.as_char_ptr(),
            )
        }
    }
}

/// Builds a test case table entry; used by [`kunit_suite!`].
#[doc(hidden)]
pub const fn case(
    name: &'static CStr,
    run: unsafe extern "C" fn(*mut bindings::kunit),
) -> bindings::kunit_case {
    // SAFETY: `kunit_case` is plain C data for which all-zeroes is valid
    // (null pointers, `None` callbacks).
    let mut case: bindings::kunit_case = unsafe { core::mem::zeroed() };
    case.run_case = Some(run);
    case.name = name.as_char_ptr();
    case
}

/// The terminating all-zero entry of a test case table.
#[doc(hidden)]
pub const fn case_end() -> bindings::kunit_case {
    // SAFETY: KUnit stops at the first entry whose `run_case` is null.
    unsafe { core::mem::zeroed() }
}

/// Builds a suite for `cases`, a table ending with [`case_end`].
#[doc(hidden)]
pub const fn suite(name: &'static CStr, cases: *mut bindings::kunit_case) -> bindings::kunit_suite {
    // SAFETY: `kunit_suite` is plain C data for which all-zeroes is valid.
    let mut suite: bindings::kunit_suite = unsafe { core::mem::zeroed() };
    let bytes = name.as_bytes_with_nul();
    assert!(bytes.len() <= suite.name.len(), "KUnit suite name too long");
    let mut i = 0;
    while i < bytes.len() {
        suite.name[i] = bytes[i] as _;
        i += 1;
    }
    suite.test_cases = cases;
    suite
}

/// Declares a KUnit suite made of Rust functions `fn(&Test)`.
///
/// `kunit_suite!(module_name, "suite_name", [("case", function), ...]);`
/// The suite runs when the module is loaded into a kernel with KUnit.
#[macro_export]
macro_rules! kunit_suite {
    ($module:ident, $name:literal, [$(($case:literal, $func:ident)),+ $(,)?]) => {
        #[cfg(CONFIG_KUNIT)]
        mod $module {
            use $crate::kernel_ext::kunit;

            $crate::kunit_suite!(@trampolines $(($case, $func))+);

            const N_CASES: usize = [$($case),+].len();

            static mut CASES: [$crate::kernel_ext::bindings::kunit_case; N_CASES + 1] = [
                $(kunit::case(kernel::c_str!($case), trampoline::$func)),+,
                kunit::case_end(),
            ];

            // KUnit owns the tables once the module is loaded; Rust code
            // only takes their addresses.
            static mut SUITE: $crate::kernel_ext::bindings::kunit_suite =
                kunit::suite(kernel::c_str!($name), core::ptr::addr_of_mut!(CASES) as *mut _);

            #[used]
            #[link_section = ".kunit_test_suites"]
            static mut SUITES: [*mut $crate::kernel_ext::bindings::kunit_suite; 1] =
                [core::ptr::addr_of_mut!(SUITE)];
        }
    };
    (@trampolines $(($case:literal, $func:ident))+) => {
        #[allow(non_snake_case)]
        mod trampoline {
            $(
                /// # Safety
                ///
                /// Only called by KUnit, with the context of the running case.
                pub(super) unsafe extern "C" fn $func(
                    test: *mut $crate::kernel_ext::bindings::kunit,
                ) {
                    // SAFETY: KUnit passes the context of the running case,
                    // which outlives this call.
                    let test = unsafe { $crate::kernel_ext::kunit::Test::from_raw(test) };
                    super::super::$func(&test);
                }
            )+
        }
    };
}

/// Marks the running test failed if `cond` is false, and goes on.
#[macro_export]
macro_rules! kunit_expect {
    ($test:expr, $cond:expr $(,)?) => {
        if !$cond {
            $test.fail(
                kernel::c_str!(core::file!()),
                core::line!(),
                kernel::c_str!(core::stringify!($cond)),
            );
        }
    };
}

/// Marks the running test failed if the two values differ, and goes on.
#[macro_export]
macro_rules! kunit_expect_eq {
    ($test:expr, $left:expr, $right:expr $(,)?) => {
        $crate::kunit_expect!($test, ($left) == ($right))
    };
}

/// Marks the running test failed and returns from the test function if
/// `cond` is false.
#[macro_export]
macro_rules! kunit_assert {
    ($test:expr, $cond:expr $(,)?) => {
        if !$cond {
            $test.fail(
                kernel::c_str!(core::file!()),
                core::line!(),
                kernel::c_str!(core::stringify!($cond)),
            );
            return;
        }
    };
}
