//! What the app keeps between runs, in one folder: the recent files, the user's tool library
//! and the autosave of unsaved work (with recovery after a crash). Every write is atomic.
//!
//! Each running app autosaves to a file of its own and holds an OS lock on a companion file
//! while it runs; the lock goes with the process, so at start an autosave whose lock can be
//! taken belongs to an app that is gone (crashed or killed) and is offered back. Two apps
//! running side by side never take each other's work.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use swarf_core::fsio::write_atomic;
use swarf_core::job::Job;
use swarf_core::tool::ToolLibrary;

/// How many recent files are remembered.
pub const RECENT_MAX: usize = 10;

const RECENT: &str = "recent.txt";
const TOOLS: &str = "tools.toml";
const MACHINE: &str = "machine.txt";
const AUTOSAVE_PREFIX: &str = "autosave-";
const AUTOSAVE_HEADER: &str = "# Swarf autosave; project: ";

/// Tells apart stores made in one process (tests start several apps in turn).
static INSTANCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The folder where the app keeps its state; `None` keeps nothing (and says so where it
/// matters).
#[derive(Debug, Clone, Default)]
pub struct Store {
    dir: Option<PathBuf>,
    /// This app's autosave name (without extension).
    id: String,
    /// The lock that marks this app's autosave as in use, held while the store lives.
    lock: Option<std::sync::Arc<std::fs::File>>,
}

/// Unsaved work found at start: the job as it was, and the project it belonged to.
#[derive(Debug, Clone)]
pub struct Recovery {
    pub job: Job,
    pub project: Option<PathBuf>,
    pub saved: Option<SystemTime>,
    /// The autosave file it came from (removed once recovered or discarded).
    pub file: PathBuf,
}

impl Store {
    /// A store in `dir` (created when first written).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        let n = INSTANCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut s = Self {
            dir: Some(dir.into()),
            id: format!("{AUTOSAVE_PREFIX}{}-{n}", std::process::id()),
            lock: None,
        };
        s.lock = s.take_lock(&s.id.clone()).map(std::sync::Arc::new);
        s.sweep_stale_locks();
        s
    }

    /// Removes the lock files of apps that are gone and left no autosave (killed with nothing
    /// unsaved), so they do not pile up.
    fn sweep_stale_locks(&self) {
        let Some(entries) = self.dir.as_ref().and_then(|d| std::fs::read_dir(d).ok()) else {
            return;
        };
        for p in entries.filter_map(Result::ok).map(|e| e.path()) {
            let Some(id) = p.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
                continue;
            };
            if id.starts_with(AUTOSAVE_PREFIX)
                && id != self.id
                && p.extension().is_some_and(|e| e == "lock")
                && !p.with_extension("toml").exists()
                && let Some(lock) = self.take_lock(&id)
            {
                drop(lock);
                let _ = std::fs::remove_file(&p);
            }
        }
    }

    /// A store that keeps nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Opens and locks `<id>.lock` (None when the folder cannot be written or another live
    /// app holds it).
    fn take_lock(&self, id: &str) -> Option<std::fs::File> {
        let dir = self.dir.as_ref()?;
        std::fs::create_dir_all(dir).ok()?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{id}.lock")))
            .ok()?;
        f.try_lock().ok()?;
        Some(f)
    }

    /// `$SWARF_STATE_DIR`, else the platform's per-user state folder
    /// (`$XDG_STATE_HOME/swarf`, `~/.local/state/swarf`, `%APPDATA%\swarf`).
    pub fn default_location() -> Self {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = env("SWARF_STATE_DIR")
            .or_else(|| env("XDG_STATE_HOME").map(|d| d.join("swarf")))
            .or_else(|| env("APPDATA").map(|d| d.join("swarf")))
            .or_else(|| env("HOME").map(|d| d.join(".local/state/swarf")));
        dir.map_or_else(Self::none, Self::at)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(name))
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)
            .and_then(|()| write_atomic(&dir.join(name), bytes))
            .map_err(|e| format!("cannot write {}: {e}", dir.join(name).display()))
    }

    /// The recent files, newest first.
    pub fn recent(&self) -> Vec<PathBuf> {
        let Some(text) = self
            .path(RECENT)
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .take(RECENT_MAX)
            .map(PathBuf::from)
            .collect()
    }

    /// Puts `file` first in the recent files.
    pub fn add_recent(&self, file: &Path) -> Result<Vec<PathBuf>, String> {
        let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
        let mut list = self.recent();
        list.retain(|p| p != &file);
        list.insert(0, file);
        list.truncate(RECENT_MAX);
        // One path per line: a name with a line break cannot be listed (and is not).
        list.retain(|p| !p.to_string_lossy().contains(['\n', '\r']));
        let mut text = String::new();
        for p in &list {
            text.push_str(&p.to_string_lossy());
            text.push('\n');
        }
        self.write(RECENT, text.as_bytes())?;
        Ok(list)
    }

    /// The user's tool library, or the shipped presets when there is none yet. A library that
    /// cannot be read is reported (the presets are used meanwhile; the file is not touched).
    pub fn tools(&self) -> (ToolLibrary, Option<String>) {
        let Some(p) = self.path(TOOLS) else {
            return (ToolLibrary::presets(), None);
        };
        match std::fs::read_to_string(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (ToolLibrary::presets(), None),
            Err(e) => (
                ToolLibrary::presets(),
                Some(format!(
                    "cannot read {}: {e}; using the presets",
                    p.display()
                )),
            ),
            Ok(text) => match ToolLibrary::from_toml(&text) {
                Ok(lib) => (lib, None),
                Err(e) => (
                    ToolLibrary::presets(),
                    Some(format!(
                        "{}: {e}; using the presets until it is fixed",
                        p.display()
                    )),
                ),
            },
        }
    }

    pub fn save_tools(&self, lib: &ToolLibrary) -> Result<(), String> {
        self.write(TOOLS, lib.to_toml().as_bytes())
    }

    /// The Machine panel's last connection (`key = value` lines: kind, port, baud, host,
    /// `send_and_wait`); empty when none was made. The LinuxCNC password is not kept.
    pub fn machine_settings(&self) -> Vec<(String, String)> {
        let Some(text) = self
            .path(MACHINE)
            .and_then(|p| std::fs::read_to_string(p).ok())
        else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect()
    }

    pub fn save_machine_settings(&self, settings: &[(&str, String)]) -> Result<(), String> {
        let mut text = String::new();
        for (k, v) in settings {
            // One setting per line: a value with a line break is not kept.
            if !v.contains(['\n', '\r']) {
                let _ = writeln!(text, "{k} = {v}");
            }
        }
        self.write(MACHINE, text.as_bytes())
    }

    /// Saves unsaved work: the job (its part path made absolute, so it opens from anywhere)
    /// and the project it belongs to.
    pub fn write_autosave(&self, job: &Job, project: Option<&Path>) -> Result<(), String> {
        let project = project
            .map(|p| p.to_string_lossy().replace(['\n', '\r'], " "))
            .unwrap_or_default();
        let text = format!("{AUTOSAVE_HEADER}{project}\n{}", job.to_toml());
        self.write(&format!("{}.toml", self.id), text.as_bytes())
    }

    /// Unsaved work left by a run that did not end cleanly (the newest, when there are
    /// several; the others are offered after it). An autosave that cannot be read any more
    /// (e.g. written by a newer Swarf) is reported, not silently dropped.
    pub fn autosave(&self) -> Option<Result<Recovery, String>> {
        let dir = self.dir.as_ref()?;
        let mut orphans: Vec<(SystemTime, PathBuf)> = std::fs::read_dir(dir)
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let stem = p.file_stem().map(|n| n.to_string_lossy().into_owned());
                stem.is_some_and(|n| n.starts_with(AUTOSAVE_PREFIX))
                    && p.extension().is_some_and(|e| e == "toml")
            })
            .filter(|p| {
                // Not ours, and its app is gone: its lock can be taken (and is let go again).
                let id = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                id.is_some_and(|id| id != self.id && self.take_lock(&id).is_some())
            })
            .map(|p| {
                let t = std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (t, p)
            })
            .collect();
        orphans.sort();
        let (saved, p) = orphans.pop()?;
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) => return Some(Err(format!("cannot read {}: {e}", p.display()))),
        };
        let project = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(AUTOSAVE_HEADER))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        Some(
            Job::from_toml(&text)
                .map(|job| Recovery {
                    job,
                    project,
                    saved: Some(saved),
                    file: p.clone(),
                })
                .map_err(|e| {
                    format!(
                        "the autosave {} cannot be used: {e}; it is left there for you",
                        p.display()
                    )
                }),
        )
    }

    /// Removes this app's autosave (after a clean exit or a save).
    pub fn clear_autosave(&self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(format!("{}.toml", self.id)));
        }
    }

    /// At a clean exit: removes this app's autosave and its lock file.
    pub fn release(&self) {
        self.clear_autosave();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_file(dir.join(format!("{}.lock", self.id)));
        }
    }

    /// Removes an offered autosave (recovered or discarded) and its lock file.
    pub fn remove_recovered(&self, r: &Recovery) {
        let _ = std::fs::remove_file(&r.file);
        let _ = std::fs::remove_file(r.file.with_extension("lock"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarf_core::job::EXAMPLE_JOB_TOML;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("swarf-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn recent_files_newest_first_without_duplicates() {
        let d = temp("recent");
        let s = Store::at(&d);
        assert!(s.recent().is_empty());
        s.add_recent(Path::new("/parts/a.dxf")).unwrap();
        s.add_recent(Path::new("/parts/b.dxf")).unwrap();
        let l = s.add_recent(Path::new("/parts/a.dxf")).unwrap();
        assert_eq!(
            l,
            vec![PathBuf::from("/parts/a.dxf"), "/parts/b.dxf".into()]
        );
        assert_eq!(s.recent(), l);
        for i in 0..20 {
            s.add_recent(&PathBuf::from(format!("/p/{i}.dxf"))).unwrap();
        }
        assert_eq!(s.recent().len(), RECENT_MAX);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn autosave_round_trips_and_clears() {
        let d = temp("autosave");
        let s = Store::at(&d);
        assert!(s.autosave().is_none());
        let mut job = Job::from_toml(EXAMPLE_JOB_TOML).unwrap();
        job.title = "changed".into();
        s.write_autosave(&job, Some(Path::new("/home/u/plate.toml")))
            .unwrap();
        // Another app running beside it does not take its work...
        let beside = Store::at(&d);
        assert!(beside.autosave().is_none());
        // ...but once it is gone (its lock goes with it), the next one finds it.
        drop(s);
        let next = Store::at(&d);
        let r = next.autosave().unwrap().unwrap();
        assert_eq!(r.job, job);
        assert_eq!(r.project, Some(PathBuf::from("/home/u/plate.toml")));
        next.remove_recovered(&r);
        assert!(next.autosave().is_none());
        // Clean exit: its own autosave goes.
        next.write_autosave(&job, None).unwrap();
        next.clear_autosave();
        drop(next);
        assert!(Store::at(&d).autosave().is_none());
        // Lock files of apps gone with nothing unsaved are swept.
        let locks = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .filter(|e| {
                    let p = e.as_ref().unwrap().path();
                    p.extension().is_some_and(|x| x == "lock")
                })
                .count()
        };
        drop(beside);
        let live = Store::at(&d);
        assert_eq!(locks(&d), 1, "only the live store's lock is left");
        drop(live);
        // A damaged autosave is reported, not dropped in silence.
        std::fs::write(d.join("autosave-1-1.toml"), "version = 1\n[part\n").unwrap();
        assert!(Store::at(&d).autosave().unwrap().is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn tool_library_presets_then_the_users_own() {
        let d = temp("tools");
        let s = Store::at(&d);
        let (mut lib, err) = s.tools();
        assert!(err.is_none());
        assert_eq!(lib, ToolLibrary::presets());
        lib.tools.truncate(1);
        s.save_tools(&lib).unwrap();
        assert_eq!(s.tools().0, lib);
        std::fs::write(d.join(TOOLS), "[[tool]]\nname = 3\n").unwrap();
        let (l, err) = s.tools();
        assert_eq!(l, ToolLibrary::presets());
        assert!(err.unwrap().contains("tools.toml"));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
