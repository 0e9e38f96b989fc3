//! Talking HJ 212 to the listener from a test: reading its answers, and telling silence from
//! a closed connection.

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use qingling::hj212::codec::{Event, Framer};

/// The data segments of the next `n` packets the listener sends (acknowledgements).
pub fn packets(s: &mut TcpStream, n: usize) -> Vec<String> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut f = Framer::new();
    let mut out = vec![];
    let mut buf = [0u8; 4096];
    while out.len() < n {
        let k = s.read(&mut buf).expect("an acknowledgement in time");
        assert!(k > 0, "closed after {} acknowledgements", out.len());
        f.push(&buf[..k]);
        while let Some(e) = f.next_event() {
            match e {
                Event::Packet(d) => out.push(d),
                Event::Garbage { why, .. } => {
                    panic!("the acknowledgement is not a packet: {why:?}")
                }
            }
        }
    }
    out
}

/// Nothing arrives within `wait`, and the connection stays open.
pub fn silent_for(s: &mut TcpStream, wait: Duration) {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(0) => panic!("the listener closed the connection"),
        Ok(n) => panic!(
            "unexpected answer: {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
}

/// Whether the listener closes the connection within a few seconds.
pub fn closed(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 256];
    match s.read(&mut buf) {
        Ok(n) => n == 0,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}
