//! What the machine link's tests share.

use std::time::Duration;

use swarf_machine::Link;
use swarf_machine::grbl::Event;

/// Events until `done`, or a panic naming the last ones.
pub fn until(link: &Link, secs: u64, done: impl FnMut(&Event) -> bool) -> Vec<Event> {
    link.events_until(Duration::from_secs(secs), done)
        .unwrap_or_else(|seen| {
            panic!(
                "timed out; last events: {:?}",
                &seen[seen.len().saturating_sub(8)..]
            )
        })
}
