//! Precise wake-ups for the event loop: a one-shot `timerfd` registered with mio.
//!
//! `epoll_wait` only takes whole milliseconds, which would delay open-loop sends by up to a
//! millisecond (and the corrected latencies with them); busy-polling instead would steal the
//! CPU the server under test may need. A timerfd fires with microsecond precision.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use rustix::time::{timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags};

pub struct WakeTimer {
    fd: OwnedFd,
    /// Deadline the timer is set for (ns since the run's base), to skip redundant re-arms.
    armed_for_ns: Option<u64>,
}

impl WakeTimer {
    pub fn new(registry: &Registry, token: Token) -> io::Result<WakeTimer> {
        let fd = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC)?;
        registry.register(&mut SourceFd(&fd.as_raw_fd()), token, Interest::READABLE)?;
        Ok(WakeTimer { fd, armed_for_ns: None })
    }

    /// Makes the timer fire at `deadline_ns` (both times in ns since the same base).
    pub fn arm(&mut self, deadline_ns: u64, now_ns: u64) -> io::Result<()> {
        if self.armed_for_ns == Some(deadline_ns) {
            return Ok(());
        }
        // Zero would disarm the timer; one nanosecond fires at once.
        let wait_ns = deadline_ns.saturating_sub(now_ns).max(1);
        let spec = Itimerspec {
            it_interval: rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: rustix::time::Timespec {
                tv_sec: (wait_ns / 1_000_000_000) as i64,
                tv_nsec: (wait_ns % 1_000_000_000) as _,
            },
        };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec)?;
        self.armed_for_ns = Some(deadline_ns);
        Ok(())
    }

    /// Consumes the expiry so the next one is reported again.
    pub fn on_fired(&mut self) {
        let mut expirations = [0u8; 8];
        // WouldBlock just means it was already consumed.
        let _ = rustix::io::read(&self.fd, &mut expirations);
        self.armed_for_ns = None;
    }
}
