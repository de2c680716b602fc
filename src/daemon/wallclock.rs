//! Wake-ups at wall-clock deadlines that hold across suspend and clock changes.
//!
//! tokio's timers run on the monotonic clock, which stops while the machine is suspended: a
//! login that expired while a laptop slept would be published only when the monotonic sleep
//! ended. [`WallClock`] is a `CLOCK_REALTIME` timerfd armed with an absolute deadline. It fires
//! at resume when the deadline passed meanwhile. `TFD_TIMER_CANCEL_ON_SET` also wakes it when the
//! clock is set (an NTP step, a manual change), so the caller re-aims. Without a timerfd (it
//! could not be created or armed) it falls back to tokio's timer and says so in the log.

use crate::support::readable::Readable;
use crate::support::timefmt::Timestamp;
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

pub struct WallClock {
    timer: Option<Readable<TimerFd>>,
}

impl WallClock {
    /// Must be called inside the tokio runtime.
    pub fn new() -> WallClock {
        let timer = TimerFd::new(
            ClockId::CLOCK_REALTIME,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(std::io::Error::from)
        .and_then(Readable::new);
        match timer {
            Ok(timer) => WallClock { timer: Some(timer) },
            Err(error) => {
                tracing::warn!(%error, "no wall-clock timer: deadlines follow the monotonic clock, which stops during suspend");
                WallClock { timer: None }
            }
        }
    }

    /// Returns at `at` (wall clock, counting suspended time), or earlier when the system clock
    /// was set: the caller then re-aims.
    pub async fn sleep_until(&self, at: Timestamp) {
        let Some(timer) = &self.timer else {
            return monotonic_sleep_until(at).await;
        };
        // A zero it_value would disarm the timer: the earliest deadline is 1 ns after the epoch.
        let millis = at.millis().max(0);
        let nanos = (millis % 1000) * 1_000_000;
        let spec = TimeSpec::new(millis / 1000, nanos.max(if millis == 0 { 1 } else { 0 }));
        let armed = timer.get().set(
            Expiration::OneShot(spec),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME | TimerSetTimeFlags::TFD_TIMER_CANCEL_ON_SET,
        );
        if let Err(error) = armed {
            tracing::warn!(%error, "cannot arm the wall-clock timer");
            return monotonic_sleep_until(at).await;
        }
        loop {
            let Ok(mut ready) = timer.readable().await else {
                return monotonic_sleep_until(at).await;
            };
            let mut expirations = [0u8; 8];
            match ready.try_io(|fd| {
                nix::unistd::read(fd.get_ref().get(), &mut expirations)
                    .map_err(std::io::Error::from)
            }) {
                // Expired, or ECANCELED: the clock was set. Either way the caller looks again.
                Ok(_) => return,
                // Spurious readiness: wait again.
                Err(_would_block) => continue,
            }
        }
    }
}

async fn monotonic_sleep_until(at: Timestamp) {
    let ms = (at.millis() - Timestamp::now().millis()).max(0);
    tokio::time::sleep(std::time::Duration::from_millis(ms as u64)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn wakes_at_the_deadline_not_before() {
        runtime().block_on(async {
            let clock = WallClock::new();
            assert!(clock.timer.is_some(), "a timerfd on this kernel");
            let start = Timestamp::now();
            clock.sleep_until(start.saturating_add_millis(120)).await;
            let slept = Timestamp::now().millis() - start.millis();
            assert!((120..2000).contains(&slept), "slept {slept} ms");
        });
    }

    #[test]
    fn a_deadline_already_past_returns_at_once() {
        runtime().block_on(async {
            let clock = WallClock::new();
            let start = std::time::Instant::now();
            clock
                .sleep_until(Timestamp::now().saturating_add_millis(-60_000))
                .await;
            clock.sleep_until(Timestamp::from_secs(0)).await;
            assert!(start.elapsed() < std::time::Duration::from_secs(1));
        });
    }
}
