//! A dust monitor's data logger, as the tests drive it against the real listener: it keeps its
//! minute data, uploads it in HJ 212-2017 or 2025 packets, loses and regains its link, sends
//! packets again, and answers the server's requests (history pulls, clock setting) the way the
//! standard and the open implementations (caoyiliang/HJ212) do: a request reply (9011), the
//! data, an execution result (9012).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use qingling::hj212::codec::{self as hj212, Event, Framer};

/// The edition a device speaks: its Flag's version bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    V2017 = 4,
    V2025 = 8,
}

pub struct Device {
    pub mn: String,
    pub pw: String,
    pub st: &'static str,
    pub edition: Edition,
    /// What it has measured: minute data by Unix second (PM10 in µg/m³).
    pub kept: BTreeMap<i64, f64>,
    link: Option<TcpStream>,
    framer: Framer,
    qn: u64,
}

impl Device {
    pub fn new(mn: &str, pw: &str, edition: Edition) -> Device {
        Device {
            mn: mn.into(),
            pw: pw.into(),
            st: "39",
            edition,
            kept: BTreeMap::new(),
            link: None,
            framer: Framer::new(),
            qn: 0,
        }
    }

    pub fn connect(&mut self, addr: SocketAddr) {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        self.link = Some(s);
        self.framer = Framer::new();
    }

    /// The link drops (what it measures meanwhile stays in `kept`).
    pub fn disconnect(&mut self) {
        self.link = None;
    }

    fn next_qn(&mut self) -> String {
        self.qn += 1;
        format!("20250110{:09}", self.qn)
    }

    /// A packet of this device, Flag with its edition and `ack` asked or not.
    pub fn packet(&mut self, cn: &str, ack: bool, cp: &str) -> Vec<u8> {
        let qn = self.next_qn();
        let flag = self.edition as u8 | u8::from(ack);
        hj212::frame(&format!(
            "QN={qn};ST={};CN={cn};PW={};MN={};Flag={flag};CP=&&{cp}&&",
            self.st, self.pw, self.mn
        ))
        .unwrap()
    }

    fn minute_cp(&self, t: i64) -> String {
        format!(
            "DataTime={};a34002-Avg={:.1},a34002-Flag=N",
            hj212::data_time(t),
            self.kept[&t]
        )
    }

    /// Measures `pm10` at `t` and, when linked, sends it as minute data (no acknowledgement
    /// asked, as most loggers send minute data).
    pub fn measure(&mut self, t: i64, pm10: f64) {
        self.kept.insert(t, pm10);
        if self.link.is_some() {
            self.resend(t);
        }
    }

    /// Sends the minute data of `t` (again).
    pub fn resend(&mut self, t: i64) {
        let cp = self.minute_cp(t);
        let p = self.packet("2051", false, &cp);
        self.send(&p);
    }

    /// Sends a packet of `cn` asking for an answer; returns the server's next packet.
    pub fn ask(&mut self, cn: &str, cp: &str) -> String {
        let p = self.packet(cn, true, cp);
        self.send(&p);
        self.receive(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no answer to CN={cn}"))
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.link
            .as_mut()
            .expect("linked")
            .write_all(bytes)
            .unwrap();
    }

    /// The next packet from the server within `wait`, or `None`.
    pub fn receive(&mut self, wait: Duration) -> Option<String> {
        let end = Instant::now() + wait;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(e) = self.framer.next_event() {
                match e {
                    Event::Packet(d) => return Some(d),
                    Event::Garbage { why, .. } => panic!("the server sent garbage: {why:?}"),
                }
            }
            let left = end.checked_duration_since(Instant::now())?;
            let s = self.link.as_mut().expect("linked");
            s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .unwrap();
            match s.read(&mut buf) {
                Ok(0) => panic!("the server closed the link"),
                Ok(n) => self.framer.push(&buf[..n]),
                Err(_) => return None,
            }
        }
    }

    /// Answers a request of the server: a history pull (2051/2061 with BeginTime/EndTime) with
    /// the kept data in the period, a clock setting (1012) with its results. Returns the CN.
    pub fn answer(&mut self, request: &str) -> String {
        let p = hj212::parse(request).expect("a request the device can read");
        let reply = |d: &mut Device, cn: &str, cp: &str| {
            let data = format!(
                "QN={};ST=91;CN={cn};PW={};MN={};Flag={};CP=&&{cp}&&",
                p.qn.clone().unwrap_or_default(),
                d.pw,
                d.mn,
                d.edition as u8
            );
            let bytes = hj212::frame(&data).unwrap();
            d.send(&bytes);
        };
        reply(self, "9011", "QnRtn=1");
        if p.cn == "2051" {
            let field = |k: &str| {
                hj212::cp_fields(&p.cp)
                    .find(|(key, _)| *key == k)
                    .and_then(|(_, v)| hj212::parse_data_time(v))
                    .expect("BeginTime and EndTime")
            };
            let (begin, end) = (field("BeginTime"), field("EndTime"));
            let times: Vec<i64> = self.kept.range(begin..=end).map(|(t, _)| *t).collect();
            for t in times {
                self.resend(t);
            }
        }
        reply(self, "9012", "ExeRtn=1");
        p.cn
    }
}
