// SPDX-License-Identifier: GPL-2.0

//! A blocking rtnetlink connection: requests that wait for the kernel's
//! acknowledgement (with its extended-ack message on failure) and dumps.

use std::fmt;
use std::io;

use netlink_packet_core::{
    parse_string, ErrorMessage, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator,
    NLA_TYPE_MASK, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// `NLMSGERR_ATTR_MSG` of `include/uapi/linux/netlink.h`: the extack text.
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

/// What can go wrong talking to the kernel.
#[derive(Debug)]
pub enum Error {
    /// The socket failed.
    Io(io::Error),
    /// The kernel refused the request.
    Kernel {
        /// Positive errno.
        errno: i32,
        /// The extended-ack message, when the kernel gave one.
        message: Option<String>,
    },
    /// A reply could not be decoded.
    Decode(String),
}

/// The C library's text for `errno`, without Rust's " (os error N)".
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.find(" (os error") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "netlink: {e}"),
            Self::Kernel {
                errno,
                message: Some(m),
            } => write!(f, "{m} ({})", strerror(*errno)),
            Self::Kernel {
                errno,
                message: None,
            } => f.write_str(&strerror(*errno)),
            Self::Decode(e) => write!(f, "cannot decode the kernel's reply: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// An rtnetlink socket.
pub struct Rtnl {
    socket: Socket,
    sequence: u32,
}

impl Rtnl {
    /// Opens a socket that asks for extended acks with capped payloads (the
    /// kernel then echoes only our header, not the whole request).
    pub fn open() -> Result<Self, Error> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        socket.set_ext_ack(true)?;
        socket.set_cap_ack(true)?;
        Ok(Self {
            socket,
            sequence: 0,
        })
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, Error> {
        self.sequence += 1;
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), message.into());
        packet.header.flags = NLM_F_REQUEST | flags;
        packet.header.sequence_number = self.sequence;
        packet.finalize();
        let mut buffer = vec![0; packet.buffer_len()];
        packet.serialize(&mut buffer);
        self.socket.send(&buffer, 0)?;
        Ok(self.sequence)
    }

    /// Receives the replies to request `sequence`, handing each inner
    /// message to `each`, until the acknowledgement (or, for a dump, the
    /// end). A refusal becomes [`Error::Kernel`].
    fn receive(
        &mut self,
        sequence: u32,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<(), Error> {
        loop {
            let (datagram, _) = self.socket.recv_from_full()?;
            let mut offset = 0;
            while offset < datagram.len() {
                let message: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::deserialize(&datagram[offset..])
                        .map_err(|e| Error::Decode(e.to_string()))?;
                let length = message.header.length as usize;
                if length == 0 {
                    return Err(Error::Decode("zero-length netlink message".into()));
                }
                offset += length.next_multiple_of(4);
                if message.header.sequence_number != sequence {
                    continue;
                }
                let flags = message.header.flags;
                match message.payload {
                    NetlinkPayload::InnerMessage(inner) => each(inner),
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) if e.code.is_none() => return Ok(()),
                    NetlinkPayload::Error(e) => {
                        return Err(Error::Kernel {
                            errno: -e.raw_code(),
                            message: extack_message(&e, flags),
                        })
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends a request and waits for its acknowledgement.
    pub fn request(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<(), Error> {
        let sequence = self.send(message, flags | NLM_F_ACK)?;
        self.receive(sequence, |_| {})
    }

    /// Sends a request that the kernel answers with one message.
    pub fn get(&mut self, message: RouteNetlinkMessage) -> Result<RouteNetlinkMessage, Error> {
        let sequence = self.send(message, NLM_F_ACK)?;
        let mut reply = None;
        self.receive(sequence, |m| reply = Some(m))?;
        reply.ok_or_else(|| Error::Decode("no reply".into()))
    }

    /// Sends a dump request and collects every answer.
    pub fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, Error> {
        let sequence = self.send(message, NLM_F_DUMP)?;
        let mut replies = Vec::new();
        self.receive(sequence, |m| replies.push(m))?;
        Ok(replies)
    }
}

/// The extended-ack message of an error, if the kernel attached one:
/// `flags` are those of the error message's header. The payload after the
/// error code is the request's header (all of the request unless
/// `NLM_F_CAPPED`), then the extack attributes.
pub fn extack_message(error: &ErrorMessage, flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = &error.header;
    let request_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let len = echoed.get(..4)?;
        u32::from_ne_bytes(len.try_into().ok()?) as usize
    };
    let tlvs = echoed.get(request_len.next_multiple_of(4)..)?;
    NlasIterator::new(tlvs)
        .map_while(Result::ok)
        .find(|nla| nla.kind() & NLA_TYPE_MASK == NLMSGERR_ATTR_MSG)
        .and_then(|nla| parse_string(nla.value()).ok())
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{DefaultNla, Emitable};
    use std::num::NonZeroI32;

    fn error_with(echoed_request: &[u8], message: &str) -> ErrorMessage {
        let mut text = message.as_bytes().to_vec();
        text.push(0);
        let nla = DefaultNla::new(NLMSGERR_ATTR_MSG, text);
        let mut tlv = vec![0; nla.buffer_len()];
        nla.emit(&mut tlv);
        let mut header = echoed_request.to_vec();
        header.extend(tlv);
        let mut error = ErrorMessage::default();
        error.code = NonZeroI32::new(-22);
        error.header = header;
        error
    }

    #[test]
    fn extack_after_capped_header() {
        let e = error_with(&[0; NLMSG_HDRLEN], "value out of range");
        assert_eq!(
            extack_message(&e, NLM_F_CAPPED | NLM_F_ACK_TLVS).as_deref(),
            Some("value out of range")
        );
    }

    #[test]
    fn extack_after_full_request() {
        // An uncapped echo: the request's own length says where the
        // attributes start (here 22 bytes, padded to 24).
        let mut request = vec![0; 24];
        request[..4].copy_from_slice(&22u32.to_ne_bytes());
        let e = error_with(&request, "device is not a slave of this team");
        assert_eq!(
            extack_message(&e, NLM_F_ACK_TLVS).as_deref(),
            Some("device is not a slave of this team")
        );
    }

    #[test]
    fn no_extack_without_the_flag() {
        let e = error_with(&[0; NLMSG_HDRLEN], "ignored");
        assert_eq!(extack_message(&e, NLM_F_CAPPED), None);
        let shown = Error::Kernel {
            errno: 22,
            message: None,
        }
        .to_string();
        assert_eq!(shown, "Invalid argument");
        let shown = Error::Kernel {
            errno: 22,
            message: Some("hbond: value out of range".into()),
        }
        .to_string();
        assert_eq!(shown, "hbond: value out of range (Invalid argument)");
    }
}
