//! HJ 212-2017 (污染物在线监控（监测）系统数据传输标准) packets, without I/O: framing on a byte
//! stream, the CRC of appendix A, the data segment's fields, readings from data uploads, split
//! packets put back together, and the data acknowledgement (ST=91, CN=9014).
//!
//! A packet is `##` + data-segment length (4 decimal digits) + data segment + CRC (4 hex digits)
//! + CRLF. The data segment is `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;CP=&&…&&`.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

pub use crate::domain::dust::reading::ParticulateUnit;
use crate::domain::dust::reading::{LOCAL, Level, Quantity, Reading};

/// The CRC of the standard's appendix A over a data segment: register 0xFFFF; per byte,
/// register = (register >> 8) ^ byte, then 8 shifts right, XOR 0xA001 when a 1 is shifted out.
pub fn crc16(data: &[u8]) -> u16 {
    let mut reg: u16 = 0xFFFF;
    for &b in data {
        reg = (reg >> 8) ^ u16::from(b);
        for _ in 0..8 {
            let out = reg & 1;
            reg >>= 1;
            if out != 0 {
                reg ^= 0xA001;
            }
        }
    }
    reg
}

/// The longest data segment 4 length digits can announce.
pub const MAX_DATA: usize = 9999;

/// A whole packet around a data segment; `None` if the segment is longer than [`MAX_DATA`].
pub fn frame(data: &str) -> Option<Vec<u8>> {
    (data.len() <= MAX_DATA).then(|| {
        format!(
            "##{:04}{data}{:04X}\r\n",
            data.len(),
            crc16(data.as_bytes())
        )
        .into_bytes()
    })
}

/// Why bytes on the stream were thrown away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garbage {
    /// Bytes before a `##`.
    NoHeader,
    /// `##` not followed by 4 decimal digits.
    BadLength,
    /// The announced length does not end at the CRC and CRLF (a line break came early or the
    /// CRLF is missing): a truncated or corrupted packet.
    BadFrame,
    /// The CRC does not match the data segment.
    BadCrc,
    /// The data segment is not text.
    NotText,
}

impl Garbage {
    pub fn as_str(self) -> &'static str {
        match self {
            Garbage::NoHeader => "bytes outside a packet",
            Garbage::BadLength => "no 4-digit length after ##",
            Garbage::BadFrame => "packet truncated or without CRLF where its length says",
            Garbage::BadCrc => "CRC does not match",
            Garbage::NotText => "data segment is not text",
        }
    }
}

/// What the framer found next on the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A data segment whose CRC matched.
    Packet(String),
    /// Bytes thrown away, and why.
    Garbage { bytes: usize, why: Garbage },
}

/// Cuts a TCP byte stream into packets, whatever the read boundaries: a packet split across
/// reads waits for the rest, several in one read come out one by one, and garbage is skipped
/// up to the next `##`. Holds at most one packet's worth of bytes beyond what was read last.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    start: usize,
}

/// `##` + 4 digits.
const HEAD: usize = 6;
/// 4 CRC digits + CRLF.
const TAIL: usize = 6;

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        // Drop consumed bytes before growing, so the buffer stays about one packet long.
        if self.start > 0 && (self.start == self.buf.len() || self.start >= 8192) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held that are not yet a whole packet.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    fn skip(&mut self, bytes: usize, why: Garbage) -> Option<Event> {
        self.start += bytes;
        Some(Event::Garbage { bytes, why })
    }

    /// The next packet or run of garbage, or `None` until more bytes arrive.
    pub fn next_event(&mut self) -> Option<Event> {
        let b = &self.buf[self.start..];
        if b.is_empty() {
            return None;
        }
        let Some(p) = b.windows(2).position(|w| w == b"##") else {
            // Keep a trailing '#': it may be the first half of the next header.
            let keep = usize::from(b.last() == Some(&b'#'));
            let n = b.len() - keep;
            return if n > 0 {
                self.skip(n, Garbage::NoHeader)
            } else {
                None
            };
        };
        if p > 0 {
            return self.skip(p, Garbage::NoHeader);
        }
        let digits = &b[2..b.len().min(HEAD)];
        if !digits.iter().all(u8::is_ascii_digit) {
            // Skip one byte only: "###0101…" still holds a packet from the second '#'.
            return self.skip(1, Garbage::BadLength);
        }
        if b.len() < HEAD {
            return None;
        }
        let len = digits
            .iter()
            .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
        let end_of_crc = HEAD + len + 4;
        // A data segment and its CRC never hold CR or LF: one before the announced end means the
        // length is wrong or bytes were lost, and waiting for the announced length would swallow
        // the packets behind it.
        let scan = &b[HEAD..b.len().min(end_of_crc)];
        if scan.iter().any(|&c| c == b'\r' || c == b'\n') {
            return self.skip(1, Garbage::BadFrame);
        }
        if b.len() < HEAD + len + TAIL {
            return None;
        }
        let total = HEAD + len + TAIL;
        if &b[end_of_crc..total] != b"\r\n" {
            return self.skip(1, Garbage::BadFrame);
        }
        let data = &b[HEAD..HEAD + len];
        let crc = std::str::from_utf8(&b[HEAD + len..end_of_crc])
            .ok()
            .and_then(|s| u16::from_str_radix(s, 16).ok());
        if crc != Some(crc16(data)) {
            return self.skip(total, Garbage::BadCrc);
        }
        let Ok(text) = std::str::from_utf8(data) else {
            return self.skip(total, Garbage::NotText);
        };
        let text = text.to_string();
        self.start += total;
        Some(Event::Packet(text))
    }
}

/// Why a data segment could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// No `CP=&&…&&` command-parameter area.
    NoCp,
    /// A required header field is missing or empty.
    Missing(&'static str),
    /// A field's value is not what the standard allows.
    Bad { field: String, value: String },
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NoCp => write!(f, "no CP=&&…&& area"),
            ParseError::Missing(field) => write!(f, "no {field}"),
            ParseError::Bad { field, value } => write!(f, "{field}={value:?} is not valid"),
        }
    }
}

/// A data segment's header fields and its command parameters, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub qn: Option<String>,
    pub st: String,
    pub cn: String,
    pub pw: String,
    pub mn: String,
    /// Bit 0 (A): an acknowledgement is asked for; bit 1 (D): a split packet; upper bits: the
    /// protocol version.
    pub flag: u8,
    /// Split packets: the number of parts and this part's number (from 1).
    pub pnum: Option<u32>,
    pub pno: Option<u32>,
    /// The text between `CP=&&` and the closing `&&`.
    pub cp: String,
}

/// What a packet from a device asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// A data upload (CN 2011, 2051, 2061, 2031).
    Data(Level),
    /// A heartbeat (CN 9015, HJ 212-2025): answered with a notification reply when asked.
    Heartbeat,
    /// The data logger's hardware serial numbers (CN 1001, HJ 212-2025): logged, answered.
    HardwareSn,
    /// A time calibration request (CN 1013): answered, then the device's clock is set (1012).
    TimeRequest,
    /// A request reply (9011) or execution result (9012) to something the server asked.
    DeviceReply,
    /// Anything else: read and ignored.
    Other,
}

impl Packet {
    pub fn command(&self) -> Command {
        match self.cn.as_str() {
            "9015" => Command::Heartbeat,
            "1001" => Command::HardwareSn,
            "1013" => Command::TimeRequest,
            "9011" | "9012" => Command::DeviceReply,
            _ => self.data_level().map_or(Command::Other, Command::Data),
        }
    }

    pub fn wants_ack(&self) -> bool {
        self.flag & 1 == 1
    }

    pub fn is_split(&self) -> bool {
        self.flag & 2 == 2 && self.pnum.is_some_and(|n| n > 1)
    }

    /// The data kind of an upload command, or `None` for any other command (heartbeats,
    /// log-ins, answers to requests) which carry no readings.
    pub fn data_level(&self) -> Option<Level> {
        match self.cn.as_str() {
            "2011" => Some(Level::RealTime),
            "2051" => Some(Level::Minute),
            "2061" => Some(Level::Hour),
            "2031" => Some(Level::Day),
            _ => None,
        }
    }
}

/// Parses a data segment (after the framer checked its CRC).
pub fn parse(data: &str) -> Result<Packet, ParseError> {
    // CP comes last and may itself hold ';', so the header ends where "CP=&&" starts.
    let cp_at = data.find("CP=&&").ok_or(ParseError::NoCp)?;
    let cp = data[cp_at + 5..]
        .strip_suffix("&&")
        .ok_or(ParseError::NoCp)?
        .to_string();
    let mut p = Packet {
        qn: None,
        st: String::new(),
        cn: String::new(),
        pw: String::new(),
        mn: String::new(),
        flag: 0,
        pnum: None,
        pno: None,
        cp,
    };
    for item in data[..cp_at].split(';').filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').ok_or_else(|| ParseError::Bad {
            field: item.to_string(),
            value: String::new(),
        })?;
        let bad = || ParseError::Bad {
            field: k.to_string(),
            value: v.to_string(),
        };
        match k {
            "QN" => p.qn = Some(v.to_string()),
            "ST" => p.st = v.to_string(),
            "CN" => p.cn = v.to_string(),
            "PW" => p.pw = v.to_string(),
            "MN" => p.mn = v.to_string(),
            "Flag" => p.flag = v.parse().map_err(|_| bad())?,
            "PNUM" => p.pnum = Some(v.parse().map_err(|_| bad())?),
            "PNO" => p.pno = Some(v.parse().map_err(|_| bad())?),
            // Unknown header fields are tolerated: devices add their own.
            _ => {}
        }
    }
    for (name, v) in [("ST", &p.st), ("CN", &p.cn), ("MN", &p.mn)] {
        if v.is_empty() {
            return Err(ParseError::Missing(name));
        }
    }
    Ok(p)
}

/// The `key=value` pairs of a CP area (items separated by `;`, a factor's fields by `,`).
pub fn cp_fields(cp: &str) -> impl Iterator<Item = (&str, &str)> {
    cp.split([';', ','])
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.split_once('='))
}

/// Parses an HJ 212 DataTime (`YYYYMMDDhhmmss`, local time UTC+8) into Unix seconds.
pub fn parse_data_time(s: &str) -> Option<i64> {
    // chrono accepts one-digit fields; the standard's are fixed width.
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?;
    Some(naive.and_local_timezone(LOCAL).single()?.timestamp())
}

/// A value left out of a reading, and why (for the log and the counters).
#[derive(Debug, Clone, PartialEq)]
pub enum Dropped {
    /// Not a finite number: nothing to keep.
    Invalid { code: String, value: String },
}

/// The reading of a data upload, what was left out of it, and how many factors it carried
/// that this system does not keep (noise, SO₂, NO₂, CO, pressure…: counted, not stored).
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub reading: Reading,
    pub dropped: Vec<Dropped>,
    pub other_factors: usize,
}

/// The reading carried by a data upload (CN 2011 `-Rtd`; 2051, 2061, 2031 `-Avg`; a device that
/// sends the other field instead is read too). Each value keeps its `-Flag`; implausible ones
/// are kept and marked suspect ([`Reading::judge`]); an empty value is no value.
pub fn upload(p: &Packet, unit: ParticulateUnit) -> Result<Upload, ParseError> {
    let level = p.data_level().ok_or_else(|| ParseError::Bad {
        field: "CN".into(),
        value: p.cn.clone(),
    })?;
    let (first, second) = if level == Level::RealTime {
        ("Rtd", "Avg")
    } else {
        ("Avg", "Rtd")
    };
    let mut at = None;
    let mut values: HashMap<&str, (&str, bool)> = HashMap::new();
    let mut flags: HashMap<&str, &str> = HashMap::new();
    for (k, v) in cp_fields(&p.cp) {
        if k == "DataTime" {
            at = Some(parse_data_time(v.trim()).ok_or_else(|| ParseError::Bad {
                field: "DataTime".into(),
                value: v.into(),
            })?);
        } else if let Some((code, field)) = k.split_once('-') {
            let v = v.trim();
            if field == "Flag" {
                flags.insert(code, v);
            } else if (field == first || field == second) && !v.is_empty() {
                let preferred = field == first;
                let e = values.entry(code).or_insert((v, preferred));
                if preferred && !e.1 {
                    *e = (v, true);
                }
            }
        }
    }
    let at = at.ok_or(ParseError::Missing("DataTime"))?;
    let mut reading = Reading::new(at, level);
    let mut dropped = vec![];
    let other_factors = values
        .keys()
        .filter(|c| Quantity::from_hj212_code(c).is_none())
        .count();
    for q in Quantity::ALL {
        let code = q.hj212_code();
        let Some((raw, _)) = values.get(code) else {
            continue;
        };
        let factor = if q.is_particulate() {
            unit.to_ug()
        } else {
            1.0
        };
        match raw.parse::<f64>().map(|v| v * factor) {
            Ok(v) if v.is_finite() => {
                reading.set(q, Some(v));
                let flag = flags.get(code).and_then(|f| f.bytes().next());
                reading.set_flag(q, flag.filter(u8::is_ascii_alphanumeric));
            }
            _ => dropped.push(Dropped::Invalid {
                code: code.into(),
                value: (*raw).into(),
            }),
        }
    }
    reading.judge();
    Ok(Upload {
        reading,
        dropped,
        other_factors,
    })
}

/// A reply to packet `p` (ST=91): the same QN, the packet's PW and MN, and Flag with the
/// packet's edition and no request for an answer (4 for 2017, 8 for 2025).
fn reply(p: &Packet, cn: &str) -> Option<Vec<u8>> {
    let qn =
        p.qn.as_deref()
            .map(|q| format!("QN={q};"))
            .unwrap_or_default();
    frame(&format!(
        "{qn}ST=91;CN={cn};PW={};MN={};Flag={};CP=&&&&",
        p.pw,
        p.mn,
        p.flag & 0xFC
    ))
}

/// The data acknowledgement (数据应答, CN 9014; HJ 212-2017 §6.6, appendix C) to an upload.
pub fn ack(p: &Packet) -> Option<Vec<u8>> {
    reply(p, "9014")
}

/// The notification reply (通知应答, CN 9013) to a heartbeat (9015), a hardware serial number
/// (1001) or a time calibration request (1013).
pub fn notice_reply(p: &Packet) -> Option<Vec<u8>> {
    reply(p, "9013")
}

/// A QN for a request the server makes: local time to the millisecond, `YYYYMMDDhhmmsszzz`.
pub fn new_qn(now: chrono::DateTime<chrono::Utc>) -> String {
    now.with_timezone(&LOCAL)
        .format("%Y%m%d%H%M%S%3f")
        .to_string()
}

/// Unix seconds as an HJ 212 time (`YYYYMMDDhhmmss`, local UTC+8).
pub fn data_time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.with_timezone(&LOCAL).format("%Y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

/// A request from the server to the device that sent `p`, in its system code and edition, with
/// PW and MN, asking for the request reply (Flag bit A): the device answers 9011, then does it,
/// then answers 9012.
fn request(p: &Packet, qn: &str, cn: &str, cp: &str) -> Option<Vec<u8>> {
    frame(&format!(
        "QN={qn};ST={};CN={cn};PW={};MN={};Flag={};CP=&&{cp}&&",
        p.st,
        p.pw,
        p.mn,
        (p.flag & 0xFC) | 1
    ))
}

/// Sets the device's clock (设置现场机时间, CN 1012): the answer to its time calibration
/// request (1013), with the request's PolId when it named one.
pub fn set_time(p: &Packet, qn: &str, now: i64) -> Option<Vec<u8>> {
    let pol = cp_fields(&p.cp)
        .find(|(k, _)| *k == "PolId")
        .map(|(_, v)| format!("PolId={v};"))
        .unwrap_or_default();
    request(
        p,
        qn,
        "1012",
        &format!("{pol}SystemTime={}", data_time(now)),
    )
}

/// Asks the device for its stored data of `cn` (2051 minute, 2061 hourly, 2031 daily) from
/// `begin` to `end` inclusive (Unix seconds): it sends them as uploads of that command.
pub fn history(p: &Packet, qn: &str, cn: &str, begin: i64, end: i64) -> Option<Vec<u8>> {
    request(
        p,
        qn,
        cn,
        &format!("BeginTime={};EndTime={}", data_time(begin), data_time(end)),
    )
}

/// Puts split packets (Flag bit D, PNUM/PNO) back together by MN and QN. Keeps at most
/// `capacity` unfinished packets: a device that never sends the rest cannot fill memory.
#[derive(Debug)]
pub struct Reassembler {
    capacity: usize,
    timeout: Duration,
    parts: HashMap<(String, String), Vec<Option<String>>>,
    /// Unfinished packets, oldest first, with when their first part came.
    order: VecDeque<((String, String), Instant)>,
}

impl Reassembler {
    /// Keeps at most `capacity` unfinished packets, each for at most `timeout` after its first
    /// part: a part lost on the link does not hold the others for ever.
    pub fn new(capacity: usize, timeout: Duration) -> Reassembler {
        Reassembler {
            capacity,
            timeout,
            parts: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Adds a part at `now`; returns the whole packet (CP areas joined in PNO order) once every
    /// part is in, and the number of unfinished packets given up (too old, or to make room).
    pub fn add(&mut self, p: Packet, now: Instant) -> (Option<Packet>, usize) {
        let (Some(pnum), Some(pno)) = (p.pnum, p.pno) else {
            return (Some(p), 0);
        };
        if pnum > 64 || pno == 0 || pno > pnum {
            return (None, 0);
        }
        let key = (p.mn.clone(), p.qn.clone().unwrap_or_default());
        let mut evicted = 0;
        while let Some((old, _)) = self
            .order
            .front()
            .filter(|(_, at)| now.duration_since(*at) > self.timeout)
        {
            let old = old.clone();
            self.parts.remove(&old);
            self.order.pop_front();
            evicted += 1;
        }
        if !self.parts.contains_key(&key) {
            while self.order.len() >= self.capacity {
                if let Some((old, _)) = self.order.pop_front() {
                    self.parts.remove(&old);
                    evicted += 1;
                }
            }
            self.order.push_back((key.clone(), now));
        }
        let slots = self
            .parts
            .entry(key.clone())
            .or_insert_with(|| vec![None; pnum as usize]);
        if let Some(slot) = slots.get_mut(pno as usize - 1) {
            *slot = Some(p.cp.clone());
        }
        if slots.iter().any(Option::is_none) {
            return (None, evicted);
        }
        let cps: Vec<String> = self
            .parts
            .remove(&key)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        self.order.retain(|(k, _)| k != &key);
        let whole = Packet {
            cp: cps.join(";"),
            flag: p.flag & !2,
            pnum: None,
            pno: None,
            ..p
        };
        (Some(whole), evicted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dust::device::Protocol;

    const VECTOR: &str = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";

    fn realtime(flag: u8) -> String {
        format!(
            "QN=20250110100000123;ST=22;CN=2011;PW=123456;MN=WH0001;Flag={flag};CP=&&DataTime=20250110100000;a34001-Rtd=0.250,a34001-Flag=N;a34002-Rtd=0.086,a34002-Flag=N;a34004-Rtd=0.041,a34004-Flag=N;a01007-Rtd=3.2,a01007-Flag=N;a01008-Rtd=275,a01008-Flag=N;a01001-Rtd=-5.5;a01002-Rtd=31&&"
        )
    }

    fn all_events(f: &mut Framer) -> Vec<Event> {
        std::iter::from_fn(|| f.next_event()).collect()
    }

    #[test]
    fn the_standards_test_vector_has_length_0101_and_crc_1c80() {
        assert_eq!(VECTOR.len(), 101);
        assert_eq!(crc16(VECTOR.as_bytes()), 0x1C80);
        let packet = frame(VECTOR).expect("short");
        assert!(packet.starts_with(b"##0101QN="));
        assert!(packet.ends_with(b"&&1C80\r\n"));
    }

    #[test]
    fn a_packet_split_at_every_byte_comes_out_once() {
        let packet = frame(&realtime(5)).expect("short");
        for cut in 1..packet.len() {
            let mut f = Framer::new();
            f.push(&packet[..cut]);
            assert_eq!(all_events(&mut f), vec![], "cut at {cut}");
            f.push(&packet[cut..]);
            assert_eq!(all_events(&mut f), vec![Event::Packet(realtime(5))]);
            assert_eq!(f.pending(), 0);
        }
    }

    #[test]
    fn packets_sent_together_come_out_one_by_one() {
        let mut bytes = frame(&realtime(4)).expect("short");
        bytes.extend(frame(VECTOR).expect("short"));
        bytes.extend(frame(&realtime(5)).expect("short"));
        let mut f = Framer::new();
        f.push(&bytes);
        assert_eq!(
            all_events(&mut f),
            vec![
                Event::Packet(realtime(4)),
                Event::Packet(VECTOR.into()),
                Event::Packet(realtime(5))
            ]
        );
    }

    #[test]
    fn garbage_is_skipped_up_to_the_next_packet() {
        let mut bytes = b"GET / HTTP/1.1\r\n\r\n#".to_vec();
        bytes.extend(frame(VECTOR).expect("short"));
        let mut f = Framer::new();
        f.push(&bytes);
        let events = all_events(&mut f);
        assert_eq!(events.last(), Some(&Event::Packet(VECTOR.into())));
        let skipped: usize = events
            .iter()
            .map(|e| match e {
                Event::Garbage { bytes, .. } => *bytes,
                Event::Packet(_) => 0,
            })
            .sum();
        assert_eq!(skipped, 19);
    }

    #[test]
    fn a_bad_crc_drops_that_packet_only() {
        let mut bad = frame(VECTOR).expect("short");
        let n = bad.len();
        bad[n - 6..n - 2].copy_from_slice(b"0000");
        bad.extend(frame(&realtime(4)).expect("short"));
        let mut f = Framer::new();
        f.push(&bad);
        assert_eq!(
            all_events(&mut f),
            vec![
                Event::Garbage {
                    bytes: n,
                    why: Garbage::BadCrc
                },
                Event::Packet(realtime(4))
            ]
        );
    }

    #[test]
    fn a_truncated_packet_does_not_swallow_the_next_one() {
        // The first packet lost its last 20 bytes; its length points into the second packet.
        let first = frame(&realtime(4)).expect("short");
        let mut bytes = first[..first.len() - 20].to_vec();
        bytes.extend(b"\r\n");
        bytes.extend(frame(VECTOR).expect("short"));
        let mut f = Framer::new();
        f.push(&bytes);
        let events = all_events(&mut f);
        assert_eq!(events.last(), Some(&Event::Packet(VECTOR.into())));
        assert!(
            events[..events.len() - 1]
                .iter()
                .all(|e| matches!(e, Event::Garbage { .. }))
        );
    }

    #[test]
    fn a_header_without_digits_is_garbage_and_memory_stays_bounded() {
        let mut f = Framer::new();
        f.push(b"##ABCD");
        assert!(matches!(
            f.next_event(),
            Some(Event::Garbage {
                why: Garbage::BadLength,
                ..
            })
        ));
        for _ in 0..1000 {
            f.push(&[b'x'; 1000]);
            while f.next_event().is_some() {}
        }
        assert!(f.pending() <= 1, "{}", f.pending());
    }

    #[test]
    fn the_header_fields_and_flag_bits_are_read() {
        let p = parse(VECTOR).expect("parses");
        assert_eq!(p.qn.as_deref(), Some("20160801085857223"));
        assert_eq!((p.st.as_str(), p.cn.as_str()), ("32", "1062"));
        assert_eq!(p.pw, "100000");
        assert_eq!(p.mn, "010000A8900016F000169DC0");
        assert!(p.wants_ack());
        assert!(!p.is_split());
        assert_eq!(p.cp, "RtdInterval=30");
        assert_eq!(p.data_level(), None);
        assert_eq!(parse("QN=1;ST=22"), Err(ParseError::NoCp));
        assert_eq!(
            parse("ST=22;PW=1;Flag=4;CP=&&&&"),
            Err(ParseError::Missing("CN"))
        );
        assert!(matches!(
            parse("ST=22;CN=2011;MN=X;Flag=five;CP=&&&&"),
            Err(ParseError::Bad { .. })
        ));
    }

    #[test]
    fn a_realtime_upload_becomes_a_reading_in_ug_per_m3() {
        let p = parse(&realtime(5)).expect("parses");
        let u = upload(&p, ParticulateUnit::MgPerM3).expect("data");
        let r = u.reading;
        assert_eq!(r.level, Level::RealTime);
        // 2025-01-10 10:00:00 in UTC+8 is 02:00:00Z.
        assert_eq!(r.at, 1_736_474_400);
        let near = |q: Quantity, want: f64| {
            let got = r.get(q).expect("value");
            assert!((got - want).abs() < 1e-9, "{q:?}: {got} != {want}");
        };
        near(Quantity::Tsp, 250.0);
        near(Quantity::Pm10, 86.0);
        near(Quantity::Pm25, 41.0);
        near(Quantity::WindSpeed, 3.2);
        near(Quantity::WindDir, 275.0);
        near(Quantity::Temperature, -5.5);
        near(Quantity::Humidity, 31.0);
        assert!(u.dropped.is_empty());
        let ug = upload(&p, ParticulateUnit::UgPerM3).expect("data");
        assert_eq!(ug.reading.get(Quantity::Pm10), Some(0.086));
    }

    #[test]
    fn minute_hourly_and_daily_uploads_take_the_averages() {
        for (cn, level) in [
            ("2051", Level::Minute),
            ("2061", Level::Hour),
            ("2031", Level::Day),
        ] {
            let data = format!(
                "QN=1;ST=22;CN={cn};PW=1;MN=M;Flag=4;CP=&&DataTime=20250110100000;a34002-Min=0.01,a34002-Avg=0.090,a34002-Max=0.2,a34002-Flag=N&&"
            );
            let u = upload(&parse(&data).expect("parses"), ParticulateUnit::MgPerM3).expect("data");
            assert_eq!(u.reading.level, level);
            let pm10 = u.reading.get(Quantity::Pm10).expect("pm10");
            assert!((pm10 - 90.0).abs() < 1e-9, "{pm10}");
        }
    }

    #[test]
    fn flagged_and_implausible_values_are_kept_marked_and_only_nan_is_left_out() {
        let data = "ST=22;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250110100000;a34002-Rtd=0.5,a34002-Flag=M;a34004-Rtd=abc;a01008-Rtd=400;a34001-Rtd=9,a34001-Flag=T;a01001-Rtd=NaN&&";
        let u = upload(&parse(data).expect("parses"), ParticulateUnit::MgPerM3).expect("data");
        let r = &u.reading;
        // Maintenance: kept with its flag, counts towards nothing.
        assert_eq!(r.get(Quantity::Pm10), Some(500.0));
        assert_eq!(r.flag(Quantity::Pm10), Some(b'M'));
        assert_eq!(r.valid(Quantity::Pm10), None);
        // Over the instrument's range (T): 9 mg/m³ is a measurement and counts.
        assert_eq!(r.valid(Quantity::Tsp), Some(9000.0));
        // A wind direction of 400° is impossible: kept, suspect.
        assert_eq!(r.get(Quantity::WindDir), Some(400.0));
        assert!(r.is_suspect(Quantity::WindDir));
        assert_eq!(r.valid(Quantity::WindDir), None);
        // Not a number: nothing to keep.
        assert_eq!(r.get(Quantity::Pm25), None);
        assert_eq!(r.get(Quantity::Temperature), None);
        assert_eq!(u.dropped.len(), 2);
        let no_time = "ST=22;CN=2011;PW=1;MN=M;Flag=4;CP=&&a34002-Rtd=0.5&&";
        assert_eq!(
            upload(&parse(no_time).expect("parses"), ParticulateUnit::MgPerM3),
            Err(ParseError::Missing("DataTime"))
        );
    }

    #[test]
    fn a_unit_that_does_not_match_the_device_is_flagged_not_alerted_on() {
        // A µg/m³ device registered as mg/m³ reads a thousand times too high, and the other way
        // round a thousand times too low: both are kept, suspect, and count towards nothing.
        let ug = "ST=39;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250110100000;a34002-Rtd=86,a34002-Flag=N;a34004-Rtd=41&&";
        let u = upload(&parse(ug).expect("parses"), ParticulateUnit::MgPerM3).expect("data");
        assert_eq!(u.reading.get(Quantity::Pm10), Some(86_000.0));
        assert_eq!(u.reading.suspects(), 2);
        assert_eq!(u.reading.valid(Quantity::Pm10), None);
        let right = upload(&parse(ug).expect("parses"), ParticulateUnit::UgPerM3).expect("data");
        assert_eq!(right.reading.valid(Quantity::Pm10), Some(86.0));
        assert_eq!(right.reading.suspects(), 0);
        let mg = "ST=39;CN=2011;PW=1;MN=M;Flag=4;CP=&&DataTime=20250110100000;a34002-Rtd=0.086&&";
        let u = upload(&parse(mg).expect("parses"), ParticulateUnit::UgPerM3).expect("data");
        assert_eq!(u.reading.get(Quantity::Pm10), Some(0.086));
        assert!(u.reading.is_suspect(Quantity::Pm10));
    }

    #[test]
    fn what_field_devices_send_is_read() {
        // Each from DOMAIN.md's list of what deployed monitors send; all µg/m³.
        let cases = [
            // No Flag field (2005-style), no QN, ST=39.
            "ST=39;CN=2011;PW=123456;MN=M;CP=&&DataTime=20250110100000;a34002-Rtd=86&&",
            // A 14-digit QN and header fields in another order.
            "MN=M;QN=20250110100000;CN=2011;ST=22;Flag=4;PW=123456;CP=&&DataTime=20250110100000;a34002-Rtd=86,a34002-Flag=N&&",
            // A factor without -Flag, an empty value, a ';' before the closing &&.
            "QN=1;ST=39;CN=2011;PW=1;MN=M;Flag=5;CP=&&DataTime=20250110100000;a34002-Rtd=86;a01006-Rtd=,a01006-Flag=N;a34004-Rtd=;&&",
            // Factors this system does not keep: noise, SO₂, NO₂, CO, pressure.
            "ST=39;CN=2011;PW=1;MN=M;Flag=9;CP=&&DataTime=20250110100000;LA-Rtd=61.2,LA-Flag=N;a21026-Rtd=7;a21004-Rtd=21;a21005-Rtd=0.6;a01006-Rtd=88.1;a34002-Rtd=86&&",
            // Minute data sent with -Rtd instead of -Avg.
            "ST=39;CN=2051;PW=1;MN=M;Flag=4;CP=&&DataTime=20250110100000;a34002-Rtd=86&&",
            // 2025 real-time data as caoyiliang/HJ212 shapes it: a 17-digit QN, a factor's
            // -SampleTime before its value and its device flag -EFlag after (both not kept).
            "QN=20250110100000223;ST=22;CN=2011;PW=1;MN=M;Flag=9;CP=&&DataTime=20250110100000;a34002-SampleTime=20250110095930,a34002-Rtd=86,a34002-Flag=N,a34002-EFlag=A01&&",
        ];
        for (i, data) in cases.into_iter().enumerate() {
            let p = parse(data).unwrap_or_else(|e| panic!("case {i}: {e}"));
            let u =
                upload(&p, ParticulateUnit::UgPerM3).unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(u.reading.valid(Quantity::Pm10), Some(86.0), "case {i}");
            assert!(u.dropped.is_empty(), "case {i}: {:?}", u.dropped);
            assert_eq!(u.reading.get(Quantity::Pm25), None, "case {i}");
        }
        let p = parse(cases[3]).expect("parses");
        assert_eq!(
            upload(&p, ParticulateUnit::UgPerM3)
                .expect("data")
                .other_factors,
            5
        );
        assert_eq!(Protocol::of_flag(p.flag), Some(Protocol::V2025));
        assert_eq!(
            Protocol::of_flag(parse(cases[0]).expect("parses").flag),
            Some(Protocol::V2005)
        );
        // A lower-case CRC frames like an upper-case one.
        let data = cases[1];
        let packet = format!(
            "##{:04}{data}{:04x}\r\n",
            data.len(),
            crc16(data.as_bytes())
        );
        let mut f = Framer::new();
        f.push(packet.as_bytes());
        assert_eq!(f.next_event(), Some(Event::Packet(data.into())));
    }

    #[test]
    fn the_acknowledgement_repeats_the_qn_with_st_91_cn_9014_flag_4() {
        let p = parse(&realtime(5)).expect("parses");
        let a = ack(&p).expect("short");
        let text = String::from_utf8(a.clone()).expect("ascii");
        let data = "QN=20250110100000123;ST=91;CN=9014;PW=123456;MN=WH0001;Flag=4;CP=&&&&";
        assert_eq!(
            text,
            format!(
                "##{:04}{data}{:04X}\r\n",
                data.len(),
                crc16(data.as_bytes())
            )
        );
        let mut f = Framer::new();
        f.push(&a);
        assert_eq!(f.next_event(), Some(Event::Packet(data.into())));
        // A 2025 packet is answered in 2025 (Flag=8).
        let p = parse(&realtime(9)).expect("parses");
        let a = String::from_utf8(ack(&p).expect("short")).expect("ascii");
        assert!(a.contains(";Flag=8;CP=&&&&"), "{a}");
    }

    #[test]
    fn the_server_answers_and_asks_in_the_devices_edition() {
        let heartbeat =
            parse("QN=20260110100000001;ST=39;CN=9015;PW=p;MN=M;Flag=9;CP=&&&&").expect("parses");
        let text = |b: Option<Vec<u8>>| {
            let mut f = Framer::new();
            f.push(&b.expect("short"));
            match f.next_event() {
                Some(Event::Packet(d)) => d,
                e => panic!("{e:?}"),
            }
        };
        assert_eq!(
            text(notice_reply(&heartbeat)),
            "QN=20260110100000001;ST=91;CN=9013;PW=p;MN=M;Flag=8;CP=&&&&"
        );
        let calibrate =
            parse("QN=1;ST=39;CN=1013;PW=p;MN=M;Flag=9;CP=&&PolId=a34002&&").expect("parses");
        // 2026-01-10 10:00:05 in UTC+8.
        assert_eq!(
            text(set_time(&calibrate, "20260110100005000", 1_768_010_405)),
            "QN=20260110100005000;ST=39;CN=1012;PW=p;MN=M;Flag=9;CP=&&PolId=a34002;SystemTime=20260110100005&&"
        );
        let old = parse("QN=1;ST=22;CN=2051;PW=p;MN=M;Flag=4;CP=&&DataTime=20250110100000&&")
            .expect("parses");
        assert_eq!(
            text(history(&old, "q", "2051", 1_736_474_400, 1_736_478_000)),
            "QN=q;ST=22;CN=2051;PW=p;MN=M;Flag=5;CP=&&BeginTime=20250110100000;EndTime=20250110110000&&"
        );
        let now = chrono::DateTime::from_timestamp(1_768_010_405, 7_000_000).expect("time");
        assert_eq!(new_qn(now), "20260110100005007");
    }

    #[test]
    fn split_packets_are_put_back_together() {
        let part = |pno: u32, cp: &str| {
            parse(&format!(
                "QN=7;ST=22;CN=2011;PW=1;MN=M;Flag=7;PNUM=2;PNO={pno};CP=&&{cp}&&"
            ))
            .expect("parses")
        };
        let t0 = Instant::now();
        let mut r = Reassembler::new(2, Duration::from_secs(60));
        let first = part(2, "a34002-Rtd=0.1");
        assert!(first.is_split());
        assert_eq!(r.add(first, t0), (None, 0));
        let (whole, _) = r.add(part(1, "DataTime=20250110100000"), t0);
        let whole = whole.expect("complete");
        assert_eq!(whole.cp, "DataTime=20250110100000;a34002-Rtd=0.1");
        assert!(!whole.is_split() && whole.wants_ack());
        let u = upload(&whole, ParticulateUnit::MgPerM3).expect("data");
        let pm10 = u.reading.get(Quantity::Pm10).expect("pm10");
        assert!((pm10 - 100.0).abs() < 1e-9, "{pm10}");
        // Unfinished packets beyond the capacity are given up.
        for qn in 0..3 {
            let p = parse(&format!(
                "QN={qn};ST=22;CN=2011;PW=1;MN=M;Flag=7;PNUM=2;PNO=1;CP=&&&&"
            ))
            .expect("parses");
            let (_, evicted) = r.add(p, t0);
            assert_eq!(evicted, usize::from(qn == 2));
        }
        // A part whose others never come is given up after the timeout, not held for ever.
        let late = t0 + Duration::from_secs(61);
        let (none, evicted) = r.add(part(2, "a34002-Rtd=0.2"), late);
        assert_eq!((none, evicted), (None, 2));
        let (whole, _) = r.add(part(1, "DataTime=20250110100000"), late);
        assert!(whole.is_some());
    }

    #[test]
    fn data_time_is_local_utc_plus_8() {
        assert_eq!(parse_data_time("20250110080000"), Some(1_736_467_200));
        assert_eq!(parse_data_time("2025011008000"), None);
        assert_eq!(parse_data_time("20251310080000"), None);
    }
}
