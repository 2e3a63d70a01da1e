// SPDX-License-Identifier: GPL-2.0

//! Error codes that the 6.12 `kernel::error::code` does not declare.

use crate::kernel_ext::bindings;
use kernel::error::Error;

macro_rules! errno_fns {
    ($($fn_name:ident => $errno:ident),* $(,)?) => {
        $(
            #[doc = concat!("`-", stringify!($errno), "`.")]
            pub fn $fn_name() -> Error {
                Error::from_errno(-(bindings::$errno as i32))
            }
        )*
    };
}

errno_fns! {
    eopnotsupp => EOPNOTSUPP,
    enobufs => ENOBUFS,
    enetdown => ENETDOWN,
    emsgsize => EMSGSIZE,
    ebadmsg => EBADMSG,
    ecanceled => ECANCELED,
    einprogress => EINPROGRESS,
    enametoolong => ENAMETOOLONG,
}
