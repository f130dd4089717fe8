//! Generation on a worker thread: progress per operation, a cancel token that reaches inside
//! the operations, and results kept only when they belong to the latest parameters.

use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use swarf_core::job::{JobError, JobOutput};
use swarf_core::ops::Cancel;

use super::Session;

/// What the worker sends: progress of a generation, or its outcome.
pub(super) enum Msg {
    Progress(u64, usize, usize),
    Done(u64, Result<Box<JobOutput>, JobError>),
}

/// A generation in flight.
pub(super) struct Worker {
    pub(super) rx: Receiver<Msg>,
    pub(super) cancel: Cancel,
}

impl Session {
    /// Starts generating the current job on a worker thread; a generation still running is
    /// told to stop, and its result is dropped if it arrives.
    pub fn regenerate(&mut self) {
        // A part being read regenerates when it arrives (with the job as it is then).
        if self.loading.is_some() {
            return;
        }
        let Some(main) = self.model.clone() else {
            return;
        };
        let d = swarf_core::job::Parts {
            main,
            with: self.with_models.clone(),
        };
        if let Some(w) = &self.worker {
            w.cancel.cancel();
        }
        self.generation += 1;
        let gen_ = self.generation;
        let job = self.job.clone();
        let (tx, rx) = channel();
        let cancel = Cancel::new();
        let stop = cancel.clone();
        self.progress = (0, job.operations.iter().filter(|o| o.enabled).count());
        let cache = self.cache.clone();
        let model_key = self.model_key;
        let waker = self.waker.clone();
        std::thread::spawn(move || {
            // The token reaches inside the operations (between regions, levels, passes and
            // layers), so a cancelled or superseded generation stops working soon. Results of
            // operations whose inputs did not change come from the cache.
            let r = job.run_model_cached(
                d,
                Some((&cache, model_key)),
                &mut |done, total| {
                    let sent = tx.send(Msg::Progress(gen_, done, total)).is_ok();
                    if let Some(w) = &waker {
                        w();
                    }
                    sent
                },
                &stop,
            );
            let _ = tx.send(Msg::Done(gen_, r.map(Box::new)));
            // The finished result is shown without waiting for the next input event.
            if let Some(w) = &waker {
                w();
            }
        });
        self.worker = Some(Worker { rx, cancel });
    }

    /// Stops the generation in flight; the view keeps the last finished result.
    pub fn cancel(&mut self) {
        if let Some(w) = self.worker.take() {
            w.cancel.cancel();
            self.messages.insert(
                0,
                "generation cancelled; the view shows the last finished result".into(),
            );
        }
    }

    /// Whether a generation is running.
    pub fn busy(&self) -> bool {
        self.worker.is_some() || self.loading.is_some()
    }

    /// The part file being read, if any.
    pub fn loading(&self) -> Option<&str> {
        self.loading.as_ref().map(|l| l.file.as_str())
    }

    /// Whether the result shown belongs to the current parameters.
    pub fn up_to_date(&self) -> bool {
        self.output.is_some() && self.output_gen == self.generation
    }

    /// Takes what the worker sent; a finished generation is kept only if it is the latest.
    /// Returns true when something changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        if let Some(l) = &self.loading {
            let got = match l.rx.try_recv() {
                Ok(r) => Some(r),
                Err(std::sync::mpsc::TryRecvError::Empty) => None,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => Some(Err(JobError::Parse(
                    format!("reading {} stopped unexpectedly", l.file),
                ))),
            };
            if let Some(r) = got {
                let l = self.loading.take().expect("checked above");
                self.part_arrived(r, l.then);
                changed = true;
            }
        }
        while let Some(w) = &self.worker {
            let msg = match w.rx.try_recv() {
                Ok(m) => m,
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.worker = None;
                    self.error = Some("generation stopped unexpectedly".into());
                    return true;
                }
            };
            changed = true;
            match msg {
                Msg::Progress(g, done, total) if g == self.generation => {
                    self.progress = (done, total);
                }
                Msg::Progress(..) => {}
                Msg::Done(g, r) => {
                    self.worker = None;
                    if g != self.generation {
                        continue;
                    }
                    match r {
                        Ok(out) => {
                            // What the user just did (written, advanced) stays above the new
                            // result's warnings: an export that advances a serial number
                            // regenerates at once.
                            let mut kept: Vec<String> = self
                                .messages
                                .drain(..)
                                .filter(|m| {
                                    m.starts_with("wrote ")
                                        || m.starts_with("serial numbers advanced")
                                })
                                .take(2)
                                .collect();
                            kept.extend(out.operations.iter().flat_map(|(n, _, r)| {
                                r.warnings.iter().map(move |w| format!("{n}: {w}"))
                            }));
                            self.messages = kept;
                            self.error = None;
                            // The summary once per result, not per frame (a million moves).
                            let rapid = self.job.post.rapid_mm_per_min;
                            self.summary = out.program_stats(rapid);
                            self.output = Some(out);
                            self.output_gen = g;
                        }
                        Err(JobError::Cancelled) => {}
                        Err(e) => self.error = Some(e.to_string()),
                    }
                }
            }
        }
        changed
    }

    /// Waits for the running generation (tests, export).
    pub fn wait(&mut self) {
        while self.busy() {
            if !self.poll() {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}
