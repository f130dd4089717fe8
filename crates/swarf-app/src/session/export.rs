//! The checked export: the program is read back and checked as the CLI does before it is
//! written; a refused program waits for the user's explicit "Export anyway".

use std::path::{Path, PathBuf};

use super::Session;

/// A program the export check refused: where it was to go and what the check found.
pub struct RefusedExport {
    pub path: PathBuf,
    pub report: swarf_core::verify::ExportReport,
    /// The generation checked; a newer result needs a new check.
    pub generation: u64,
}

impl Session {
    /// Checks the program as the CLI does (read back, gouges and rapids through stock per
    /// operation) and writes it (atomically) to `path` when the check passes. When it finds
    /// problems nothing is written: they wait in [`Session::export_refused`] until the user
    /// chooses [`Session::export_anyway`] or cancels.
    pub fn export(&mut self, path: &Path) -> Result<(), String> {
        let report = self.check_program("export")?;
        if !report.passed() {
            let msg = format!(
                "export check: {}; {} not written",
                report.messages().join("; "),
                path.display()
            );
            self.export_refused = Some(RefusedExport {
                path: path.to_path_buf(),
                report,
                generation: self.output_gen,
            });
            return Err(msg);
        }
        self.write_program(path)
    }

    /// The program for a machine run: checked as an export is and written to `path`, but not
    /// remembered as the export file; a refused program is an error (a run has no "anyway").
    pub fn write_checked_program(&mut self, path: &Path) -> Result<(), String> {
        let report = self.check_program("run")?;
        if !report.passed() {
            return Err(format!(
                "the export check refuses this program, so it is not run: {}",
                report.messages().join("; ")
            ));
        }
        let out = self.output.as_ref().ok_or("nothing generated yet")?;
        swarf_core::fsio::write_atomic(path, out.program.text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// The export check of the latest result (waiting for it); an error when there is none
    /// to `what` (export, run).
    fn check_program(&mut self, what: &str) -> Result<swarf_core::verify::ExportReport, String> {
        self.wait();
        if !self.up_to_date() {
            return Err(match &self.error {
                Some(e) => format!("nothing to {what}: {e}"),
                None => format!("nothing to {what}: the toolpaths are not generated"),
            });
        }
        let out = self.output.as_ref().ok_or("nothing generated yet")?;
        swarf_core::verify::export_check(out, &out.program).map_err(|e| e.to_string())
    }

    /// Writes the program the export check refused, at the user's explicit choice.
    pub fn export_anyway(&mut self) -> Result<(), String> {
        let Some(r) = self.export_refused.take() else {
            return Err("no refused export to write".into());
        };
        if r.generation != self.output_gen || !self.up_to_date() {
            return Err("the toolpaths changed since the check; export again".into());
        }
        self.write_program(&r.path)?;
        self.messages.insert(
            0,
            format!(
                "{} written despite {} problem(s) found by the export check",
                r.path.display(),
                r.report.problems.len()
            ),
        );
        Ok(())
    }

    fn write_program(&mut self, path: &Path) -> Result<(), String> {
        let out = self.output.as_ref().ok_or("nothing generated yet")?;
        swarf_core::fsio::write_atomic(path, out.program.text.as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.remember_export(path);
        Ok(())
    }

    fn remember_export(&mut self, path: &Path) {
        self.export_path = path.to_string_lossy().into_owned();
        self.messages.insert(0, format!("wrote {}", path.display()));
        self.advance_counters();
    }

    /// A written program used the serial numbers: each enabled text with a counter goes on to
    /// the next number for the next program (an edit like any other: saved, undoable); past
    /// every copy's number where each copy of an array carries its own.
    fn advance_counters(&mut self) {
        let mut job = self.job.clone();
        let mut advanced = Vec::new();
        let copies = self
            .output
            .as_ref()
            .map_or(1, |o| o.copies.iter().filter(|c| c.enabled).count())
            .max(1) as u64;
        for op in job.operations.iter_mut().filter(|o| o.enabled) {
            if let swarf_core::ops::OpSpec::Text(t) = &mut op.spec
                && t.has_counter()
            {
                let used = if t.per_copy { copies } else { 1 };
                t.counter = t.counter.saturating_add(used);
                advanced.push(format!("{} to {}", op.name, t.counter));
            }
        }
        if !advanced.is_empty() {
            self.set_job(job);
            self.messages.insert(
                0,
                format!(
                    "serial numbers advanced for the next program: {}",
                    advanced.join(", ")
                ),
            );
        }
    }
}
