//! The HJ 212-2017 inbound adapter (`qingling serve --hj212 HOST:PORT`): dust monitors' TCP
//! packets in, acknowledgements out, as `http/` is for requests. `codec` reads and writes packets
//! (no I/O); `listener` serves the connections, with `guard` against floods and guessing. Readings
//! go to the use cases (`service::dust`: the group-commit writer, the credentials), never to the
//! store directly.

pub mod codec;
pub mod gaps;
pub mod guard;
pub mod listener;
