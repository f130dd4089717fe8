//! LinuxCNC's remote shell, `linuxcncrsh` (TCP 5007): a line-based text protocol of `hello`,
//! `set …` and `get …` requests. With `set verbose on` every `set` is answered `… ACK` or
//! `… NAK`, every `get` with its key and value(s). The protocol part (requests, replies, the
//! line splitter) does no I/O; [`Rsh`] is the blocking client the runner thread uses.
//!
//! A program runs from a file the controller itself reads (`set open PATH`): on the same
//! machine that is the file Swarf wrote; on another it is the path there.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The default linuxcncrsh port.
pub const DEFAULT_PORT: u16 = 5007;

/// One reply line.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `SET MODE ACK`, `HELLO ACK EMCNETSVR 1.1`
    Ack(String),
    /// `SET BOGUS NAK`, `GET UNITS NAK`
    Nak(String),
    /// `PROGRAM_STATUS IDLE`: the key and the rest.
    Value { key: String, value: String },
}

impl Reply {
    pub fn parse(line: &str) -> Reply {
        let line = line.trim();
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if words.clone().any(|w| w == "NAK") {
            return Reply::Nak(line.to_string());
        }
        if words.clone().any(|w| w == "ACK") {
            return Reply::Ack(line.to_string());
        }
        let value = line[first.len()..].trim().to_string();
        Reply::Value {
            key: first.to_string(),
            value,
        }
    }
}

/// `PROGRAM_STATUS …`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramStatus {
    Idle,
    Running,
    Paused,
}

impl ProgramStatus {
    pub fn parse(v: &str) -> Option<Self> {
        match v.trim() {
            "IDLE" => Some(Self::Idle),
            "RUNNING" => Some(Self::Running),
            "PAUSED" => Some(Self::Paused),
            _ => None,
        }
    }
}

/// `ABS_ACT_POS x y z a b c` → x, y, z.
pub fn parse_position(v: &str) -> Option<[f64; 3]> {
    let mut it = v.split_whitespace().map(str::parse::<f64>);
    Some([it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?])
}

/// linuxcncrsh ends its lines with `\r\n` or `\n\r`: split on either, dropping empty lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
}

impl LineSplitter {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if !self.buf.is_empty() {
                    out.push(String::from_utf8_lossy(&self.buf).into_owned());
                    self.buf.clear();
                }
            } else if self.buf.len() < 4096 {
                self.buf.push(b);
            }
        }
        out
    }
}

/// A request line must be one line of printable ASCII: a newline inside it would be a second
/// request.
pub fn check_request(req: &str) -> Result<(), String> {
    if req.chars().any(|c| c.is_control() || !c.is_ascii()) {
        return Err(format!(
            "`{req}` holds a control or non-ASCII character; linuxcncrsh takes one line of ASCII"
        ));
    }
    Ok(())
}

/// How long a hello may take: see [`Rsh::connect`].
const HELLO_WAIT: Duration = Duration::from_secs(20);

/// The blocking linuxcncrsh client.
pub struct Rsh {
    stream: TcpStream,
    split: LineSplitter,
    lines: std::collections::VecDeque<String>,
    timeout: Duration,
}

impl Rsh {
    /// Connect and say hello with `password` (LinuxCNC's default is `EMC`); echo off, verbose on
    /// (so every `set` is answered) and `set enable` with the same password.
    pub fn connect(addr: &str, password: &str, timeout: Duration) -> Result<Rsh, String> {
        let with_port = if addr.contains(':') {
            addr.to_string()
        } else {
            format!("{addr}:{DEFAULT_PORT}")
        };
        let sock = with_port
            .to_socket_addrs()
            .map_err(|e| format!("LinuxCNC host {with_port}: {e}"))?
            .next()
            .ok_or_else(|| format!("LinuxCNC host {with_port}: no address"))?;
        let stream = TcpStream::connect_timeout(&sock, timeout).map_err(|e| {
            format!("cannot reach linuxcncrsh at {with_port}: {e} (is LinuxCNC running with DISPLAY = linuxcncrsh, or linuxcncrsh started?)")
        })?;
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        let mut rsh = Rsh {
            stream,
            split: LineSplitter::default(),
            lines: std::collections::VecDeque::default(),
            timeout,
        };
        check_request(password)?;
        // linuxcncrsh listens before it has reached LinuxCNC's task (it connects to NML after
        // opening its port, retrying for a while), so a LinuxCNC that is still starting
        // accepts the connection and answers the hello only later: wait longer for it.
        rsh.timeout = timeout.max(HELLO_WAIT);
        let hello = rsh
            .request(&format!("hello {password} swarf 1.0"))
            .map_err(|e| {
                format!(
                    "{e} to the hello at {with_port}: LinuxCNC may still be starting, or its task has stopped (look at LinuxCNC's own window or log, then connect again)"
                )
            })?;
        rsh.timeout = timeout;
        match hello {
            Reply::Ack(_) => {}
            other => {
                return Err(format!(
                    "linuxcncrsh refused the hello ({other:?}): check the password (--password)"
                ));
            }
        }
        // Echo is on until this line is read, so it comes back as itself.
        rsh.write("set echo off")?;
        rsh.read_line()?;
        rsh.expect_ack("set verbose on")?;
        rsh.expect_ack(&format!("set enable {password}TOO"))
            .or_else(|_| rsh.expect_ack("set enable EMCTOO"))?;
        Ok(rsh)
    }

    fn write(&mut self, req: &str) -> Result<(), String> {
        check_request(req)?;
        self.stream
            .write_all(format!("{req}\r\n").as_bytes())
            .map_err(|e| format!("linuxcncrsh: sending `{req}`: {e}"))
    }

    fn read_line(&mut self) -> Result<String, String> {
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 1024];
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Ok(l);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "linuxcncrsh did not answer within {:.1} s",
                    self.timeout.as_secs_f64()
                ));
            }
            match self.stream.read(&mut buf) {
                Ok(0) => return Err("linuxcncrsh closed the connection".into()),
                Ok(n) => {
                    let got = self.split.push(&buf[..n]);
                    self.lines.extend(got);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(format!("linuxcncrsh: {e}")),
            }
        }
    }

    /// Send one request and read its reply.
    pub fn request(&mut self, req: &str) -> Result<Reply, String> {
        self.write(req)?;
        let line = self.read_line()?;
        Ok(Reply::parse(&line))
    }

    /// A `set …` that must be acknowledged.
    pub fn expect_ack(&mut self, req: &str) -> Result<(), String> {
        match self.request(req)? {
            Reply::Ack(_) => Ok(()),
            Reply::Nak(l) => Err(format!("LinuxCNC refused `{req}` ({l})")),
            Reply::Value { key, value } => Err(format!(
                "LinuxCNC answered `{req}` with `{key} {value}`, not an acknowledgement"
            )),
        }
    }

    /// Waits (`set wait done`) until the last command is done, for at most `within` (a probing
    /// move at a slow feed takes longer than an answer may).
    /// A refusal (the last command failed, e.g. a file that would not open) ends the wait
    /// too: its error is in the queue.
    pub fn wait_done(&mut self, within: Duration) -> Result<(), String> {
        let usual = std::mem::replace(&mut self.timeout, within);
        let r = self.request("set wait done");
        self.timeout = usual;
        r.map(|_| ())
    }

    /// A `get …`: the value after the key.
    pub fn get(&mut self, what: &str) -> Result<String, String> {
        let req = format!("get {what}");
        match self.request(&req)? {
            Reply::Value { value, .. } => Ok(value),
            other => Err(format!("LinuxCNC refused `{req}` ({other:?})")),
        }
    }

    pub fn program_status(&mut self) -> Result<ProgramStatus, String> {
        let v = self.get("program_status")?;
        ProgramStatus::parse(&v).ok_or_else(|| format!("unknown program status `{v}`"))
    }

    /// Machine (absolute) and work (relative) actual positions.
    pub fn positions(&mut self) -> Result<([f64; 3], [f64; 3]), String> {
        let a = self.get("abs_act_pos")?;
        let r = self.get("rel_act_pos")?;
        Ok((
            parse_position(&a).ok_or_else(|| format!("bad position `{a}`"))?,
            parse_position(&r).ok_or_else(|| format!("bad position `{r}`"))?,
        ))
    }

    /// The controller's queued error messages, oldest first (`get error` until `OK`).
    pub fn errors(&mut self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for _ in 0..32 {
            let v = self.get("error")?;
            if v == "OK" {
                break;
            }
            out.push(v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse() {
        assert_eq!(
            Reply::parse("SET MODE ACK"),
            Reply::Ack("SET MODE ACK".into())
        );
        assert_eq!(
            Reply::parse("HELLO ACK EMCNETSVR 1.1"),
            Reply::Ack("HELLO ACK EMCNETSVR 1.1".into())
        );
        assert_eq!(
            Reply::parse("GET UNITS NAK"),
            Reply::Nak("GET UNITS NAK".into())
        );
        assert_eq!(
            Reply::parse("PROGRAM_STATUS RUNNING"),
            Reply::Value {
                key: "PROGRAM_STATUS".into(),
                value: "RUNNING".into()
            }
        );
        assert_eq!(
            parse_position("4.225451 -0.822269 3.000000 0.000000 0.000000 0.000000"),
            Some([4.225_451, -0.822_269, 3.0])
        );
        assert_eq!(ProgramStatus::parse("PAUSED"), Some(ProgramStatus::Paused));
    }

    #[test]
    fn both_line_endings_split() {
        let mut s = LineSplitter::default();
        assert_eq!(
            s.push(b"SET MODE ACK\n\rPROGRAM_STATUS ID"),
            vec!["SET MODE ACK"]
        );
        assert_eq!(s.push(b"LE\r\n\r\n"), vec!["PROGRAM_STATUS IDLE"]);
    }

    #[test]
    fn a_request_is_one_line() {
        assert!(check_request("set mdi G0 X1").is_ok());
        assert!(check_request("set mdi G0 X1\nset estop on").is_err());
    }
}
