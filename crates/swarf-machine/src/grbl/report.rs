//! What GRBL says and the real-time bytes it takes (`doc/markdown/interface.md`,
//! `doc/markdown/commands.md` of GRBL 1.1).

/// A real-time command: one byte, acted on by GRBL the moment it arrives, wherever it appears
/// in the stream; it takes no room in the RX buffer and gets no `ok`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realtime {
    StatusQuery,
    FeedHold,
    /// Cycle start / resume after a feed hold or `M0`.
    CycleStart,
    SoftReset,
    SafetyDoor,
    JogCancel,
    FeedOverrideReset,
    FeedOverridePlus10,
    FeedOverrideMinus10,
    FeedOverridePlus1,
    FeedOverrideMinus1,
    RapidOverrideFull,
    RapidOverrideHalf,
    RapidOverrideQuarter,
    SpindleOverrideReset,
    SpindleOverridePlus10,
    SpindleOverrideMinus10,
    SpindleOverridePlus1,
    SpindleOverrideMinus1,
    SpindleStopToggle,
    FloodToggle,
    MistToggle,
}

impl Realtime {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Realtime::StatusQuery => b'?',
            Realtime::FeedHold => b'!',
            Realtime::CycleStart => b'~',
            Realtime::SoftReset => 0x18,
            Realtime::SafetyDoor => 0x84,
            Realtime::JogCancel => 0x85,
            Realtime::FeedOverrideReset => 0x90,
            Realtime::FeedOverridePlus10 => 0x91,
            Realtime::FeedOverrideMinus10 => 0x92,
            Realtime::FeedOverridePlus1 => 0x93,
            Realtime::FeedOverrideMinus1 => 0x94,
            Realtime::RapidOverrideFull => 0x95,
            Realtime::RapidOverrideHalf => 0x96,
            Realtime::RapidOverrideQuarter => 0x97,
            Realtime::SpindleOverrideReset => 0x99,
            Realtime::SpindleOverridePlus10 => 0x9A,
            Realtime::SpindleOverrideMinus10 => 0x9B,
            Realtime::SpindleOverridePlus1 => 0x9C,
            Realtime::SpindleOverrideMinus1 => 0x9D,
            Realtime::SpindleStopToggle => 0x9E,
            Realtime::FloodToggle => 0xA0,
            Realtime::MistToggle => 0xA1,
        }
    }
}

/// The machine state at the head of a status report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MachineState {
    Idle,
    Run,
    Hold,
    Jog,
    Alarm,
    Door,
    Check,
    Home,
    Sleep,
    #[default]
    Unknown,
}

impl MachineState {
    fn parse(s: &str) -> Self {
        match s {
            "Idle" => Self::Idle,
            "Run" => Self::Run,
            "Hold" => Self::Hold,
            "Jog" => Self::Jog,
            "Alarm" => Self::Alarm,
            "Door" => Self::Door,
            "Check" => Self::Check,
            "Home" => Self::Home,
            "Sleep" => Self::Sleep,
            _ => Self::Unknown,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Run => "Run",
            Self::Hold => "Hold",
            Self::Jog => "Jog",
            Self::Alarm => "Alarm",
            Self::Door => "Door",
            Self::Check => "Check",
            Self::Home => "Home",
            Self::Sleep => "Sleep",
            Self::Unknown => "?",
        }
    }
}

/// A status report `<State|MPos:…|…>`. Positions are in the controller's report units; a
/// report carries either the machine or the work position and the other comes from the last
/// work coordinate offset (`WCO`), which GRBL sends only now and then.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Status {
    pub state: MachineState,
    /// `Hold:0`, `Door:1`: the sub-state.
    pub sub_state: Option<u8>,
    pub mpos: Option<[f64; 3]>,
    pub wpos: Option<[f64; 3]>,
    pub wco: Option<[f64; 3]>,
    /// `Bf:` free planner blocks and free RX bytes.
    pub buffer: Option<(u32, u32)>,
    /// `Ln:` the line number being executed (when the program numbers its lines).
    pub line_number: Option<u64>,
    pub feed: Option<f64>,
    pub spindle: Option<f64>,
    /// `Ov:` feed, rapid and spindle overrides, percent.
    pub overrides: Option<[u32; 3]>,
    /// `Pn:` input pins that are active (`XYZPDHRS`).
    pub pins: String,
    /// `A:` accessories on (`S`, `C`, `F`, `M`).
    pub accessories: String,
}

fn triple(s: &str) -> Option<[f64; 3]> {
    let mut it = s.split(',').map(|v| v.trim().parse::<f64>());
    let a = it.next()?.ok()?;
    let b = it.next()?.ok()?;
    let c = it.next()?.ok()?;
    Some([a, b, c])
}

impl Status {
    pub fn parse(line: &str) -> Option<Status> {
        let inner = line.strip_prefix('<')?.strip_suffix('>')?;
        let mut fields = inner.split('|');
        let head = fields.next()?;
        let (state, sub) = match head.split_once(':') {
            Some((s, n)) => (s, n.parse().ok()),
            None => (head, None),
        };
        let mut st = Status {
            state: MachineState::parse(state),
            sub_state: sub,
            ..Status::default()
        };
        for f in fields {
            let Some((k, v)) = f.split_once(':') else {
                continue;
            };
            match k {
                "MPos" => st.mpos = triple(v),
                "WPos" => st.wpos = triple(v),
                "WCO" => st.wco = triple(v),
                "Bf" => {
                    let mut it = v.split(',').filter_map(|x| x.parse().ok());
                    st.buffer = it.next().zip(it.next());
                }
                "Ln" => st.line_number = v.parse().ok(),
                "F" => st.feed = v.parse().ok(),
                "FS" => {
                    let mut it = v.split(',').filter_map(|x| x.parse().ok());
                    st.feed = it.next();
                    st.spindle = it.next();
                }
                "Ov" => {
                    let o: Vec<u32> = v.split(',').filter_map(|x| x.parse().ok()).collect();
                    if o.len() == 3 {
                        st.overrides = Some([o[0], o[1], o[2]]);
                    }
                }
                "Pn" => st.pins = v.to_string(),
                "A" => st.accessories = v.to_string(),
                _ => {}
            }
        }
        Some(st)
    }

    /// Fill in the position the report left out from the offset `wco`.
    pub fn complete(&mut self, wco: Option<[f64; 3]>) {
        let Some(o) = self.wco.or(wco) else { return };
        match (self.mpos, self.wpos) {
            (Some(m), None) => self.wpos = Some([m[0] - o[0], m[1] - o[1], m[2] - o[2]]),
            (None, Some(w)) => self.mpos = Some([w[0] + o[0], w[1] + o[1], w[2] + o[2]]),
            _ => {}
        }
    }
}

/// One line from GRBL.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    Ok,
    Error(u16),
    Alarm(u16),
    Status(Status),
    /// The welcome banner after a reset: `Grbl 1.1h ['$' for help]`, `GrblHAL 1.1f …`.
    Welcome {
        text: String,
        hal: bool,
    },
    /// `[MSG:…]`
    Message(String),
    /// `[PRB:x,y,z:1]`
    Probe {
        position: [f64; 3],
        success: bool,
    },
    /// `[VER:1.1h.20190830:]`
    Version(String),
    /// `[OPT:VL,15,128]`: option letters, planner blocks, RX buffer bytes.
    Options {
        flags: String,
        blocks: Option<u32>,
        rx_bytes: Option<usize>,
    },
    /// Any other `[…]` feedback (`[GC:…]`, `[HLP:…]`, parameters).
    Feedback(String),
    /// `$x=val` setting lines and anything else.
    Other(String),
}

impl Response {
    pub fn parse(line: &str) -> Response {
        let line = line.trim();
        if line == "ok" {
            return Response::Ok;
        }
        if let Some(n) = line.strip_prefix("error:") {
            return Response::Error(n.trim().parse().unwrap_or(0));
        }
        if let Some(n) = line.strip_prefix("ALARM:") {
            return Response::Alarm(n.trim().parse().unwrap_or(0));
        }
        if line.starts_with('<') {
            if let Some(s) = Status::parse(line) {
                return Response::Status(s);
            }
            return Response::Other(line.to_string());
        }
        if line.starts_with("Grbl ") || line.starts_with("GrblHAL ") {
            return Response::Welcome {
                text: line.to_string(),
                hal: line.starts_with("GrblHAL"),
            };
        }
        if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if let Some(m) = inner.strip_prefix("MSG:") {
                return Response::Message(m.to_string());
            }
            if let Some(v) = inner.strip_prefix("VER:") {
                return Response::Version(v.trim_end_matches(':').to_string());
            }
            if let Some(o) = inner.strip_prefix("OPT:") {
                let parts: Vec<&str> = o.split(',').collect();
                return Response::Options {
                    flags: parts.first().copied().unwrap_or("").to_string(),
                    blocks: parts.get(1).and_then(|v| v.trim().parse().ok()),
                    rx_bytes: parts.get(2).and_then(|v| v.trim().parse().ok()),
                };
            }
            if let Some(p) = inner.strip_prefix("PRB:") {
                let (pos, ok) = p.rsplit_once(':').unwrap_or((p, "0"));
                if let Some(position) = triple(pos) {
                    return Response::Probe {
                        position,
                        success: ok == "1",
                    };
                }
            }
            return Response::Feedback(inner.to_string());
        }
        Response::Other(line.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_time_bytes_are_grbls() {
        let expect = [
            (Realtime::StatusQuery, 0x3F),
            (Realtime::FeedHold, 0x21),
            (Realtime::CycleStart, 0x7E),
            (Realtime::SoftReset, 0x18),
            (Realtime::SafetyDoor, 0x84),
            (Realtime::JogCancel, 0x85),
            (Realtime::FeedOverrideReset, 0x90),
            (Realtime::FeedOverridePlus10, 0x91),
            (Realtime::FeedOverrideMinus10, 0x92),
            (Realtime::FeedOverridePlus1, 0x93),
            (Realtime::FeedOverrideMinus1, 0x94),
            (Realtime::RapidOverrideFull, 0x95),
            (Realtime::RapidOverrideHalf, 0x96),
            (Realtime::RapidOverrideQuarter, 0x97),
            (Realtime::SpindleOverrideReset, 0x99),
            (Realtime::SpindleOverridePlus10, 0x9A),
            (Realtime::SpindleOverrideMinus10, 0x9B),
            (Realtime::SpindleOverridePlus1, 0x9C),
            (Realtime::SpindleOverrideMinus1, 0x9D),
            (Realtime::SpindleStopToggle, 0x9E),
            (Realtime::FloodToggle, 0xA0),
            (Realtime::MistToggle, 0xA1),
        ];
        for (rt, b) in expect {
            assert_eq!(rt.byte(), b, "{rt:?}");
        }
    }

    #[test]
    fn status_reports_parse_with_either_position() {
        let s = Status::parse(
            "<Hold:0|MPos:10.000,-2.500,3.125|Bf:15,128|Ln:42|FS:500,8000|WCO:1.000,2.000,3.000|Ov:100,50,120|Pn:XZ|A:SF>",
        )
        .unwrap();
        assert_eq!(s.state, MachineState::Hold);
        assert_eq!(s.sub_state, Some(0));
        assert_eq!(s.buffer, Some((15, 128)));
        assert_eq!(s.line_number, Some(42));
        assert_eq!(s.feed, Some(500.0));
        assert_eq!(s.spindle, Some(8000.0));
        assert_eq!(s.overrides, Some([100, 50, 120]));
        assert_eq!(s.pins, "XZ");
        assert_eq!(s.accessories, "SF");
        let mut s = s;
        s.complete(None);
        assert_eq!(s.wpos, Some([9.0, -4.5, 0.125]));
        let mut w = Status::parse("<Idle|WPos:1.000,1.000,1.000|F:0>").unwrap();
        w.complete(Some([1.0, 2.0, 3.0]));
        assert_eq!(w.mpos, Some([2.0, 3.0, 4.0]));
        assert_eq!(w.state, MachineState::Idle);
    }

    #[test]
    fn every_kind_of_line_is_told_apart() {
        assert_eq!(Response::parse("ok\r"), Response::Ok);
        assert_eq!(Response::parse("error:20"), Response::Error(20));
        assert_eq!(Response::parse("ALARM:3"), Response::Alarm(3));
        assert!(matches!(
            Response::parse("Grbl 1.1h ['$' for help]"),
            Response::Welcome { hal: false, .. }
        ));
        assert!(matches!(
            Response::parse("GrblHAL 1.1f ['$' or '$HELP' for help]"),
            Response::Welcome { hal: true, .. }
        ));
        assert_eq!(
            Response::parse("[MSG:'$H'|'$X' to unlock]"),
            Response::Message("'$H'|'$X' to unlock".into())
        );
        assert_eq!(
            Response::parse("[OPT:VL,15,128]"),
            Response::Options {
                flags: "VL".into(),
                blocks: Some(15),
                rx_bytes: Some(128)
            }
        );
        assert_eq!(
            Response::parse("[VER:1.1h.20190830:]"),
            Response::Version("1.1h.20190830".into())
        );
        assert_eq!(
            Response::parse("[PRB:1.000,2.000,-0.512:1]"),
            Response::Probe {
                position: [1.0, 2.0, -0.512],
                success: true
            }
        );
        assert_eq!(
            Response::parse("[GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0]"),
            Response::Feedback("GC:G0 G54 G17 G21 G90 G94 M5 M9 T0 F0 S0".into())
        );
    }
}
