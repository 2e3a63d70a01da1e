// SPDX-License-Identifier: GPL-2.0

//! A blocking rtnetlink connection on the rust-netlink crates (netlink-sys
//! for the socket, netlink-packet-core/-route for the messages): requests
//! that wait for the kernel's acknowledgement (with its extended-ack message
//! on failure), and dumps, asked again when the kernel marks them
//! interrupted (`NLM_F_DUMP_INTR`). That loop and the extended-ack text are
//! all this module adds: netlink-sys and -packet-core have neither, and the
//! async loop of netlink-proto/rtnetlink handles neither extended acks nor
//! `NLM_F_DUMP_INTR` (and would bring an async runtime).

use std::fmt;
use std::io;

use netlink_packet_core::{
    parse_string, DecodeError, Emitable, ErrorMessage, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NlasIterator, Parseable, NLA_TYPE_MASK, NLMSG_ALIGNTO,
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// `NLMSGERR_ATTR_MSG` of `include/uapi/linux/netlink.h`: the extack text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// How many times a dump is tried before an interrupted one is reported.
pub const DUMP_ATTEMPTS: u32 = 5;

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
    /// Every attempt at a dump was interrupted by changes (the kernel set
    /// `NLM_F_DUMP_INTR`), so no consistent snapshot was had.
    DumpInterrupted {
        /// How many dumps were tried.
        attempts: u32,
    },
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
            Self::DumpInterrupted { attempts } => write!(
                f,
                "the kernel's dump was interrupted by concurrent changes {attempts} times in a \
                 row; try again"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// How a connection reaches the kernel: one netlink datagram out, one in.
/// The netlink socket is one; tests answer with scripted datagrams.
pub trait Transport {
    /// Sends one datagram.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;
    /// Receives one datagram, waiting for it.
    fn recv(&mut self) -> io::Result<Vec<u8>>;
}

impl Transport for Socket {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        Socket::send(self, datagram, 0).map(drop)
    }

    fn recv(&mut self) -> io::Result<Vec<u8>> {
        self.recv_from_full().map(|(datagram, _)| datagram)
    }
}

/// An rtnetlink connection over `T` (the socket unless testing).
pub struct Rtnl<T = Socket> {
    transport: T,
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
        Ok(Self::new(socket))
    }
}

impl<T: Transport> Rtnl<T> {
    fn new(transport: T) -> Self {
        Self {
            transport,
            sequence: 0,
        }
    }

    fn send(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<u32, Error> {
        self.sequence = self.sequence.wrapping_add(1);
        let mut packet = NetlinkMessage::new(NetlinkHeader::default(), message.into());
        packet.header.flags = NLM_F_REQUEST | flags;
        packet.header.sequence_number = self.sequence;
        packet.finalize();
        let mut buffer = vec![0; packet.buffer_len()];
        packet.serialize(&mut buffer);
        self.transport.send(&buffer)?;
        Ok(self.sequence)
    }

    /// Receives the replies to request `sequence`, handing each inner
    /// message to `each`, until the acknowledgement (or, for a dump, the
    /// end). Messages of other requests are skipped. A refusal, or a dump
    /// that ends with an error, becomes [`Error::Kernel`].
    fn receive(
        &mut self,
        sequence: u32,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<Snapshot, Error> {
        // The kernel flags every message of a dump from the point where it
        // saw the dumped table change, the end (NLMSG_DONE) included.
        let mut snapshot = Snapshot::Consistent;
        loop {
            let datagram = self.transport.recv()?;
            let mut rest = &datagram[..];
            while !rest.is_empty() {
                let buffer = NetlinkBuffer::new_checked(&rest).map_err(decode)?;
                let length = buffer.length() as usize;
                let message: NetlinkMessage<RouteNetlinkMessage> =
                    NetlinkMessage::parse(&buffer).map_err(decode)?;
                rest = rest
                    .get(length.next_multiple_of(usize::from(NLMSG_ALIGNTO))..)
                    .unwrap_or_default();
                if message.header.sequence_number != sequence {
                    continue;
                }
                let flags = message.header.flags;
                if flags & NLM_F_DUMP_INTR != 0 {
                    snapshot = Snapshot::Interrupted;
                }
                match message.payload {
                    NetlinkPayload::InnerMessage(inner) => each(inner),
                    NetlinkPayload::Done(done) if done.code < 0 => {
                        return Err(Error::Kernel {
                            errno: done.code.saturating_neg(),
                            message: (flags & NLM_F_ACK_TLVS != 0)
                                .then(|| extack_text(&done.extended_ack))
                                .flatten(),
                        })
                    }
                    NetlinkPayload::Done(_) => return Ok(snapshot),
                    NetlinkPayload::Error(e) if e.code.is_none() => return Ok(snapshot),
                    NetlinkPayload::Error(e) => {
                        return Err(Error::Kernel {
                            errno: e.raw_code().saturating_neg(),
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
        self.receive(sequence, |_| {}).map(drop)
    }

    /// Sends a request that the kernel answers with one message.
    pub fn get(&mut self, message: RouteNetlinkMessage) -> Result<RouteNetlinkMessage, Error> {
        let sequence = self.send(message, NLM_F_ACK)?;
        let mut reply = None;
        self.receive(sequence, |m| reply = Some(m))?;
        reply.ok_or_else(|| Error::Decode("no reply".into()))
    }

    /// Sends a dump request and collects every answer. A dump that the
    /// kernel marks interrupted (the table changed while it was dumped, so
    /// the answers may be inconsistent) is dropped and asked again, up to
    /// [`DUMP_ATTEMPTS`] times in all.
    pub fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, Error> {
        for _ in 0..DUMP_ATTEMPTS {
            let sequence = self.send(message.clone(), NLM_F_DUMP)?;
            let mut replies = Vec::new();
            if self.receive(sequence, |m| replies.push(m))? == Snapshot::Consistent {
                return Ok(replies);
            }
        }
        Err(Error::DumpInterrupted {
            attempts: DUMP_ATTEMPTS,
        })
    }
}

/// Whether the answers to a request form one consistent snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Snapshot {
    Consistent,
    /// The kernel set `NLM_F_DUMP_INTR`.
    Interrupted,
}

fn decode(e: DecodeError) -> Error {
    Error::Decode(e.to_string())
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
        NetlinkHeader::default().buffer_len()
    } else {
        NetlinkBuffer::new_checked(echoed).ok()?.length() as usize
    };
    extack_text(echoed.get(request_len.next_multiple_of(usize::from(NLMSG_ALIGNTO))..)?)
}

/// The `NLMSGERR_ATTR_MSG` text among extended-ack attributes `tlvs`.
fn extack_text(tlvs: &[u8]) -> Option<String> {
    NlasIterator::new(tlvs)
        .map_while(Result::ok)
        .find(|nla| nla.kind() & NLA_TYPE_MASK == NLMSGERR_ATTR_MSG)
        .and_then(|nla| parse_string(nla.value()).ok())
        .filter(|m| !m.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{DefaultNla, DoneMessage, NLM_F_MULTIPART};
    use netlink_packet_route::link::{LinkAttribute, LinkMessage};
    use std::collections::VecDeque;
    use std::num::NonZeroI32;

    /// The `NLMSGERR_ATTR_MSG` attribute carrying `message`.
    fn extack_tlv(message: &str) -> Vec<u8> {
        let mut text = message.as_bytes().to_vec();
        text.push(0);
        let nla = DefaultNla::new(NLMSGERR_ATTR_MSG, text);
        let mut tlv = vec![0; nla.buffer_len()];
        nla.emit(&mut tlv);
        tlv
    }

    fn error_with(echoed_request: &[u8], message: &str) -> ErrorMessage {
        let mut header = echoed_request.to_vec();
        header.extend(extack_tlv(message));
        let mut error = ErrorMessage::default();
        error.code = NonZeroI32::new(-22);
        error.header = header;
        error
    }

    /// One netlink message of request `sequence` as the kernel sends it,
    /// padded to the netlink alignment.
    fn packet(sequence: u32, flags: u16, payload: NetlinkPayload<RouteNetlinkMessage>) -> Vec<u8> {
        let mut message = NetlinkMessage::new(NetlinkHeader::default(), payload);
        message.header.flags = flags;
        message.header.sequence_number = sequence;
        message.finalize();
        let mut bytes = vec![0; message.buffer_len()];
        message.serialize(&mut bytes);
        bytes.resize(bytes.len().next_multiple_of(4), 0);
        bytes
    }

    /// A link of a dump answering `sequence`.
    fn link(sequence: u32, flags: u16, index: u32, name: &str) -> Vec<u8> {
        let mut message = LinkMessage::default();
        message.header.index = index;
        message.attributes = vec![LinkAttribute::IfName(name.into())];
        packet(
            sequence,
            NLM_F_MULTIPART | flags,
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(message)),
        )
    }

    /// The end of a dump: `code` is 0 or a negative errno, `extack` the
    /// attributes after it.
    fn done(sequence: u32, flags: u16, code: i32, extack: Vec<u8>) -> Vec<u8> {
        let mut message = DoneMessage::default();
        message.code = code;
        message.extended_ack = extack;
        packet(
            sequence,
            NLM_F_MULTIPART | flags,
            NetlinkPayload::Done(message),
        )
    }

    /// An acknowledgement (`code` 0) or refusal (negative errno), with the
    /// capped echo of the request's header and, if given, an extack message.
    fn ack(sequence: u32, code: i32, message: Option<&str>) -> Vec<u8> {
        let mut error = ErrorMessage::default();
        error.code = NonZeroI32::new(code);
        error.header = vec![0; 16];
        let mut flags = NLM_F_CAPPED;
        if let Some(message) = message {
            error.header.extend(extack_tlv(message));
            flags |= NLM_F_ACK_TLVS;
        }
        packet(sequence, flags, NetlinkPayload::Error(error))
    }

    /// Builds the datagrams that answer one request from its sequence
    /// number.
    type Answer = Box<dyn FnOnce(u32) -> Vec<Vec<u8>>>;

    /// The kernel's side of the socket: each request is answered with the
    /// next scripted answer; the requests' headers are kept.
    #[derive(Default)]
    struct FakeKernel {
        answers: VecDeque<Answer>,
        queued: VecDeque<Vec<u8>>,
        requests: Vec<NetlinkHeader>,
    }

    impl Transport for FakeKernel {
        fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
            let buffer = NetlinkBuffer::new_checked(&datagram).map_err(io::Error::other)?;
            let header = NetlinkHeader::parse(&buffer).map_err(io::Error::other)?;
            self.requests.push(header);
            let answer = self
                .answers
                .pop_front()
                .ok_or_else(|| io::Error::other("request without a scripted answer"))?;
            self.queued.extend(answer(header.sequence_number));
            Ok(())
        }

        fn recv(&mut self) -> io::Result<Vec<u8>> {
            self.queued.pop_front().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the kernel has nothing more to send",
                )
            })
        }
    }

    fn connection(answers: Vec<Answer>) -> Rtnl<FakeKernel> {
        Rtnl::new(FakeKernel {
            answers: answers.into(),
            ..Default::default()
        })
    }

    fn dump_links(rtnl: &mut Rtnl<FakeKernel>) -> Result<Vec<(u32, String)>, Error> {
        let replies = rtnl.dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))?;
        Ok(replies
            .into_iter()
            .map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => {
                    let name = link.attributes.iter().find_map(|a| match a {
                        LinkAttribute::IfName(name) => Some(name.clone()),
                        _ => None,
                    });
                    (link.header.index, name.unwrap_or_default())
                }
                other => panic!("unexpected reply {other:?}"),
            })
            .collect())
    }

    fn links(names: &[(u32, &str)]) -> Vec<(u32, String)> {
        names.iter().map(|&(i, n)| (i, n.to_string())).collect()
    }

    /// A consistent dump of lo, veth0, hb0 answering `s`, over three
    /// datagrams.
    fn consistent(s: u32) -> Vec<Vec<u8>> {
        vec![
            [link(s, 0, 1, "lo"), link(s, 0, 2, "veth0")].concat(),
            link(s, 0, 3, "hb0"),
            done(s, 0, 0, Vec::new()),
        ]
    }

    #[test]
    fn multi_part_dump_is_collected_over_datagrams() {
        let mut rtnl = connection(vec![Box::new(|s| {
            vec![
                [link(s, 0, 1, "lo"), link(s, 0, 2, "veth0")].concat(),
                // The end of an earlier request's answer is skipped.
                [
                    link(s.wrapping_sub(1), 0, 9, "stale"),
                    ack(s.wrapping_sub(1), -22, Some("stale")),
                    link(s, 0, 3, "hb0"),
                ]
                .concat(),
                [link(s, 0, 4, "veth1"), done(s, 0, 0, Vec::new())].concat(),
            ]
        })]);
        let got = dump_links(&mut rtnl).unwrap();
        assert_eq!(
            got,
            links(&[(1, "lo"), (2, "veth0"), (3, "hb0"), (4, "veth1")])
        );
        let requests = &rtnl.transport.requests;
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].flags, NLM_F_REQUEST | NLM_F_DUMP);
        assert!(rtnl.transport.queued.is_empty(), "all of the dump was read");
    }

    #[test]
    fn interrupted_dump_is_retried_until_consistent() {
        let mut rtnl = connection(vec![
            // veth0 was renamed during the dump: the kernel flags the rest.
            Box::new(|s| {
                vec![
                    link(s, 0, 1, "lo"),
                    link(s, NLM_F_DUMP_INTR, 2, "old-name"),
                    done(s, NLM_F_DUMP_INTR, 0, Vec::new()),
                ]
            }),
            // Noticed only when the dump ended: the flag is on the end alone.
            Box::new(|s| {
                vec![
                    [link(s, 0, 1, "lo"), link(s, 0, 2, "veth0")].concat(),
                    done(s, NLM_F_DUMP_INTR, 0, Vec::new()),
                ]
            }),
            Box::new(consistent),
        ]);
        let got = dump_links(&mut rtnl).unwrap();
        assert_eq!(got, links(&[(1, "lo"), (2, "veth0"), (3, "hb0")]));
        let sequences: Vec<_> = rtnl
            .transport
            .requests
            .iter()
            .map(|r| r.sequence_number)
            .collect();
        assert_eq!(sequences.len(), 3, "one dump request per attempt");
        assert!(sequences.windows(2).all(|w| w[0] != w[1]), "{sequences:?}");
    }

    #[test]
    fn dump_interrupted_on_every_attempt_is_an_error() {
        let answers: Vec<Answer> = (0..DUMP_ATTEMPTS)
            .map(|_| -> Answer {
                Box::new(|s| {
                    vec![
                        link(s, NLM_F_DUMP_INTR, 1, "lo"),
                        done(s, NLM_F_DUMP_INTR, 0, Vec::new()),
                    ]
                })
            })
            .collect();
        let mut rtnl = connection(answers);
        let err = dump_links(&mut rtnl).unwrap_err();
        assert!(
            matches!(err, Error::DumpInterrupted { attempts } if attempts == DUMP_ATTEMPTS),
            "{err:?}"
        );
        assert_eq!(rtnl.transport.requests.len(), DUMP_ATTEMPTS as usize);
        assert_eq!(
            err.to_string(),
            format!(
                "the kernel's dump was interrupted by concurrent changes {DUMP_ATTEMPTS} times \
                 in a row; try again"
            )
        );
    }

    #[test]
    fn failed_dump_end_is_an_error_with_its_extack() {
        let mut rtnl = connection(vec![Box::new(|s| {
            vec![
                link(s, 0, 1, "lo"),
                done(
                    s,
                    NLM_F_ACK_TLVS,
                    -90,
                    extack_tlv("link too large for the dump"),
                ),
            ]
        })]);
        let err = dump_links(&mut rtnl).unwrap_err();
        assert!(
            matches!(&err, Error::Kernel { errno: 90, message: Some(m) }
                if m == "link too large for the dump"),
            "{err:?}"
        );
    }

    #[test]
    fn refusal_propagates_errno_and_extack() {
        let mut rtnl = connection(vec![Box::new(|s| {
            vec![[
                ack(s.wrapping_sub(1), 0, None),
                ack(
                    s,
                    -22,
                    Some("hbond: mode cannot change while the team has slaves"),
                ),
            ]
            .concat()]
        })]);
        let err = rtnl
            .request(RouteNetlinkMessage::SetLink(LinkMessage::default()), 0)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Kernel { errno: 22, message: Some(m) }
                if m == "hbond: mode cannot change while the team has slaves"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "hbond: mode cannot change while the team has slaves (Invalid argument)"
        );
        assert_eq!(rtnl.transport.requests[0].flags, NLM_F_REQUEST | NLM_F_ACK);
    }

    #[test]
    fn refusal_without_extack_has_the_errno_text() {
        let mut rtnl = connection(vec![Box::new(|s| vec![ack(s, -19, None)])]);
        let err = rtnl
            .get(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Kernel {
                    errno: 19,
                    message: None
                }
            ),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "No such device");
    }

    #[test]
    fn get_returns_the_reply_before_the_ack_and_the_connection_goes_on() {
        let mut rtnl = connection(vec![
            Box::new(|s| vec![link(s, 0, 7, "veth0"), ack(s, 0, None)]),
            Box::new(|s| vec![ack(s, 0, None)]),
            Box::new(consistent),
        ]);
        let reply = rtnl
            .get(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .unwrap();
        assert!(
            matches!(&reply, RouteNetlinkMessage::NewLink(l) if l.header.index == 7),
            "{reply:?}"
        );
        rtnl.request(RouteNetlinkMessage::DelLink(LinkMessage::default()), 0)
            .unwrap();
        let got = dump_links(&mut rtnl).unwrap();
        assert_eq!(got, links(&[(1, "lo"), (2, "veth0"), (3, "hb0")]));
    }

    #[test]
    fn truncated_reply_is_a_decode_error() {
        let mut rtnl = connection(vec![Box::new(|s| {
            let mut bytes = link(s, 0, 1, "lo");
            bytes.truncate(bytes.len() - 4);
            vec![bytes]
        })]);
        let err = dump_links(&mut rtnl).unwrap_err();
        assert!(matches!(err, Error::Decode(_)), "{err:?}");
    }

    #[test]
    fn extack_after_capped_header() {
        let e = error_with(&[0; 16], "value out of range");
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
        let e = error_with(&[0; 16], "ignored");
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
